"""The V1 suite: its rule book and the scenario checks that exercise it, in the order they run."""

from __future__ import annotations

from contracts.checking import Scenario, Suite
from contracts.recognise import recogniser
from contracts.v1 import agent_runs, scenarios, token_checks
from contracts.v1.facts import WireFacts, load_document
from contracts.v1.response_checks import response_checks
from contracts.v1.rules import V1_RULES

__all__ = ["V1_SUITE"]

V1_SUITE = Suite(
    V1_RULES,
    (
        Scenario(("tokens_are_required",), scenarios.tokens_are_required),
        Scenario(("every_token_source_is_read",), token_checks.every_token_source_is_read),
        Scenario(
            ("wrong_token_is_refused_in_every_source",), token_checks.wrong_token_is_refused_in_every_source
        ),
        Scenario(("token_sources_in_coder_order",), token_checks.token_sources_in_coder_order),
        Scenario(("checks_run_in_coder_order",), scenarios.checks_run_in_coder_order),
        Scenario(("errors_are_coders",), scenarios.errors_are_coders),
        Scenario(("chats_are_private",), scenarios.chats_are_private),
        Scenario(("created_chat_reads_back",), scenarios.created_chat_reads_back),
        Scenario(("new_transcript_is_the_system_prompt",), scenarios.new_transcript_is_the_system_prompt),
        Scenario(("posted_message_is_listed",), scenarios.posted_message_is_listed),
        Scenario(("message_ids_increase",), scenarios.message_ids_increase),
        Scenario(
            ("watch_reads_every_token_source",), token_checks.watch_reads_every_token_source, marks=False
        ),
        Scenario(("history_is_append_only",), agent_runs.history_is_append_only),
        Scenario(("post_leaves_the_chat_unchanged",), agent_runs.post_leaves_the_chat_unchanged),
        # Last: it waits for every run the checks above started.
        Scenario(
            ("run_finishes_once_last",),
            agent_runs.agent_runs_follow_their_grammar,
            marks=False,
            after_all=True,
        ),
    ),
    load_document,
    WireFacts.from_document,
    response_checks,
    recognise=recogniser("v1"),
)
