"""The suite of today's API: its rule book and the scenario checks that exercise it, in the order they run."""

from __future__ import annotations

from typing import Any

from contracts.checking import Scenario, SideDocument, Suite
from contracts.current import (
    chat_checks,
    paging,
    prefix_checks,
    refusal_checks,
    run_checks,
    search_checks,
    shape_checks,
    stream_checks,
    token_checks,
    tool_checks,
    watch_checks,
)
from contracts.current.facts import WireFacts, load_dashboard_document, load_document
from contracts.current.response_checks import response_checks
from contracts.current.rules import CURRENT_RULES
from contracts.current.session import organization
from contracts.recognise import recogniser

__all__ = ["CURRENT_SUITE", "fuzz_config"]

# Today's coderd answers these statuses to schema-valid requests by design (WIRE.md §5): the
# chat's state refuses the request (archived, busy, no queue), or a well-formed reference does
# not resolve (a workspace or model config is a 400), or a field's rule lives in the handler.
_STATEFUL_OPERATIONS = [
    "list-chats",
    "create-chat",
    "update-chat",
    "list-chat-messages",
    "send-chat-message",
    "edit-chat-message",
    "interrupt-chat",
    "delete-chat-queued-message",
    "promote-chat-queued-message",
]
_ACCEPTED = ["2xx", "400", "403", "404", "409", "429"]
# The chat menu's context routes, the settings, the files and the organization's models answer a
# schema-valid request with coderd's 400/403/404/409 where the chat's state or a handler's rule
# forbids it (WIRE.md §5: nothing to compact, an invalid state not reached, a share with someone
# unknown, a number out of its range, a file whose bytes are not what it declares, a model
# without a provider).
_RULED_OPERATIONS = [
    "compact-chat",
    "clear-chat-context",
    "reconcile-invalid-chat-state",
    "update-chat-acl",
    "list-chats-by-workspace",
    "list-chat-user-prompts",
    "update-chat-system-prompt",
    "update-chat-plan-mode-instructions",
    "update-user-chat-custom-prompt",
    "update-user-chat-debug-logging",
    "update-chat-workspace-ttl",
    "update-chat-retention-days",
    "update-chat-debug-retention-days",
    "update-chat-auto-archive-days",
    "update-user-chat-compaction-threshold",
    "delete-user-chat-compaction-threshold",
    "upload-chat-file",
    "get-chat-file",
    "create-chat-file-download-url",
    "download-chat-file-with-signed-token",
    "create-an-ai-model-in-an-organization",
    "update-an-ai-model",
    "update-ai-model-acl",
    "update-organization-chat-model-override",
    "update-organization-member-chat-model-override",
]
# The routes only /api/experimental mounts (tag Experimental, a path-level server): Schemathesis
# sends every operation under the document's server, /api/v2, where they are 404 by design
# (WIRE.md §1); reserved_names_are_route_not_found judges that instead.
_EXPERIMENTAL_TAG = "Experimental"


# The dashboard shell (openapi/current/dashboard.yaml, DASHBOARD.md), judged when the server answers
# its build info. Its files outside /api (tag Root) and its experimental-only skills live under
# another server than the one Schemathesis sends to. Three examples per operation and mode keep the
# default run's cost small (its 17 operations are plain reads); the chats document keeps the budget.
DASHBOARD = SideDocument(
    "dashboard",
    load_dashboard_document,
    "/buildinfo",
    {
        "operations": [
            {"include-tag": "Root", "enabled": False},
            {"include-operation-id": "list-user-skills", "enabled": False},
        ]
    },
    max_examples=3,
)


def fuzz_config(memo: dict[str, Any]) -> dict[str, Any]:
    """Schemathesis' settings for today's API: what a valid request may be refused with, and the
    organization and models the scenario checks found, so that generated chats get created."""
    config: dict[str, Any] = {
        "operations": [
            {
                "include-operation-id": _STATEFUL_OPERATIONS,
                "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPTED}},
            },
            {
                "include-operation-id": _RULED_OPERATIONS,
                "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPTED}},
            },
            # The experimental mount's own routes name /api/experimental as their only server,
            # which Schemathesis does not read; the base URL's /api/v2 answers them 404.
            {"include-tag": _EXPERIMENTAL_TAG, "enabled": False},
        ]
    }
    parameters: dict[str, Any] = {"path.user": "me"}
    if isinstance(memo.get("organization"), str):
        parameters["path.organization"] = memo["organization"]
        parameters["body.organization_id"] = memo["organization"]
    if memo.get("model_ids"):
        parameters["body.model_config_id"] = memo["model_ids"][0]
    if parameters:
        config["parameters"] = parameters
    return config


CURRENT_SUITE = Suite(
    CURRENT_RULES,
    (
        # §1: both mounts of the chat routes
        Scenario(("both_prefixes_read_one_chat",), prefix_checks.both_prefixes_read_one_chat),
        Scenario(("both_prefixes_open_the_websockets",), prefix_checks.both_prefixes_open_the_websockets),
        Scenario(("reserved_names_are_route_not_found",), prefix_checks.reserved_names_are_route_not_found),
        # §2: refusals every route shares
        Scenario(("tokens_are_required",), refusal_checks.tokens_are_required),
        Scenario(("chat_param_is_a_uuid",), refusal_checks.chat_param_is_a_uuid),
        Scenario(("bodies_are_read_like_go",), refusal_checks.bodies_are_read_like_go),
        Scenario(("unknown_request_fields_are_ignored",), refusal_checks.unknown_request_fields_are_ignored),
        Scenario(("chats_are_private",), refusal_checks.chats_are_private),
        Scenario(("every_token_source_is_read",), token_checks.every_token_source_is_read),
        Scenario(("token_sources_in_coder_order",), token_checks.token_sources_in_coder_order),
        Scenario(("websockets_read_every_token_source",), token_checks.websockets_read_every_token_source),
        # §3: what is stored reads back
        Scenario(("created_chat_reads_back",), chat_checks.created_chat_reads_back),
        Scenario(("transcript_holds_what_was_sent",), chat_checks.transcript_holds_what_was_sent),
        Scenario(("answers_fit_the_document",), shape_checks.every_part_kind_fits),
        # §4: the status machine
        Scenario(("run_ends_waiting_or_error",), run_checks.run_ends_waiting_or_error),
        Scenario(("idle_chat_refuses_busy_operations",), run_checks.idle_chat_refuses_busy_operations),
        Scenario(("busy_chat_cannot_be_archived",), run_checks.busy_chat_cannot_be_archived),
        # §5: each route
        Scenario(("create_refusals_are_coders",), refusal_checks.create_refusals_are_coders),
        Scenario(("update_refusals_are_coders",), refusal_checks.update_refusals_are_coders),
        Scenario(("send_refusals_are_coders",), refusal_checks.send_refusals_are_coders),
        Scenario(("chat_list_hides_archived",), chat_checks.chat_list_hides_archived),
        Scenario(("archived_chat_refuses_changes",), chat_checks.archived_chat_refuses_changes),
        Scenario(("chat_list_pages",), paging.chat_list_pages),
        Scenario(("search_filters_as_written",), search_checks.search_filters_as_written),
        Scenario(("search_refusals_are_coders",), search_checks.search_refusals_are_coders),
        Scenario(("transcript_pages",), paging.transcript_pages),
        Scenario(("send_runs_an_idle_chat",), run_checks.send_runs_an_idle_chat),
        Scenario(("queue_holds_messages_sent_while_busy",), run_checks.queue_holds_messages_sent_while_busy),
        Scenario(("promoted_message_runs_next",), run_checks.promoted_message_runs_next),
        Scenario(("interrupt_stops_the_run",), run_checks.interrupt_stops_the_run),
        Scenario(("edit_truncates_what_follows",), run_checks.edit_truncates_what_follows),
        # §7: the stream
        Scenario(("stream_refuses_like_coder",), stream_checks.stream_refuses_like_coder),
        Scenario(
            ("stream_snapshot_comes_first", "stream_frames_are_event_arrays"),
            stream_checks.stream_snapshot_comes_first,
        ),
        Scenario(
            (
                "stream_status_ends_waiting_or_error",
                "stream_message_ids_increase",
                "message_parts_precede_their_message",
                "stream_frames_are_event_arrays",
            ),
            stream_checks.stream_follows_a_run,
            marks=False,
        ),
        Scenario(("stream_reports_the_queue",), stream_checks.stream_reports_the_queue),
        Scenario(("stream_resets_history_after_an_edit",), stream_checks.stream_resets_history_after_an_edit),
        Scenario(("stream_reconnect_is_complete",), stream_checks.stream_reconnect_is_complete),
        # §7.2: the chat list watcher
        Scenario(("watch_reports_the_callers_chats",), watch_checks.watch_reports_the_callers_chats),
        # §5 tool-results with §6 and §7.1: the client's tool
        Scenario(("client_tool_waits_for_its_result",), tool_checks.client_tool_waits_for_its_result),
        Scenario(("watch_tells_action_required",), tool_checks.watch_tells_action_required),
    ),
    load_document,
    WireFacts.from_document,
    response_checks,
    fuzz_config,
    prepare=organization,
    recognise=recogniser("current"),
    side_documents=(DASHBOARD,),
)
