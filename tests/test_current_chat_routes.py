"""The chat routes beyond the transcript: the chat menu, the orchestrator, the settings, the sockets into a workspace."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from starlette.testclient import WebSocketDenialResponse

from mockserver.current.orchestrator import orchestrator_chat_id
from mockserver.edge.limits import Limits
from tests.current_support import ALICE, BOB, ORG, current_mock, text

ALICE_WORKSPACE = "9d31ba28-32c5-539c-b384-527e7adfb454"
MODEL = "37e97861-314b-58a9-9b95-bfb763a883be"
EXPERIMENTAL = "/api/experimental"


def _json(response: Any) -> tuple[int, Any]:
    return response.status_code, response.json() if response.content else None


# --- the orchestrator ----------------------------------------------------------------------------


def test_the_orchestrator_id_is_coders_name_based_uuid_of_the_owner() -> None:
    owner = uuid.UUID("00000000-0000-0000-0000-000000000001")
    chat_id = orchestrator_chat_id(owner)
    assert (chat_id.version, chat_id.variant) == (5, uuid.RFC_4122)
    assert chat_id == orchestrator_chat_id(owner) != orchestrator_chat_id(uuid.UUID(int=2))


def test_an_orchestrator_chat_is_created_once_and_addressed_by_its_alias() -> None:
    with current_mock() as m:
        # When alice creates her orchestrator chat, then a second one
        first = m.create("Plan my week", orchestrator=True)
        second = m.client.post(
            "/api/v2/chats",
            headers=ALICE,
            json={"organization_id": ORG, "content": text("again"), "orchestrator": True},
        )
        m.finish()
        by_alias = m.client.get(f"{EXPERIMENTAL}/chats/orchestrator", headers=ALICE)
        bobs = m.client.get("/api/v2/chats/orchestrator", headers=BOB)
        with m.client.websocket_connect("/api/v2/chats/orchestrator/stream", headers=dict(ALICE)) as socket:
            frame = json.loads(socket.receive_text())
    # Then it has the fixed id and mode, the second is a 409 naming it, the alias finds it
    assert first["mode"] == "orchestrator"
    assert first["id"] == str(orchestrator_chat_id(uuid.UUID(first["owner_id"])))
    assert _json(second) == (409, {"message": "An orchestrator chat already exists.", "detail": first["id"]})
    assert by_alias.status_code == 200 and by_alias.json()["id"] == first["id"]
    assert bobs.status_code == 404  # bob has none
    assert frame


def test_an_orchestrator_chat_cannot_attach_a_workspace_or_plan() -> None:
    with current_mock() as m:
        for extra in ({"workspace_id": ALICE_WORKSPACE}, {"plan_mode": "plan"}):
            response = m.client.post(
                "/api/v2/chats",
                headers=ALICE,
                json={"organization_id": ORG, "content": text("x"), "orchestrator": True, **extra},
            )
            assert _json(response) == (
                400,
                {"message": "Orchestrator chats cannot attach a workspace or enter plan mode."},
            )


# --- the chat menu -------------------------------------------------------------------------------


def test_prompts_are_the_users_newest_first_with_coders_limit_refusals() -> None:
    with current_mock() as m:
        chat = m.create("first")["id"]
        m.finish()
        m.send(chat, "second")
        m.finish()
        prompts = m.client.get(f"/api/v2/chats/{chat}/prompts?limit=500", headers=ALICE).json()
        one = m.client.get(f"/api/v2/chats/{chat}/prompts?limit=1", headers=ALICE).json()
        too_many = _json(m.client.get(f"/api/v2/chats/{chat}/prompts?limit=2001", headers=ALICE))
        negative = _json(m.client.get(f"/api/v2/chats/{chat}/prompts?limit=-1", headers=ALICE))
    assert [p["text"] for p in prompts["prompts"]] == ["second", "first"]
    assert [p["text"] for p in one["prompts"]] == ["second"]
    assert too_many == (400, {"message": "Invalid limit parameter (0-2000)."})
    assert negative[0] == 400 and negative[1]["validations"][0]["field"] == "limit"


def test_compact_and_clear_move_the_context_boundary_once() -> None:
    with current_mock() as m:
        chat = m.create("hello")["id"]
        busy = _json(m.post(f"/chats/{chat}/compact"))
        m.finish()
        compacted = m.post(f"/chats/{chat}/compact")
        again = _json(m.post(f"/chats/{chat}/compact"))
        cleared = _json(m.post(f"/chats/{chat}/clear"))
    assert busy == (
        409,
        {
            "message": "Cannot compact the chat in its current state.",
            "detail": "Compaction is not available while the chat is generating.",
        },
    )
    assert compacted.status_code == 200 and compacted.json()["status"] == "waiting"
    assert again[1]["message"] == "Nothing to compact."
    assert cleared[1]["message"] == "Nothing to clear."


def test_an_archived_chat_is_neither_compacted_nor_cleared() -> None:
    with current_mock() as m:
        chat = m.create("hello")["id"]
        m.finish()
        assert m.patch(chat, archived=True).status_code == 204
        answers = [_json(m.post(f"/chats/{chat}/{action}")) for action in ("compact", "clear")]
    assert answers == [
        (400, {"message": "Cannot compact an archived chat."}),
        (400, {"message": "Cannot clear an archived chat."}),
    ]


def test_the_menus_reads_answer_for_a_chat_with_no_gateway_git_or_sharing() -> None:
    with current_mock() as m:
        chat = m.create("Refactor   the\nparser")["id"]
        m.finish()
        answers = {
            name: _json(call)
            for name, call in {
                "cost": m.client.get(f"/api/v2/chats/{chat}/cost", headers=ALICE),
                "diff": m.client.get(f"/api/v2/chats/{chat}/diff", headers=ALICE),
                "acl": m.client.get(f"/api/v2/chats/{chat}/acl", headers=ALICE),
                "title": m.post(f"/chats/{chat}/title/propose"),
                "context": m.client.put(f"/api/v2/chats/{chat}/context", headers=ALICE),
                "reconcile": m.post(f"/chats/{chat}/reconcile-invalid"),
                "runs": m.client.get(f"{EXPERIMENTAL}/chats/{chat}/debug/runs", headers=ALICE),
                "run": m.client.get(f"{EXPERIMENTAL}/chats/{chat}/debug/runs/x", headers=ALICE),
            }.items()
        }
    assert answers["cost"] == (
        200,
        {"chat_id": chat, "total_cost_micros": 0, "request_count": 0, "unpriced_request_count": 0},
    )
    assert answers["diff"] == (200, {"chat_id": chat})
    assert answers["acl"] == (200, {"users": [], "groups": []})
    assert answers["title"] == (200, {"title": "Refactor the parser"})
    assert answers["context"][0] == 200 and answers["context"][1]["id"] == chat
    assert answers["reconcile"] == (
        409,
        {
            "message": "Chat is not in an invalid state.",
            "detail": "chat state transition ReconcileInvalidState not allowed from state W",
        },
    )
    assert answers["runs"] == (200, [])
    assert answers["run"] == (400, {"message": "Invalid debug run ID.", "detail": "invalid UUID length: 1"})


def test_sharing_refuses_the_callers_own_role_and_anyone_the_mock_does_not_know() -> None:
    with current_mock() as m:
        chat = m.create("hello")["id"]
        alice_id = m.chat(chat)["owner_id"]
        own = _json(
            m.client.patch(f"/api/v2/chats/{chat}/acl", headers=ALICE, json={"user_roles": {alice_id: ""}})
        )
        other = _json(
            m.client.patch(f"/api/v2/chats/{chat}/acl", headers=ALICE, json={"group_roles": {"g": "read"}})
        )
        nothing = m.client.patch(f"/api/v2/chats/{chat}/acl", headers=ALICE, json={})
    assert own == (400, {"message": "Cannot change your own chat sharing role."})
    assert other[1]["message"] == "Invalid request to update chat ACL."
    assert nothing.status_code == 204


def test_by_workspace_is_each_workspaces_latest_unarchived_chat() -> None:
    with current_mock() as m:
        first = m.create("one", workspace_id=ALICE_WORKSPACE)["id"]
        m.finish()
        latest = m.create("two", workspace_id=ALICE_WORKSPACE)["id"]
        m.finish()
        other = str(uuid.UUID(int=5))
        found = _json(
            m.client.get(f"/api/v2/chats/by-workspace?workspace_ids={ALICE_WORKSPACE},{other}", headers=ALICE)
        )
        empty = _json(m.client.get("/api/v2/chats/by-workspace", headers=ALICE))
        bad = _json(m.client.get("/api/v2/chats/by-workspace?workspace_ids=x", headers=ALICE))
        many = _json(
            m.client.get("/api/v2/chats/by-workspace?workspace_ids=" + ",".join([other] * 26), headers=ALICE)
        )
    assert latest != first
    assert found == (200, {ALICE_WORKSPACE: latest})
    assert empty == (200, {})
    assert bad == (400, {"message": 'Invalid workspace ID "x": invalid UUID length: 1'})
    assert many == (400, {"message": "Too many workspace IDs, maximum is 25."})


# --- settings ------------------------------------------------------------------------------------


def test_the_settings_pages_read_coders_defaults() -> None:
    with current_mock() as m:
        answers = {
            path: m.client.get(f"/api/v2/chats/config/{path}", headers=ALICE).json()
            for path in (
                "user-compaction-thresholds",
                "user-debug-logging",
                "user-prompt",
                "retention-days",
                "debug-retention-days",
                "auto-archive-days",
                "workspace-ttl",
                "personal-model-overrides",
                "debug-logging",
                "plan-mode-instructions",
            )
        }
    assert answers == {
        "user-compaction-thresholds": {"thresholds": []},
        "user-debug-logging": {
            "debug_logging_enabled": False,
            "user_toggle_allowed": False,
            "forced_by_deployment": False,
        },
        "user-prompt": {"custom_prompt": ""},
        "retention-days": {"retention_days": 30},
        "debug-retention-days": {"debug_retention_days": 30},
        "auto-archive-days": {"auto_archive_days": 0},
        "workspace-ttl": {"workspace_ttl_ms": 0},
        "personal-model-overrides": {"allow_users": False},
        "debug-logging": {"allow_users": False, "forced_by_deployment": False},
        "plan-mode-instructions": {"plan_mode_instructions": ""},
    }


def test_a_users_debug_logging_needs_an_administrator_to_allow_it() -> None:
    with current_mock() as m:
        refused = _json(
            m.client.put(
                "/api/v2/chats/config/user-debug-logging", headers=ALICE, json={"debug_logging_enabled": True}
            )
        )
        assert (
            m.client.put(
                "/api/v2/chats/config/debug-logging", headers=ALICE, json={"allow_users": True}
            ).status_code
            == 204
        )
        assert (
            m.client.put(
                "/api/v2/chats/config/user-debug-logging", headers=ALICE, json={"debug_logging_enabled": True}
            ).status_code
            == 204
        )
        alice = m.client.get("/api/v2/chats/config/user-debug-logging", headers=ALICE).json()
        bob = m.client.get("/api/v2/chats/config/user-debug-logging", headers=BOB).json()
    assert refused == (
        403,
        {"message": "An administrator has not enabled user-controlled chat debug logging."},
    )
    assert alice == {
        "debug_logging_enabled": True,
        "user_toggle_allowed": True,
        "forced_by_deployment": False,
    }
    assert bob["debug_logging_enabled"] is False


def test_compaction_thresholds_are_per_user_and_per_known_model() -> None:
    with current_mock() as m:
        path = f"/api/v2/chats/config/user-compaction-thresholds/{MODEL}"
        set_ = _json(m.client.put(path, headers=ALICE, json={"threshold_percent": 55}))
        listed = m.client.get("/api/v2/chats/config/user-compaction-thresholds", headers=ALICE).json()
        out_of_range = _json(m.client.put(path, headers=ALICE, json={"threshold_percent": 101}))
        unknown = m.client.put(
            f"/api/v2/chats/config/user-compaction-thresholds/{uuid.UUID(int=9)}",
            headers=ALICE,
            json={"threshold_percent": 5},
        )
        bad_id = _json(m.client.delete("/api/v2/chats/config/user-compaction-thresholds/x", headers=ALICE))
        deleted = m.client.delete(path, headers=ALICE)
        after = m.client.get("/api/v2/chats/config/user-compaction-thresholds", headers=ALICE).json()
    assert set_ == (200, {"model_config_id": MODEL, "threshold_percent": 55})
    assert listed == {"thresholds": [{"model_config_id": MODEL, "threshold_percent": 55}]}
    assert out_of_range == (
        400,
        {
            "message": "threshold_percent is out of range.",
            "detail": "threshold_percent must be between 0 and 100, got 101.",
        },
    )
    assert unknown.status_code == 404
    assert bad_id == (400, {"message": "Invalid chat model config ID.", "detail": "invalid UUID length: 1"})
    assert deleted.status_code == 204 and after == {"thresholds": []}


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("retention-days", {"retention_days": 3651}, "Retention days must be between 0 and 3650."),
        (
            "debug-retention-days",
            {"debug_retention_days": -1},
            "Chat debug retention days must be between 0 and 3650.",
        ),
        ("auto-archive-days", {"auto_archive_days": 4000}, "Auto-archive days must be between 0 and 3650."),
        ("workspace-ttl", {"workspace_ttl_ms": 1000}, "Workspace TTL must not be less than 1 minute."),
        ("workspace-ttl", {"workspace_ttl_ms": -1}, "Workspace TTL must be non-negative."),
        ("user-prompt", {"custom_prompt": "x" * 131073}, "Custom prompt exceeds maximum length."),
        ("system-prompt", {"system_prompt": 5}, "Request body must be valid JSON."),
    ],
)
def test_a_setting_out_of_its_range_is_refused_in_coders_words(
    path: str, body: dict[str, Any], message: str
) -> None:
    with current_mock() as m:
        response = m.client.put(f"/api/v2/chats/config/{path}", headers=ALICE, json=body)
    assert response.status_code == 400
    assert response.json()["message"] == message


def test_a_setting_round_trips() -> None:
    with current_mock() as m:
        assert (
            m.client.put(
                "/api/v2/chats/config/retention-days", headers=ALICE, json={"retention_days": 7}
            ).status_code
            == 204
        )
        prompt = m.client.put(
            "/api/v2/chats/config/user-prompt", headers=ALICE, json={"custom_prompt": "Be brief."}
        )
        assert (
            m.client.put(
                "/api/v2/chats/config/system-prompt", headers=ALICE, json={"system_prompt": "Mine"}
            ).status_code
            == 204
        )
        retention = m.client.get(f"{EXPERIMENTAL}/chats/config/retention-days", headers=ALICE).json()
        system = m.client.get("/api/v2/chats/config/system-prompt", headers=ALICE).json()
    assert _json(prompt) == (200, {"custom_prompt": "Be brief."})
    assert retention == {"retention_days": 7}
    assert (system["system_prompt"], system["include_default_system_prompt"]) == ("Mine", False)


def test_the_experimental_settings_answer_only_under_their_prefix() -> None:
    with current_mock() as m:
        provider = m.client.get(f"{EXPERIMENTAL}/chats/config/computer-use-provider", headers=ALICE)
        bad = _json(
            m.client.put(
                f"{EXPERIMENTAL}/chats/config/computer-use-provider", headers=ALICE, json={"provider": "x"}
            )
        )
        v2 = m.client.get("/api/v2/chats/config/computer-use-provider", headers=ALICE)
        advisor = _json(
            m.client.put(f"{EXPERIMENTAL}/chats/config/advisor", headers=ALICE, json={"max_uses_per_run": -1})
        )
    assert provider.json() == {"provider": "anthropic"}
    assert bad == (
        400,
        {
            "message": "Invalid computer use provider.",
            "detail": 'Expected one of: anthropic, openai. Got "x".',
        },
    )
    assert v2.status_code == 404
    assert advisor == (400, {"message": "max_uses_per_run -1 must be non-negative."})


# --- removed routes and sockets into a workspace -------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/chats/providers"),
        ("POST", "/chats/providers"),
        ("PATCH", "/chats/providers/abc"),
        ("DELETE", "/chats/user-provider-configs/abc"),
        ("PUT", "/chats/user-provider-configs/abc"),
    ],
)
def test_the_legacy_provider_routes_are_gone_under_experimental_and_reserved_under_v2(
    method: str, path: str
) -> None:
    with current_mock() as m:
        gone = m.client.request(method, EXPERIMENTAL + path, headers=ALICE)
        reserved = m.client.request(method, "/api/v2" + path, headers=ALICE)
        signed_out = m.client.request(method, EXPERIMENTAL + path)
    assert gone.status_code == 410
    assert gone.json()["message"] == "Legacy chat provider APIs were removed. Use AI provider APIs instead."
    assert _json(reserved) == (404, {"message": "Route not found."})
    assert signed_out.status_code == 401


def _denied(m: Any, path: str) -> tuple[int, Any]:
    with (
        pytest.raises(WebSocketDenialResponse) as caught,
        m.client.websocket_connect(path, headers=dict(ALICE)),
    ):
        pass  # pragma: no cover - the upgrade is refused
    return caught.value.status_code, caught.value.json()


def test_the_git_and_desktop_sockets_are_refused_as_coderd_refuses_a_chat_without_an_agent() -> None:
    with current_mock() as m:
        bare = m.create("hello")["id"]
        tied = m.create("hello", workspace_id=ALICE_WORKSPACE)["id"]
        answers = {
            "git, no workspace": _denied(m, f"/api/v2/chats/{bare}/stream/git"),
            "desktop, no workspace": _denied(m, f"{EXPERIMENTAL}/chats/{bare}/stream/desktop"),
            "git, a workspace": _denied(m, f"{EXPERIMENTAL}/chats/{tied}/stream/git"),
            "desktop under v2": _denied(m, f"/api/v2/chats/{bare}/stream/desktop"),
        }
        plain = _json(m.client.get(f"/api/v2/chats/{bare}/stream/git", headers=ALICE))
    assert answers["git, no workspace"] == (400, {"message": "Chat has no workspace to watch."})
    assert answers["desktop, no workspace"] == (400, {"message": "Chat has no workspace."})
    assert answers["git, a workspace"][1]["message"] == "No eligible agent found for chat workspace."
    assert answers["desktop under v2"] == (404, {"message": "Route not found."})
    assert plain == (400, {"message": "Chat has no workspace to watch."})


def test_stream_parts_opens_with_the_streams_frames() -> None:
    frames = []
    with current_mock() as m:
        chat = m.create("hello")["id"]
        m.finish()
        for path in (f"/api/v2/chats/{chat}/stream", f"{EXPERIMENTAL}/chats/{chat}/stream/parts"):
            with m.client.websocket_connect(path, headers=dict(ALICE)) as socket:
                frames.append(json.loads(socket.receive_text()))
    assert frames[0] == frames[1]


# --- files ----------------------------------------------------------------------------------------


def _upload(
    m: Any, content: bytes, content_type: str, disposition: str = 'attachment; filename="notes.txt"'
) -> Any:
    headers = {**ALICE, "Content-Type": content_type, "Content-Disposition": disposition}
    return m.client.post(f"{EXPERIMENTAL}/chats/files?organization={ORG}", headers=headers, content=content)


def test_a_file_uploads_downloads_and_links_without_a_token() -> None:
    with current_mock() as m:
        # When alice uploads a text file named with non-ASCII characters (the UI's RFC 5987 name)
        uploaded = _upload(
            m, b"hello", "text/plain", "attachment; filename=\"file\"; filename*=UTF-8''notes%20%C3%A9.txt"
        )
        file_id = uploaded.json()["id"]
        fetched = m.client.get(f"/api/v2/chats/files/{file_id}", headers=ALICE)
        bobs = m.client.get(f"/api/v2/chats/files/{file_id}", headers=BOB)
        link = m.client.post(f"/api/v2/chats/files/{file_id}/download-url", headers=ALICE).json()
        downloaded = m.client.get(link["url"].split("testserver", 1)[1])
        forged = m.client.get(f"{EXPERIMENTAL}/chats/files/{file_id}/download?token=forged")
    # Then it is hers, named as sent, and the signed link needs no session token
    assert uploaded.status_code == 201
    assert fetched.content == b"hello" and fetched.headers["content-type"].startswith("text/plain")
    assert fetched.headers["content-disposition"] == "attachment; filename*=utf-8''notes%20%C3%A9.txt"
    assert bobs.status_code == 404
    assert (link["name"], link["mime_type"], link["size_bytes"]) == ("notes é.txt", "text/plain", 5)
    assert downloaded.content == b"hello" and downloaded.headers["cache-control"] == "no-store"
    assert forged.status_code == 404


@pytest.mark.parametrize(
    ("content", "content_type", "disposition", "message"),
    [
        (
            b"hello",
            "image/png",
            'attachment; filename="a.png"',
            "File content type does not match Content-Type header.",
        ),
        (
            b"\x00\xff\x00",
            "application/octet-stream",
            'attachment; filename="a.bin"',
            "Unsupported file type.",
        ),
        (b"hello", "application/zip", 'attachment; filename="a.zip"', "Unsupported file type."),
        (b"hello", "text/plain", "attachment", "Filename is required."),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused(
    content: bytes, content_type: str, disposition: str, message: str
) -> None:
    with current_mock() as m:
        response = _upload(m, content, content_type, disposition)
    assert response.status_code == 400
    assert response.json()["message"] == message


def test_a_file_over_ten_mebibytes_is_a_413() -> None:
    with current_mock(limits=Limits(max_body_bytes=12 * 1024 * 1024)) as m:
        response = _upload(m, b"x" * (10 * 1024 * 1024 + 1), "text/plain")
    assert (response.status_code, response.json()["message"]) == (413, "File too large.")


def test_an_upload_names_its_organization() -> None:
    with current_mock() as m:
        missing = m.client.post("/api/v2/chats/files", headers=ALICE, content=b"x")
        bad = m.client.post("/api/v2/chats/files?organization=x", headers=ALICE, content=b"x")
        other = m.client.post(
            f"/api/v2/chats/files?organization={uuid.UUID(int=3)}", headers=ALICE, content=b"x"
        )
    assert _json(missing) == (400, {"message": "Missing organization query parameter."})
    assert _json(bad) == (400, {"message": "Invalid organization ID."})
    assert other.status_code == 403


# --- the organization's models and overrides -----------------------------------------------------

ORG_MODELS = "/api/v2/organizations/coder/chats/models"


def test_a_model_made_in_the_organization_is_listed_fetched_and_deleted() -> None:
    with current_mock() as m:
        provider = m.client.get(ORG_MODELS, headers=ALICE).json()["providers"][0]["id"]
        created = m.client.post(
            ORG_MODELS,
            headers=ALICE,
            json={
                "ai_provider_id": provider,
                "model": " claude-haiku ",
                "display_name": "Haiku",
                "context_limit": 100000,
            },
        )
        model = created.json()
        listed = [x["id"] for x in m.client.get(ORG_MODELS, headers=ALICE).json()["models"]]
        fetched = m.client.get(f"{ORG_MODELS}/{model['id']}", headers=ALICE)
        chat = m.create("on haiku", model_config_id=model["id"])
        patched = m.client.patch(
            f"{ORG_MODELS}/{model['id']}", headers=ALICE, json={"is_default": True}
        ).json()
        deleted = m.client.delete(f"{ORG_MODELS}/{model['id']}", headers=ALICE)
        gone = m.client.get(f"{ORG_MODELS}/{model['id']}", headers=ALICE)
        defaults = [x for x in m.client.get(ORG_MODELS, headers=ALICE).json()["models"] if x["is_default"]]
    assert created.status_code == 201
    assert (model["model"], model["compression_threshold"], model["is_default"]) == (
        "claude-haiku",
        70,
        False,
    )
    assert model["id"] in listed and fetched.json() == model
    assert chat["last_model_config_id"] == model["id"]
    assert patched["is_default"] is True
    assert deleted.status_code == 204 and gone.status_code == 404
    assert len(defaults) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "x", "context_limit": 1}, "AI provider ID is required."),
        ({"ai_provider_id": str(uuid.UUID(int=1)), "model": " ", "context_limit": 1}, "Model is required."),
        ({"ai_provider_id": str(uuid.UUID(int=1)), "model": "x"}, "Context limit is required."),
        (
            {
                "ai_provider_id": str(uuid.UUID(int=1)),
                "model": "x",
                "context_limit": 5,
                "compression_threshold": 101,
            },
            "Invalid compression threshold.",
        ),
        (
            {"group_acl": {}},
            "Model ACLs cannot be set here. Use the nested /acl endpoint after creating the model.",
        ),
    ],
)
def test_a_model_without_what_coderd_requires_is_refused(body: dict[str, Any], message: str) -> None:
    with current_mock() as m:
        response = m.client.post(ORG_MODELS, headers=ALICE, json=body)
    assert (response.status_code, response.json()["message"]) == (400, message)


def test_overrides_of_the_organization_and_of_a_member() -> None:
    with current_mock() as m:
        base = "/api/v2/organizations/coder"
        bad_context = _json(m.client.put(f"{base}/chats/model-overrides/x", headers=ALICE, json={}))
        bad_model = _json(
            m.client.put(
                f"{base}/chats/model-overrides/general", headers=ALICE, json={"model_config_id": "x"}
            )
        )
        set_ = _json(
            m.client.put(
                f"{base}/chats/model-overrides/general", headers=ALICE, json={"model_config_id": MODEL}
            )
        )
        listed = m.client.get(f"{base}/chats/model-overrides", headers=ALICE).json()
        member = m.client.get(f"{base}/members/me/chats/model-overrides", headers=ALICE).json()
        personal = m.client.put(
            f"{base}/members/me/chats/model-overrides/root",
            headers=ALICE,
            json={"mode": "model", "model_config_id": MODEL},
        )
        wrong = _json(
            m.client.put(
                f"{base}/members/me/chats/model-overrides/root",
                headers=ALICE,
                json={"mode": "chat_default", "model_config_id": MODEL},
            )
        )
        after = m.client.get(f"{base}/members/me/chats/model-overrides", headers=ALICE).json()
    assert bad_context[1]["message"] == "Invalid chat model override context."
    assert bad_model == (
        400,
        {"message": "Invalid model_config_id.", "detail": 'Value "x" is not a valid UUID.'},
    )
    assert set_ == (200, {"context": "general", "model_config_id": MODEL})
    assert listed == {"overrides": [{"context": "general", "model_config_id": MODEL}]}
    assert member["root"] == {
        "context": "root",
        "mode": "chat_default",
        "model_config_id": "",
        "is_set": False,
    }
    assert member["deployment_defaults"]["general"]["model_config_id"] == MODEL
    assert personal.status_code == 204
    assert wrong == (400, {"message": "model_config_id must be empty unless mode is model."})
    assert after["root"]["model_config_id"] == MODEL and after["root"]["is_set"] is True
