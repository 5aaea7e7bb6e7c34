"""The dashboard shell: what Coder's web UI asks around its Agents page, as the demo users see it.

Every operation of openapi/current/dashboard.yaml answers under each prefix it names (and only
there) with a body its schema accepts; refusals come in Coder's body (openapi/current/DASHBOARD.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import coder_chats_openapi
import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from starlette.testclient import TestClient

from mockserver import DEMO_TOKENS, create_app
from mockserver.command.cli import build_parser
from tests.app_settings import app_settings
from tests.npm_tools import ROOT, TOOLS, NpmTools

ALICE = {"Coder-Session-Token": DEMO_TOKENS["alice"]}
DOCUMENT: dict[str, Any] = yaml.safe_load(coder_chats_openapi.current_dashboard_document().read_text("utf-8"))
PREFIXES = ("/api/v2", "/api/experimental")
VALUES = {"user": "me", "organization": "coder"}
AUTHCHECK = {
    "checks": {
        "createChat": {
            "object": {"resource_type": "chat", "any_org": True, "owner_id": "me"},
            "action": "create",
        },
        "viewDeploymentConfig": {"object": {"resource_type": "deployment_config"}, "action": "read"},
    }
}


def _operations() -> Iterator[tuple[str, str, str]]:
    """(method, prefix, path) of every documented operation, once per server it names."""
    for template, item in DOCUMENT["paths"].items():
        servers = [s["url"].rstrip("/") for s in item.get("servers", DOCUMENT["servers"])]
        path = template.format(**VALUES)
        for method in ("get", "post"):
            if method in item:
                for prefix in servers:
                    yield method.upper(), prefix, path


OPERATIONS = sorted(_operations())


def _schema_of(template: str, method: str, status: str) -> dict[str, Any]:
    response = DOCUMENT["paths"][template][method]["responses"][status]
    if "$ref" in response:
        response = DOCUMENT["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    (content,) = response["content"].values()
    return {**content["schema"], "components": DOCUMENT["components"]}


def _template(path: str) -> str:
    for template in DOCUMENT["paths"]:
        if template.format(**VALUES) == path:
            return str(template)
    raise KeyError(path)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    # One app for the module: the dashboard's answers are read-only.
    with TestClient(create_app(app_settings(api="current"))) as test_client:
        yield test_client


def _call(client: TestClient, method: str, url: str, **kwargs: Any) -> Any:
    body = AUTHCHECK if method == "POST" else None
    return client.request(method, url, json=body, **kwargs)


@pytest.mark.parametrize(("method", "prefix", "path"), OPERATIONS)
def test_every_documented_route_answers_the_demo_user_with_its_documented_shape(
    client: TestClient, method: str, prefix: str, path: str
) -> None:
    response = _call(client, method, prefix + path, headers=ALICE)

    assert response.status_code == 200, response.text
    schema = _schema_of(_template(path), method.lower(), "200")
    if response.headers["content-type"].startswith("application/json"):
        OAS30Validator(schema).validate(response.json())
    else:
        OAS30Validator(schema).validate(response.text)


@pytest.mark.parametrize(("method", "prefix", "path"), [op for op in OPERATIONS if op[1] in PREFIXES])
def test_a_route_is_not_found_under_the_prefix_coderd_does_not_mount_it_on(
    client: TestClient, method: str, prefix: str, path: str
) -> None:
    served = {p for m, p, q in OPERATIONS if (m, q) == (method, path)}
    for other in set(PREFIXES) - served:
        response = _call(client, method, other + path, headers=ALICE)
        assert (response.status_code, response.json()) == (404, {"message": "Route not found."})


@pytest.mark.parametrize(("method", "prefix", "path"), OPERATIONS)
def test_a_route_without_a_session_answers_401_unless_coderd_serves_it_to_anyone(
    client: TestClient, method: str, prefix: str, path: str
) -> None:
    public = DOCUMENT["paths"][_template(path)][method.lower()].get("security") == []

    response = _call(client, method, prefix + path)

    if public:
        assert response.status_code == 200
    else:
        assert response.status_code == 401
        assert response.json()["message"].startswith("You are signed out")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v2/users/bob",
        "/api/v2/users/bob/preferences",
        "/api/experimental/users/bob/skills",
        "/api/v2/organizations/coder/members/bob/workspace-quota",
        "/api/v2/organizations/other/members/me/workspace-quota",
        "/api/experimental/organizations/other/mcp-servers",
    ],
)
def test_another_user_or_an_unknown_organization_is_not_found(client: TestClient, url: str) -> None:
    response = client.get(url, headers=ALICE)

    assert (response.status_code, response.json()) == (
        404,
        {"message": "Resource not found or you do not have access to this resource"},
    )


def test_users_me_is_the_caller_and_names_its_organization(client: TestClient) -> None:
    me = client.get("/api/v2/users/me", headers=ALICE).json()
    by_id = client.get(f"/api/v2/users/{me['id']}", headers=ALICE).json()
    organizations = client.get("/api/v2/organizations", headers=ALICE).json()

    assert me["username"] == "alice" and by_id == me
    assert me["organization_ids"] == [organizations[0]["id"]]


def test_the_workspace_list_is_the_callers_demo_workspace_filtered_by_the_query(client: TestClient) -> None:
    def names(query: str) -> tuple[list[str], int]:
        page = client.get(f"/api/v2/workspaces?{query}", headers=ALICE).json()
        return [w["name"] for w in page["workspaces"]], page["count"]

    assert names("q=owner:me&limit=0") == (["alice-ws"], 1)
    assert names("q=owner:alice organization:coder") == (["alice-ws"], 1)
    assert names("q=alice/alice-ws status:running") == (["alice-ws"], 1)
    assert names("q=owner:bob") == ([], 0)
    assert names("q=name:nothing") == ([], 0)
    assert names("q=owner:me&offset=1") == ([], 1)


def test_the_workspace_list_refuses_an_unknown_key_and_a_bad_limit_as_coderd_does(client: TestClient) -> None:
    unknown = client.get("/api/v2/workspaces?q=color:blue", headers=ALICE)
    bad_limit = client.get("/api/v2/workspaces?limit=ten", headers=ALICE)

    assert (unknown.status_code, unknown.json()) == (
        400,
        {
            "message": "Invalid workspace search query.",
            "validations": [{"field": "color", "detail": '"color" is not a valid query param'}],
        },
    )
    assert bad_limit.status_code == 400
    assert bad_limit.json()["message"] == "Query parameters have invalid values."


def test_authcheck_passes_the_callers_own_things_only(client: TestClient) -> None:
    answer = client.post("/api/v2/authcheck", headers=ALICE, json=AUTHCHECK).json()

    assert answer == {"createChat": True, "viewDeploymentConfig": False}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "Request body must be valid JSON."),
        (b"[1]", "Request body must be valid JSON."),
        (b'{"checks": {"a": {"object": {"resource_type": 7}}}}', "Request body must be valid JSON."),
        (
            b'{"checks": {"a": {"object": {"resource_type": "chat", "any_org": {}}}}}',
            "Request body must be valid JSON.",
        ),
        (
            b'{"checks": {"a": {"object": {}, "action": "read"}}}',
            'Object\'s "resource_type" field must be defined for key "a".',
        ),
        (
            b'{"checks": {"a": {"object": {"resource_type": "user", "resource_id": "x"}}}}',
            'Object "x" id is not a valid uuid.',
        ),
    ],
)
def test_authcheck_refuses_what_coderd_refuses(client: TestClient, body: bytes, message: str) -> None:
    response = client.post(
        "/api/v2/authcheck", headers={**ALICE, "Content-Type": "application/json"}, content=body
    )

    assert response.status_code == 400
    assert response.json()["message"] == message


def test_authcheck_refuses_more_than_ten_checks_by_resource_id(client: TestClient) -> None:
    one = {"object": {"resource_type": "workspace", "resource_id": "9d31ba28-32c5-539c-b384-527e7adfb454"}}
    body = {"checks": {f"c{i}": one for i in range(11)}}

    response = client.post("/api/v2/authcheck", headers=ALICE, json=body)

    assert response.status_code == 400
    assert response.json()["message"].startswith(
        'Endpoint only supports using "resource_id" field 10 times, found 11'
    )


def test_entitlements_name_every_feature_with_coder_agents_entitled(client: TestClient) -> None:
    features = client.get("/api/v2/entitlements").json()["features"]
    names = DOCUMENT["components"]["schemas"]["codersdk.Entitlements"]["properties"]["features"]

    assert features["agent_runtime_hours"] == {"entitlement": "entitled", "enabled": True}
    assert len(features) == 27 and names["type"] == "object"
    assert {f["entitlement"] for n, f in features.items() if n != "agent_runtime_hours"} == {"not_entitled"}


def test_the_providers_and_the_users_keys_name_the_chat_catalogs_providers(client: TestClient) -> None:
    providers = client.get("/api/v2/ai/providers", headers=ALICE).json()
    keys = client.get("/api/experimental/users/me/ai-provider-keys", headers=ALICE).json()
    models = client.get("/api/v2/organizations/coder/chats/models", headers=ALICE)

    assert [p["type"] for p in providers] == ["anthropic", "openai"]
    assert [k["provider"]["id"] for k in keys] == [p["id"] for p in providers]
    assert all(k["has_provider_api_key"] for k in keys)
    assert models.status_code == 200


def test_the_root_files_the_ui_fetches_are_served(client: TestClient) -> None:
    latency = client.get("/latency-check")
    worker = client.get("/serviceWorker.js")

    assert (latency.status_code, latency.text, latency.headers["timing-allow-origin"]) == (200, "OK", "*")
    assert worker.status_code == 200 and worker.headers["content-type"] == "application/javascript"


def test_a_browser_preflight_may_carry_the_headers_coders_ui_adds(client: TestClient) -> None:
    response = client.options(
        "/latency-check",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-csrf-token, x-latency-check",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"


def test_without_the_dashboard_its_paths_are_the_chat_apis_404() -> None:
    with TestClient(create_app(app_settings(api="current", dashboard=False))) as off:
        response = off.get("/api/v2/users/me", headers=ALICE)
        worker = off.get("/serviceWorker.js")

    assert (response.status_code, response.json()) == (404, {"message": "Route not found."})
    assert worker.status_code == 404


def test_the_2026_08_model_picker_routes_are_404_unless_asked_for(client: TestClient) -> None:
    for path in ("models", "model-configs"):
        response = client.get(f"/api/experimental/chats/{path}", headers=ALICE)
        assert (response.status_code, response.json()) == (404, {"message": "Route not found."})


def test_with_ui_model_routes_the_picker_offers_the_catalogs_models_by_their_config_ids() -> None:
    with TestClient(create_app(app_settings(api="current", ui_model_routes=True))) as compat:
        catalog = compat.get("/api/experimental/chats/models", headers=ALICE).json()
        configs = compat.get("/api/experimental/chats/model-configs", headers=ALICE).json()
        overrides = compat.get("/api/experimental/chats/config/user-personal-model-overrides", headers=ALICE)
        org_models = compat.get("/api/v2/organizations/coder/chats/models", headers=ALICE).json()
        keys = compat.get("/api/v2/users/me/ai-provider-keys", headers=ALICE).json()
        unauthenticated = compat.get("/api/experimental/chats/models")

    assert [p["provider"] for p in catalog["providers"] if p["available"]] == ["anthropic", "openai"]
    assert sorted(c["id"] for c in configs) == sorted(m["id"] for m in _model_list(org_models))
    assert {c["ai_provider_id"] for c in configs} == {k["provider"]["id"] for k in keys}
    assert overrides.status_code == 200 and overrides.json()["root"]["is_set"] is False
    assert unauthenticated.status_code == 401


def _model_list(answer: Any) -> list[dict[str, Any]]:
    return list(answer if isinstance(answer, list) else answer.get("models", answer.get("configs", [])))


def test_the_committed_dashboard_types_are_what_openapi_typescript_makes_of_the_document(
    npm_tools: NpmTools, tmp_path: Any
) -> None:
    fresh = tmp_path / "dashboard.d.ts"
    done = npm_tools.run(
        [
            npm_tools.bin("openapi-typescript"),
            str(ROOT / "openapi" / "current" / "dashboard.yaml"),
            "-o",
            str(fresh),
        ],
        cwd=TOOLS,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert fresh.read_text(encoding="utf-8") == (ROOT / "types" / "current" / "dashboard.d.ts").read_text(
        encoding="utf-8"
    ), "types/current/dashboard.d.ts is stale: run `npm run --prefix tools/npm types:dashboard` and commit it"


@pytest.mark.parametrize(
    ("method", "url", "allow"),
    [
        ("PUT", "/api/v2/users/me/preferences", "GET"),
        ("DELETE", "/api/v2/users/me", "GET"),
        ("GET", "/api/v2/authcheck", "POST"),
        ("POST", "/api/experimental/users/me/skills", "GET"),
    ],
)
def test_a_method_a_shell_path_is_not_served_with_is_405_with_allow(
    client: TestClient, method: str, url: str, allow: str
) -> None:
    response = client.request(method, url, headers=ALICE)

    assert (response.status_code, response.json()) == (405, {"message": "Method not allowed."})
    assert response.headers["allow"] == allow


def test_serve_has_the_dashboard_on_and_the_2026_08_model_picker_off_unless_asked() -> None:
    parser = build_parser()

    default = parser.parse_args(["serve", "--api", "current"])
    asked = parser.parse_args(["serve", "--api", "current", "--no-dashboard", "--ui-model-routes"])

    assert (default.dashboard, default.ui_model_routes) == (True, False)
    assert (asked.dashboard, asked.ui_model_routes) == (False, True)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("127.0.0.1", "https", "https://mock.test"),  # a proxy on this machine says the client used TLS
        ("127.0.0.1", None, "http://mock.test"),
        ("127.0.0.1", "gopher", "http://mock.test"),  # not a scheme uvicorn would take either
        ("203.0.113.9", "https", "http://mock.test"),  # a peer elsewhere is not trusted to say so
    ],
)
def test_the_access_url_takes_the_scheme_a_proxy_on_this_machine_forwards(
    peer: str, forwarded: str | None, expected: str
) -> None:
    # serve's server reads no X-Forwarded-* header (mockserver/server/serving.py): today's
    # dashboard reads the scheme itself, for its access URL (dashboard/shell.py).
    headers = {"Host": "mock.test", **({"X-Forwarded-Proto": forwarded} if forwarded else {})}
    with TestClient(create_app(app_settings(api="current")), client=(peer, 50000)) as test_client:
        answer = test_client.get("/api/v2/buildinfo", headers=headers)
    assert answer.status_code == 200
    assert answer.json()["dashboard_url"] == expected
