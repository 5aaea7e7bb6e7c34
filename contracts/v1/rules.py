"""The rule book of the V1 Chats API: openapi/chats.yaml and openapi/WIRE.md."""

from __future__ import annotations

from contracts.rulebook import SCHEMATHESIS_RULES, Rule, RuleBook, Section

__all__ = ["V1_RULES"]

V1_RULES = RuleBook(
    "Chats API V1 (openapi/chats.yaml, openapi/WIRE.md)",
    (
        Section(
            "WIRE.md §1",
            "Where the docs and the wire differ (shapes)",
            (
                Rule("created_chat_reads_back", "a created chat answers what was sent and reads back equal"),
                Rule("message_ids_increase", "message ids are unique integers, rising; lists ascend"),
            ),
        ),
        Section(
            "WIRE.md §2",
            "Errors and session tokens",
            (
                Rule("tokens_are_required", "no token or an unknown one is Coder's exact 401 on every route"),
                Rule(
                    "every_token_source_is_read",
                    "cookie, query parameter, header and bearer each authenticate every route",
                ),
                Rule(
                    "wrong_token_is_refused_in_every_source",
                    "an unknown token in any source is the exact 401 on every route",
                ),
                Rule(
                    "token_sources_in_coder_order",
                    "when two sources disagree, cookie > query > header > bearer decides",
                ),
                Rule("checks_run_in_coder_order", "401 before the {chat} 400 before the body's 400"),
                Rule("errors_are_coders", "each refusal's status and exact message, never a 5xx"),
                Rule("chats_are_private", "another user's chat is a 404 (never 403) and leaves no trace"),
            ),
        ),
        Section(
            "WIRE.md §3",
            "Creating a chat",
            (Rule("new_transcript_is_the_system_prompt", "a new chat's transcript is the system prompt"),),
        ),
        Section(
            "WIRE.md §4",
            "Posting a message and the agent loop",
            (
                Rule(
                    "posted_message_is_listed", "the 201 carries run_id and the user envelope, listed as sent"
                ),
                Rule(
                    "post_leaves_the_chat_unchanged",
                    "a post and its run leave every field of the chat as created (updated_at too)",
                ),
                Rule("run_starts_once_first", "a run's first row is its one `run_started`"),
                Rule(
                    "run_finishes_once_last",
                    "a run ends (within the wait) with one `run_finished`, last, with a valid finish_reason",
                ),
                Rule(
                    "run_finished_counts_steps", "`run_finished.steps` is the number of steps when non-zero"
                ),
                Rule(
                    "failed_run_ends_with_error",
                    "an `error` row (code, message) right before `run_finished` `error`, and only then",
                ),
                Rule(
                    "tool_result_follows_its_call",
                    "each tool_call gets one tool_result after it (same id, name, step) before the message",
                ),
                Rule(
                    "step_ends_with_message_then_usage",
                    "each step ends with its assistant message, then a `usage` event with that step",
                ),
                Rule("steps_count_from_zero", "a run's steps are numbered 0, 1, 2, ..."),
                Rule(
                    "assistant_content_is_its_text",
                    "an assistant message's content is its text parts joined (not empty when they hold text)",
                ),
                Rule(
                    "tool_invocations_match_tool_rows",
                    "the message's tool-invocation parts are the step's tool rows",
                ),
                Rule(
                    "run_rows_carry_its_run_id",
                    "every row of a run carries the run_id its 201 returned; no row of an unknown run",
                ),
                Rule("run_row_ids_increase", "the rows of a run have strictly increasing ids"),
                Rule(
                    "history_is_append_only",
                    "a later listing extends an earlier one; close posts both run to the end",
                ),
            ),
        ),
        Section(
            "WIRE.md §5",
            "Watching a transcript",
            (
                Rule(
                    "watch_reads_every_token_source",
                    "watch-ws (where served) takes each token source, refuses a wrong one with the 401",
                ),
            ),
        ),
        Section(
            "chats.yaml",
            "The OpenAPI document, on every generated request (Schemathesis)",
            (
                *SCHEMATHESIS_RULES,
                Rule("coder_error_body", "each 4xx is Coder's {message, detail?} with its status's message"),
                Rule("transcript_is_ordered", "a listed transcript ascends and holds only its chat"),
                Rule("answer_matches_request", "a success answers the chat and fields sent"),
            ),
        ),
    ),
)
