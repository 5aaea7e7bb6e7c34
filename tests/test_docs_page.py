"""The docs page parser reads Coder's page format by structure, not by line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.spec.docs_page import DocsPageError, Link, SchemaRow, parse_docs_page

SEED_PAGE = Path(__file__).resolve().parent.parent / "openapi" / "chats-api-docs.md"

# A page of another tag, in the same format, with what the Chats page lacks: a query
# parameter, nested `»»` rows, an escaped pipe, enumerated values, no authentication.
OTHER_PAGE = """\
# Widgets

## List widgets

### Code samples

```shell
# Example request using curl
curl -X GET http://coder-server:8080/api/v2/widgets?q=string \\
  -H 'Accept: application/json'
```

`GET /widgets`

### Parameters

| Name | In    | Type   | Required | Description       |
|------|-------|--------|----------|-------------------|
| `q`  | query | string | false    | Search a \\| b    |

### Example responses

> 200 Response

```json
[{"name": "string", "size": {"unit": "cm"}}]
```

### Responses

| Status | Meaning | Description | Schema |
|---|---|---|---|
| 200 | [OK](https://x/#ok) | OK | array of [codersdk.Widget](s.md#w) |

<h3 id="list-widgets-responseschema">Response Schema</h3>

Status Code **200**

| Name           | Type   | Required | Restrictions | Description |
|----------------|--------|----------|--------------|-------------|
| `[array item]` | array  | false    |              |             |
| `» name`       | string | false    |              |             |
| `» size`       | object | false    |              |             |
| `»» unit`      | string | false    |              |             |

#### Enumerated Values

| Property | Value |
|----------|-------|
| `unit`   | `cm`  |
"""


def test_seed_page_reads_four_operations_in_page_order() -> None:
    page = parse_docs_page(SEED_PAGE.read_text(encoding="utf-8"))
    assert page.tag == "Chats"
    assert [(op.method, op.path) for op in page.operations] == [
        ("POST", "/chats"),
        ("GET", "/chats/{chat}"),
        ("GET", "/chats/{chat}/messages"),
        ("POST", "/chats/{chat}/messages"),
    ]
    create = page.operations[0]
    assert create.curl is not None
    assert create.curl.url == "http://coder-server:8080/api/v2/chats"
    assert create.curl.header_names() == {"Content-Type", "Accept", "Coder-Session-Token"}
    assert create.parameters[0].schema_link == Link(
        "codersdk.CreateChatRequest", "schemas.md#codersdkcreatechatrequest"
    )
    assert all(op.authenticated for op in page.operations)


def test_other_page_in_the_same_format_reads() -> None:
    page = parse_docs_page(OTHER_PAGE)
    (operation,) = page.operations
    assert page.tag == "Widgets"
    assert operation.parameters[0].location == "query"
    assert operation.parameters[0].description == "Search a | b"
    assert operation.examples[0].value == [{"name": "string", "size": {"unit": "cm"}}]
    assert operation.responses[0].schema_text == "array of codersdk.Widget"
    (schema,) = operation.response_schemas
    assert schema.status == "200"
    assert schema.rows[-1] == SchemaRow("unit", 2, "string", False, "", "")
    assert schema.enumerated_values == (("unit", "cm"),)
    assert not operation.authenticated


def test_page_without_tag_heading_is_rejected() -> None:
    with pytest.raises(DocsPageError, match="no `# Tag` heading"):
        parse_docs_page("## Get chat\n\n`GET /chats/{chat}`\n")


def test_invalid_json_example_is_rejected_with_its_operation() -> None:
    text = SEED_PAGE.read_text(encoding="utf-8").replace('"model": "string",', '"model": string,', 1)
    with pytest.raises(DocsPageError, match=r"## Create chat, line \d+: invalid JSON example"):
        parse_docs_page(text)
