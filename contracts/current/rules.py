"""The rule book of today's Chats API: openapi/current/chats.yaml and openapi/current/WIRE.md."""

from __future__ import annotations

from contracts.rulebook import SCHEMATHESIS_RULES, Rule, RuleBook, Section

__all__ = ["CURRENT_RULES", "DOCUMENT_RULES"]

# The OpenAPI document, judged on every generated request by the Schemathesis phase.
DOCUMENT_RULES = Section(
    "chats.yaml",
    "The OpenAPI document, on every generated request (Schemathesis)",
    (
        *SCHEMATHESIS_RULES,
        Rule("coder_error_body", "each 4xx is Coder's {message, detail?, validations?}"),
    ),
)

CURRENT_RULES = RuleBook(
    "Chats API, today's Coder (openapi/current/chats.yaml, openapi/current/WIRE.md)",
    (
        Section(
            "WIRE.md §1",
            "Routes: the `/api/v2` and `/api/experimental` mounts",
            (
                Rule(
                    "both_prefixes_read_one_chat",
                    "a chat created under either prefix reads the same under the other: GET, list, messages",
                ),
                Rule(
                    "both_prefixes_open_the_websockets",
                    "the stream (its snapshot) and the watcher (a `created`) open under /api/experimental too",
                ),
                Rule(
                    "reserved_names_are_route_not_found",
                    "experimental-only paths under /api/v2 and each mount's reserved names are 404 "
                    "`Route not found.`, never a `{chat}`",
                ),
            ),
        ),
        Section(
            "WIRE.md §2",
            "Shared behaviour: tokens, {chat}, bodies, privacy",
            (
                Rule("tokens_are_required", "no token or an unknown one is Coder's exact 401 on every route"),
                Rule(
                    "chat_param_is_a_uuid",
                    "{chat} not a UUID is 400 `Invalid UUID`, an unknown chat the exact 404, on every route",
                ),
                Rule(
                    "bodies_are_read_like_go",
                    "a body that is not JSON, or a field of the wrong type, is the 400",
                ),
                Rule(
                    "unknown_request_fields_are_ignored",
                    "a request with fields the server does not know is answered as without them",
                ),
                Rule("chats_are_private", "another user's chat is a 404 on every route, and never listed"),
                Rule(
                    "every_token_source_is_read",
                    "the cookie, the query, the header and bearer each authenticate REST; an unknown token is the 401",
                ),
                Rule(
                    "token_sources_in_coder_order",
                    "two sources that disagree: cookie, then query, then header, then bearer decides",
                ),
                Rule(
                    "websockets_read_every_token_source",
                    "the stream and the watcher open from every source, refuse an unknown token, in coderd's order",
                ),
            ),
        ),
        Section(
            "WIRE.md §3",
            "Shapes",
            (
                Rule(
                    "answers_fit_the_document",
                    "every answer and stream or watch event a check reads fits its schema (parts, usage, "
                    "events); unknown event types and watch kinds (x-open-set) are read past",
                ),
                Rule(
                    "created_chat_reads_back",
                    "a new chat is `running`, not archived, with its labels; GET and the list read it back",
                ),
                Rule(
                    "transcript_holds_what_was_sent",
                    "the user's messages are listed with their trimmed text parts; ids unique and rising",
                ),
            ),
        ),
        Section(
            "WIRE.md §4",
            "The status machine",
            (
                Rule(
                    "run_ends_waiting_or_error",
                    "every run ends (within the wait) `waiting`, or `error` with `last_error`",
                ),
                Rule(
                    "idle_chat_refuses_busy_operations",
                    "interrupt, delete and promote on a waiting chat are the 409s with the transition",
                ),
                Rule(
                    "busy_chat_cannot_be_archived", "archiving a running chat is the 409; it stays unarchived"
                ),
            ),
        ),
        Section(
            "WIRE.md §5",
            "Routes, statuses and errors",
            (
                Rule("chat_list_pages", "limit, offset and after_id page the list; bad values are the 400"),
                Rule(
                    "chat_list_hides_archived",
                    "an archived chat leaves the default list; `archived:true` lists it",
                ),
                Rule(
                    "archived_chat_refuses_changes",
                    "send, edit, interrupt, promote and archive-again on an archived chat are their 400s",
                ),
                Rule(
                    "search_filters_as_written",
                    "`q`: `title:` selects by title (quoted, any key case); `archived:true` lists only archived",
                ),
                Rule(
                    "search_refusals_are_coders",
                    "`q` with an unknown key, a bad boolean, a `:` at an edge or twice, or bare words is the 400",
                ),
                Rule("create_refusals_are_coders", "POST /chats refusals: exact status, message and detail"),
                Rule("update_refusals_are_coders", "PATCH /chats/{chat} refusals: exact status and message"),
                Rule(
                    "send_refusals_are_coders",
                    "POST /chats/{chat}/messages refusals: exact status and message",
                ),
                Rule(
                    "transcript_pages",
                    "before_id, after_id and limit page the transcript, has_more at the edges; bad ones are 400s",
                ),
                Rule(
                    "send_runs_an_idle_chat",
                    "a send to an idle chat stores the message, `queued: false`, runs",
                ),
                Rule(
                    "queue_holds_messages_sent_while_busy",
                    "a send to a busy chat is queued, listed, deletable, and runs after the turn",
                ),
                Rule(
                    "promoted_message_runs_next", "a promoted queued message is answered 202 and runs first"
                ),
                Rule(
                    "interrupt_stops_the_run",
                    "interrupt answers `interrupting`, the chat ends `waiting`; busy_behavior interrupt runs next",
                ),
                Rule(
                    "edit_truncates_what_follows",
                    "an edit removes the message and all after it, answers their ids, stores the new one",
                ),
                Rule(
                    "client_tool_waits_for_its_result",
                    "a declared tool's call is `requires_action` with `action_required` (args a JSON string); "
                    "its results answer 204, stream as `tool` messages, the run ends; a second POST is the 409",
                ),
            ),
        ),
        Section(
            "WIRE.md §7.1",
            "The live stream (GET /chats/{chat}/stream)",
            (
                Rule(
                    "stream_refuses_like_coder",
                    "before the upgrade: the 401, {chat}'s 400 and 404, 400 `Invalid after_id parameter.`",
                ),
                Rule(
                    "stream_frames_are_event_arrays",
                    "every frame is a JSON array of this chat's typed events",
                ),
                Rule(
                    "stream_snapshot_comes_first",
                    "on connect: the messages after after_id (all without it), then the status, before live events",
                ),
                Rule(
                    "stream_message_ids_increase",
                    "message ids rise along the stream; it sends every message once",
                ),
                Rule(
                    "message_parts_precede_their_message",
                    "the text parts of a step stream before its message, make its text, and none follow it",
                ),
                Rule(
                    "stream_status_ends_waiting_or_error",
                    "a run's stream ends with status `waiting` or `error` (then an `error` event), as GET says",
                ),
                Rule(
                    "stream_reports_the_queue",
                    "a message queued while connected is in a queue_update, and a later one tells it left",
                ),
                Rule(
                    "stream_resets_history_after_an_edit",
                    "an edit seen live is a history_reset, then every message that remains and the new run's",
                ),
                Rule(
                    "stream_reconnect_is_complete",
                    "a reconnect with after_id mid-run gets every later message once: no duplicates, no gaps",
                ),
            ),
        ),
        Section(
            "WIRE.md §7.2",
            "The chat list watcher (GET /chats/watch)",
            (
                Rule(
                    "watch_reports_the_callers_chats",
                    "one event object per frame: created, title_change, deleted on archive, created on "
                    "unarchive; never another user's chat",
                ),
                Rule(
                    "watch_tells_action_required",
                    "a run waiting for a declared tool is `action_required` with the pending `tool_calls`",
                ),
            ),
        ),
        DOCUMENT_RULES,
    ),
)
