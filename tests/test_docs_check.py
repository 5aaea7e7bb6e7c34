"""check-docs passes on Coder's seed page and names each edit of the page or the document."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.spec.commands import check_docs_command, validate_command
from mockserver.spec.docs_check import check_docs, docs_example, docs_type
from mockserver.spec.docs_page import parse_docs_page

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "openapi" / "chats.yaml"
SEED_PAGE = ROOT / "openapi" / "chats-api-docs.md"


@pytest.fixture
def document() -> dict[str, Any]:
    """A fresh copy of the document, safe to mutate."""
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


def run_check_docs(
    page_text: str, tmp_path: Path, document: dict[str, Any] | None = None
) -> tuple[int, list[str]]:
    """Run `spec check-docs` on a page text (and a document, default the real one)."""
    page_path = tmp_path / "page.md"
    page_path.write_text(page_text, encoding="utf-8")
    document_path = DOCUMENT
    if document is not None:
        document_path = tmp_path / "document.yaml"
        document_path.write_text(yaml.safe_dump(document), encoding="utf-8")
    out = io.StringIO()
    args = argparse.Namespace(docs=page_path, document=document_path)
    code = check_docs_command(args, out)
    return code, out.getvalue().splitlines()


def edited(old: str, new: str) -> str:
    """The seed page with its first `old` replaced by `new` (which must be there)."""
    text = SEED_PAGE.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1)


def test_seed_page_matches_document(tmp_path: Path) -> None:
    code, lines = run_check_docs(SEED_PAGE.read_text(encoding="utf-8"), tmp_path)
    assert (code, len(lines)) == (0, 1)
    assert "all 4 operations match" in lines[0]


def test_check_docs_without_a_page_checks_the_packaged_one() -> None:
    out = io.StringIO()
    code = check_docs_command(argparse.Namespace(docs=None, document=None), out)
    assert (code, out.getvalue()) == (0, f"{SEED_PAGE}: all 4 operations match {DOCUMENT}\n")


# One edit of the seed page each, and the exact lines check-docs then prints (it exits 1).
PAGE_EDITS = [
    pytest.param(
        '  "title": "string",\n  "updated_at"',
        '  "updated_at"',
        ['Create chat: 201 example: $.title: docs show no such key, document renders "string"'],
        id="field removed from example",
    ),
    pytest.param(
        '"valid": true',
        '"valid": 1',
        ["Create chat: 201 example: $.workspace_id.valid: docs show 1, document renders true"],
        id="field retyped in example",
    ),
    pytest.param(
        '"workspace_id": "0967198e-ec7b',
        '"workspace_id": "1967198e-ec7b',
        [
            "Create chat: body example: $.workspace_id: docs show "
            '"1967198e-ec7b-4c6b-b4d3-f71244cadbe9", document renders '
            '"0967198e-ec7b-4c6b-b4d3-f71244cadbe9"'
        ],
        id="example value changed",
    ),
    pytest.param(
        # The first `chat` row of the page is Get chat's.
        "| `chat` | path | string | true     | Chat ID     |",
        "| `chat_id` | path | string | true     | Chat ID     |",
        [
            "Get chat: parameter chat_id (path): docs show it, document has no such parameter",
            "Get chat: parameter chat (path): docs show nothing, document has it",
        ],
        id="parameter renamed",
    ),
    pytest.param(
        "| `» id`         | integer      |",
        "| `» id`         | string       |",
        ["List chat messages: response schema 200: » id type: docs show 'string', document has 'integer'"],
        id="response schema row retyped",
    ),
    pytest.param(
        "## Get chat\n",
        "## Get a chat\n",
        ["Get a chat: summary: docs show 'Get a chat', document has 'Get chat'"],
        id="summary changed",
    ),
    pytest.param(
        "| true     | Create chat request |",
        "| true     | Create a chat       |",
        [
            "Create chat: parameter body (body) description: docs show 'Create a chat', "
            "document has 'Create chat request'"
        ],
        id="body parameter description changed",
    ),
    pytest.param(
        "chats \\\n  -H 'Content-Type: application/json' \\\n",
        "chats \\\n",
        ["Create chat: curl header Content-Type: docs show nothing, document implies 'application/json'"],
        id="curl header dropped",
    ),
    pytest.param(
        "(schemas.md#codersdkchat)",
        "(schemas.md#codersdkchats)",
        [
            "Create chat: response 201 schema link: docs show schemas.md#codersdkchats, "
            "document implies schemas.md#codersdkchat for codersdk.Chat"
        ],
        id="schema link anchor changed",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), PAGE_EDITS)
def test_page_edit_is_named(old: str, new: str, expected: list[str], tmp_path: Path) -> None:
    code, lines = run_check_docs(edited(old, new), tmp_path)
    assert code == 1
    assert lines == expected


def test_status_changed_in_responses_table_is_named(tmp_path: Path) -> None:
    page = edited("| 201    | [Created]", "| 202    | [Created]")
    code, lines = run_check_docs(page, tmp_path)
    assert code == 1
    assert lines[0].startswith("Create chat: response 202: docs show it, document has no such status")
    # The document's 201 is now one the page does not show.
    assert lines[1:] == ["Create chat: response 201: docs show nothing, document has it"]


def test_path_changed_is_named(tmp_path: Path) -> None:
    page = edited("`GET /chats/{chat}`", "`GET /chat/{chat}`")
    code, lines = run_check_docs(page, tmp_path)
    assert code == 1
    assert "Get chat: operation: docs show GET /chat/{chat}, document has none" in lines
    # The document's operation the page no longer shows is named too.
    assert "Get chat: operation: docs show nothing, document has GET /chats/{chat} tagged Chats" in lines


def test_operation_section_removed_is_named(tmp_path: Path) -> None:
    text = SEED_PAGE.read_text(encoding="utf-8")
    start = text.index("## Get chat\n")
    end = text.index("## List chat messages\n")
    code, lines = run_check_docs(text[:start] + text[end:], tmp_path)
    assert code == 1
    assert lines == ["Get chat: operation: docs show nothing, document has GET /chats/{chat} tagged Chats"]


def test_authentication_sentence_removed_is_named(tmp_path: Path) -> None:
    text = SEED_PAGE.read_text(encoding="utf-8")
    sentence = "To perform this operation, you must be authenticated. [Learn more](authentication.md)."
    last = text.rindex(sentence)
    code, lines = run_check_docs(text[:last] + text[last + len(sentence) :], tmp_path)
    assert code == 1
    assert lines == [
        "Create chat message and run agent loop: authentication: docs show it not required, "
        "document has security required"
    ]


def test_property_deleted_from_document_fails_seed_page(tmp_path: Path, document: dict[str, Any]) -> None:
    del document["components"]["schemas"]["codersdk.Chat"]["properties"]["provider"]
    code, lines = run_check_docs(SEED_PAGE.read_text(encoding="utf-8"), tmp_path, document)
    assert code == 1
    assert lines == [
        'Create chat: 201 example: $.provider: docs show "string", document renders no such key',
        'Get chat: 200 example: $.provider: docs show "string", document renders no such key',
    ]


def test_property_retyped_in_document_fails_seed_page(tmp_path: Path, document: dict[str, Any]) -> None:
    chat_id = document["components"]["schemas"]["codersdk.ChatMessage"]["properties"]["chat_id"]
    chat_id["type"] = "integer"
    del chat_id["format"]
    code, lines = run_check_docs(SEED_PAGE.read_text(encoding="utf-8"), tmp_path, document)
    assert code == 1
    assert lines == [
        "List chat messages: 200 example: $[0].chat_id: docs show "
        '"efc9fe20-a1e5-4a8c-9c48-f1b30c1e4f86", document renders 0',
        "List chat messages: response schema 200: » chat_id type: docs show 'string(uuid)', "
        "document has 'integer'",
        "Create chat message and run agent loop: 201 example: $.message.chat_id: docs show "
        '"efc9fe20-a1e5-4a8c-9c48-f1b30c1e4f86", document renders 0',
    ]


def test_docs_annotation_removed_from_document_fails_seed_page(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    del document["components"]["schemas"]["codersdk.Chat"]["properties"]["workspace_id"]["x-coder-docs"]
    code, lines = run_check_docs(SEED_PAGE.read_text(encoding="utf-8"), tmp_path, document)
    assert code == 1
    assert lines[0] == (
        'Create chat: 201 example: $.workspace_id: docs show {"uuid": "string", "valid": true}, '
        'document renders "0967198e-ec7b-4c6b-b4d3-f71244cadbe9"'
    )
    assert len(lines) == 2


def test_required_flag_in_document_fails_response_schema_row(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    document["components"]["schemas"]["codersdk.ChatMessage"]["x-coder-docs"]["required"] = ["id"]
    code, lines = run_check_docs(SEED_PAGE.read_text(encoding="utf-8"), tmp_path, document)
    assert code == 1
    assert lines == [
        "List chat messages: response schema 200: » id required: docs show false, document has true"
    ]


def test_stale_media_type_annotation_is_a_cross_check_difference(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    media = document["paths"]["/chats"]["post"]["requestBody"]["content"]["application/json"]
    media["x-coder-docs"]["example"]["model"] = "gpt"
    code, lines = run_check_docs(SEED_PAGE.read_text(encoding="utf-8"), tmp_path, document)
    assert code == 1
    assert lines == [
        "Create chat: body example: $.model (media-type x-coder-docs.example, cross-checked): "
        'docs show "gpt", document renders "string" from the schema'
    ]


def test_undocumented_response_in_document_without_annotation_fails(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    document["paths"]["/chats/{chat}"]["get"]["responses"]["500"] = {"description": "Oops"}
    code, lines = run_check_docs(SEED_PAGE.read_text(encoding="utf-8"), tmp_path, document)
    assert code == 1
    assert lines == ["Get chat: response 500: docs show nothing, document has it"]


def test_docs_example_renders_the_swaggo_way(document: dict[str, Any]) -> None:
    schema = {"$ref": "#/components/schemas/codersdk.ChatMessage"}
    assert docs_example(document, schema) == {
        "chat_id": "efc9fe20-a1e5-4a8c-9c48-f1b30c1e4f86",
        "content": [0],
        "created_at": "string",
        "id": 0,
        "role": "string",
    }
    assert list(docs_example(document, schema)) == sorted(docs_example(document, schema))


def test_docs_type_shows_string_formats_but_not_integer_formats(document: dict[str, Any]) -> None:
    assert docs_type(document, {"type": "string", "format": "uuid"}) == "string(uuid)"
    assert docs_type(document, {"type": "integer", "format": "int64"}) == "integer"
    assert docs_type(document, {"$ref": "#/components/schemas/codersdk.Chat"}) == "codersdk.Chat"
    assert docs_type(document, {"$ref": "#/components/schemas/chats.Envelope"}) == "array"


def test_check_docs_finds_no_difference_on_seed_page(document: dict[str, Any]) -> None:
    page = parse_docs_page(SEED_PAGE.read_text(encoding="utf-8"))
    assert check_docs(page, document) == []


def test_validate_accepts_the_document() -> None:
    out = io.StringIO()
    assert validate_command(argparse.Namespace(path=DOCUMENT), out) == 0
    assert out.getvalue() == f"{DOCUMENT}: valid OpenAPI 3.0.3\n"


def test_validate_rejects_a_broken_copy_with_one_line_per_error(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    del document["info"]["title"]
    document["paths"]["/chats"]["post"]["responses"] = "none"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")
    out = io.StringIO()
    assert validate_command(argparse.Namespace(path=broken), out) == 1
    assert out.getvalue().splitlines() == [
        f'{broken}: #/info: "title" is a required property',
        f'{broken}: #/paths/~1chats/post/responses: "none" is not of type "object"',
        # openapi-spec-validator's walkers then crash on the string; the command says so.
        f"{broken}: validator stopped on a malformed node: KeyError('responses')",
    ]


def test_validate_reports_unparseable_yaml_as_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.3\nexample: {content: Why?}\n", encoding="utf-8")
    out = io.StringIO()
    assert validate_command(argparse.Namespace(path=broken), out) == 1
    assert len(out.getvalue().splitlines()) == 1


def test_table_under_renamed_heading_is_not_silently_skipped(tmp_path: Path) -> None:
    page = edited("Response Schema</h3>", "Response Schemas</h3>")
    code, lines = run_check_docs(page, tmp_path)
    assert code == 1
    assert len(lines) == 1
    assert "a table under 'Response Schemas'" in lines[0]
