"""`chats-mock` imports Connexion and uvicorn without what the first answer does not need, and every
path that needs it later still finds it whole (checked in a process of its own: imports are global)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

import pytest
import yaml

CHECKOUT = Path(__file__).resolve().parents[1]

_LATER_USES = textwrap.dedent(
    """
    import sys
    from mockserver.command.startup import import_frameworks_lazily

    import_frameworks_lazily()
    deferred = ("jinja2", "werkzeug", "werkzeug.wsgi", "httpx", "requests", "starlette.testclient")
    deferred += ("uvicorn.main", "click", "importlib.metadata", "http.client", "urllib.request", "websockets")
    print("loaded at import:", sorted(m for m in deferred if m in sys.modules))
    import http
    from starlette.exceptions import HTTPException  # its detail, by default, is http.client's phrase

    assert HTTPException(405).detail == "Method Not Allowed"
    assert http.client is sys.modules["http.client"] and http.client.HTTPConnection
    import urllib
    import connexion.json_schema  # reads a file `$ref` with urllib.request.url2pathname

    assert urllib.request.url2pathname("/a%20b") == "/a b"
    assert urllib.request is sys.modules["urllib.request"] and urllib.request.urlopen
    import uvicorn
    from uvicorn.server import Server
    assert uvicorn.Server is Server and uvicorn.Config.__module__ == "uvicorn.config"
    assert not [m for m in sys.modules if m.startswith("werkzeug.")], "werkzeug.* left behind"

    from pathlib import Path
    from starlette.testclient import TestClient
    from mockserver import Settings, create_app

    with TestClient(create_app(Settings(api="current"))) as client:
        assert client.get("/api/v2/chats").status_code == 401
        print("first answer, loaded:", sorted(m for m in deferred if m in sys.modules))

    control = Path(sys.argv[1]) / "openapi" / "control.yaml"  # read as a template: Jinja
    settings = Settings(api="current", control=True, control_document=control)
    with TestClient(create_app(settings)) as client:
        page = client.get("/api/v2/ui/")
        assert page.status_code == 200 and "swagger-ui" in page.text, page.status_code
        assert client.get("/api/v2/openapi.json").json()["openapi"] == "3.0.3"
        assert client.get("/__mock/openapi.json").status_code == 200
        assert client.get("/__mock/ui/").status_code == 200

    import werkzeug
    import werkzeug.local
    import werkzeug.exceptions
    import werkzeug.wsgi
    import uvicorn.main
    import importlib.metadata
    import click

    assert werkzeug.wsgi.ClosingIterator.__module__ == "werkzeug.wsgi"
    assert isinstance(uvicorn.main.main, click.Command)  # uvicorn's command line
    assert importlib.metadata.version("uvicorn") == uvicorn.__version__

    assert werkzeug.Request.__module__ == "werkzeug.wrappers.request"
    assert werkzeug.local.LocalProxy and werkzeug.exceptions.NotFound.code == 404
    from connexion.context import request  # Connexion's own proxy still works outside a request
    try:
        request.method
    except RuntimeError as error:
        assert "outside of operation context" in str(error)
    else:
        raise AssertionError("the proxy answered outside a request")
    print("ok")
    """
)


def test_the_deferred_modules_load_whole_when_a_later_path_needs_them(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _LATER_USES, str(CHECKOUT)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CHECKOUT,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "loaded at import: []"
    # The app is built and its first answer given without them (TestClient, the httpx it is
    # built on and the click httpx's command line imports are the test's; http.client and
    # urllib.request, its own checks of them).
    assert (
        lines[1]
        == "first answer, loaded: ['click', 'http.client', 'httpx', 'starlette.testclient', 'urllib.request']"
    ), lines[1]
    assert lines[-1] == "ok"


def _tree(node: yaml.Node) -> object:
    """What the scenario reader uses of a node: its tag, value and line."""
    if isinstance(node, yaml.ScalarNode):
        return (node.tag, node.value, node.start_mark.line)
    if isinstance(node, yaml.SequenceNode):
        return (node.tag, node.start_mark.line, [_tree(item) for item in node.value])
    return (node.tag, node.start_mark.line, [(_tree(k), _tree(v)) for k, v in node.value])


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML without libyaml")
def test_libyaml_reads_the_built_in_scenarios_as_pyyaml_does() -> None:
    folder = resources.files("mockserver.core") / "scenario_library"
    texts = [f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".yaml")]
    assert len(texts) >= 9
    for text in texts:
        assert _tree(yaml.compose(text, Loader=yaml.CSafeLoader)) == _tree(
            yaml.compose(text, Loader=yaml.SafeLoader)
        )
