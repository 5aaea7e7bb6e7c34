"""The control plane's own OpenAPI document."""

from __future__ import annotations

import yaml
from openapi_spec_validator import validate

from .conftest import CONTROL_DOCUMENT


def test_the_control_document_is_valid_openapi_3_0_3() -> None:
    document = yaml.safe_load(CONTROL_DOCUMENT.read_text(encoding="utf-8"))
    validate(document)
    assert document["openapi"] == "3.0.3"


def test_the_control_document_asks_for_no_coder_session_token_only_its_optional_own() -> None:
    document = yaml.safe_load(CONTROL_DOCUMENT.read_text(encoding="utf-8"))
    # Anonymous first (no --control-token), else the control plane's own header; never Coder's.
    assert document["security"] == [{}, {"MockControlToken": []}]
    assert document["components"]["securitySchemes"] == {
        "MockControlToken": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Mock-Control-Token",
            "description": document["components"]["securitySchemes"]["MockControlToken"]["description"],
        }
    }
    assert all("security" not in op for path in document["paths"].values() for op in path.values())
