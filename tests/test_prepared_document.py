"""serve keeps each document prepared for Connexion between starts, and reads it back only when
it is the same document, read by the same code; anything else is prepared afresh."""

from __future__ import annotations

import marshal
import os
from pathlib import Path
from typing import Any

import coder_chats_openapi
import pytest
from connexion.exceptions import InvalidSpecification
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.edge.prepared_document import _digest, default_cache_dir, prepare_document

TOKEN = {"Coder-Session-Token": "alice00001-AliceDemoSessionSecret"}
CREATE = {
    "organization_id": "7c60d51f-b44e-4682-87d6-449835ea4de6",
    "content": [{"type": "text", "text": "hello"}],
}


def _same(a: Any, b: Any, seen: set[tuple[int, int]] | None = None) -> bool:
    """Deep equality that follows a cycle once (Connexion's inlined `$ref`s make some)."""
    seen = set() if seen is None else seen
    if isinstance(a, dict) and isinstance(b, dict):
        if (id(a), id(b)) in seen:
            return True
        seen.add((id(a), id(b)))
        return a.keys() == b.keys() and all(_same(a[k], b[k], seen) for k in a)
    if isinstance(a, list | tuple) and type(a) is type(b):
        return len(a) == len(b) and all(_same(x, y, seen) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("source", [coder_chats_openapi.document(), coder_chats_openapi.current_document()])
def test_a_kept_document_is_read_back_as_connexion_prepared_it(source: Any, tmp_path: Path) -> None:
    fresh = prepare_document(source)
    first = prepare_document(source, tmp_path)
    [kept] = tmp_path.iterdir()
    again = prepare_document(source, tmp_path)
    for prepared in (first, again):
        assert _same(prepared.document, fresh.document)
        assert type(prepared.specification) is type(fresh.specification)
        assert vars(prepared.specification).keys() == vars(fresh.specification).keys()
        for name, value in vars(fresh.specification).items():
            assert _same(vars(prepared.specification)[name], value), name
    assert again.specification is not first.specification
    assert list(tmp_path.iterdir()) == [kept]


def test_the_app_over_a_kept_document_answers_as_over_a_fresh_one(tmp_path: Path) -> None:
    answers = []
    for _ in range(2):  # the first start keeps the document, the second reads it
        settings = Settings(api="current", document_cache=tmp_path)
        with TestClient(create_app(settings)) as client:
            created = client.post("/api/v2/chats", headers=TOKEN, json=CREATE)
            refused = client.post("/api/v2/chats", headers=TOKEN, json={**CREATE, "content": 5})
            answers.append(
                (
                    created.status_code,
                    sorted(created.json()),
                    refused.status_code,
                    refused.json(),
                    client.get("/api/v2/openapi.json").json()["info"],
                )
            )
    assert len(list(tmp_path.iterdir())) == 1
    assert answers[0] == answers[1]
    assert (answers[0][0], answers[0][2]) == (201, 400)


def test_a_document_that_is_not_valid_openapi_is_never_kept(tmp_path: Path) -> None:
    document = tmp_path / "bad.yaml"
    document.write_text("openapi: 3.0.3\ninfo: {title: t}\npaths: {}\n")  # info.version is required
    cache = tmp_path / "cache"
    for _ in range(2):
        with pytest.raises(InvalidSpecification):
            prepare_document(document, cache)
    assert not cache.exists()


def test_a_changed_document_is_prepared_afresh(tmp_path: Path) -> None:
    document = tmp_path / "chats.yaml"
    text = coder_chats_openapi.document().read_text("utf-8")
    document.write_text(text)
    cache = tmp_path / "cache"
    prepare_document(document, cache)
    document.write_text(text.replace("title: ", "title: Changed ", 1))
    assert prepare_document(document, cache).document["info"]["title"].startswith("Changed ")
    assert len(list(cache.iterdir())) == 2


def test_a_torn_or_garbled_file_is_prepared_afresh_and_written_again(tmp_path: Path) -> None:
    source = coder_chats_openapi.document()
    prepare_document(source, tmp_path)
    [kept] = tmp_path.iterdir()
    whole = kept.read_bytes()
    kept.write_bytes(whole[: len(whole) // 2])
    assert prepare_document(source, tmp_path).document["openapi"] == "3.0.3"
    # Written whole again (marshal's bytes depend on how shared each object is: compare what they hold).
    assert _same(marshal.loads(kept.read_bytes()), marshal.loads(whole))
    kept.write_bytes(b"\x00 not marshal at all")
    assert prepare_document(source, tmp_path).document["openapi"] == "3.0.3"


def test_an_unwritable_cache_directory_only_costs_the_shortcut(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    prepared = prepare_document(coder_chats_openapi.document(), blocked / "documents")
    assert prepared.document["openapi"] == "3.0.3"
    assert blocked.is_file()


def test_only_a_file_this_user_wrote_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = coder_chats_openapi.document()
    prepare_document(source, tmp_path)
    [kept] = tmp_path.iterdir()
    form, document, attributes = marshal.loads(kept.read_bytes())
    kept.write_bytes(marshal.dumps((form, {**document, "openapi": "planted"}, attributes)))
    assert prepare_document(source, tmp_path).document["openapi"] == "planted"  # the file is what is read
    monkeypatch.setattr(os, "getuid", lambda: kept.stat().st_uid + 1)
    assert prepare_document(source, tmp_path).document["openapi"] == "3.0.3"


def test_serve_keeps_documents_in_the_users_cache_directory() -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": "/c", "HOME": "/h"}) == Path("/c/coder-chats-mock/documents")
    assert default_cache_dir({"HOME": "/h"}) == Path("/h/.cache/coder-chats-mock/documents")
    assert default_cache_dir({"XDG_CACHE_HOME": "relative", "HOME": "/h"}) is None
    assert default_cache_dir({}) is None


def test_another_version_or_an_edit_of_the_code_that_reads_it_names_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    (site / "reader_stand_in").mkdir(parents=True)
    code = site / "reader_stand_in" / "__init__.py"
    code.write_text("")
    installed = site / "reader_stand_in-1.0.dist-info"
    installed.mkdir()
    monkeypatch.syspath_prepend(str(site))
    readers = ("reader_stand_in", "yaml")
    names = [_digest(b"openapi: 3.0.3", readers)]
    assert _digest(b"openapi: 3.0.3", readers) == names[0]  # the same bytes, read by the same code
    installed.rename(site / "reader_stand_in-1.1.dist-info")  # an upgrade
    names.append(_digest(b"openapi: 3.0.3", readers))
    code.write_text("# edited\n")  # an edit in place
    names.append(_digest(b"openapi: 3.0.3", readers))
    os.utime(code, ns=(1, 1))  # the same size, another time: a reinstall
    names.append(_digest(b"openapi: 3.0.3", readers))
    names.append(_digest(b"openapi: 3.0.4", readers))  # other bytes
    assert len(set(names)) == len(names)
