"""Runs that write every kind of part, read on the stream and over REST, so that each payload is judged.

Every answer and event the checks read is judged against the document as it is read
(`session.fits`); this check makes sure the kinds a UI renders arise at least once: text,
reasoning, tool calls and results, and usage, in stored messages and in streamed parts.
"""

from __future__ import annotations

from contracts.checking import ScenarioContext
from contracts.current.session import create_chat, settle, transcript
from contracts.current.shapes import RULE
from contracts.current.stream_checks import connect
from contracts.current.stream_log import has_status, read_until, run_ended

__all__ = ["every_part_kind_fits"]

# The part types a scripted run writes, by the scenario that writes them.
WANTED = {"reasoning": ("reasoning", "text"), "tool-use": ("tool-call", "tool-result")}


def every_part_kind_fits(ctx: ScenarioContext) -> str | None:
    """A reasoning run and a tool run, watched live and read back: each part, usage and event fits its schema."""
    seen: set[str] = set()
    usage = False
    for scenario in WANTED:
        chat = create_chat(ctx, f"every kind of part ({scenario})", scenario=scenario)["id"]
        with connect(ctx, chat) as socket:
            log = read_until(ctx, socket, chat, has_status, what="a status (the snapshot)", rule=RULE)
            read_until(ctx, socket, chat, run_ended, log=log, what="the run's end", rule=RULE)
        settle(ctx, chat)
        for message in transcript(ctx, chat):
            usage = usage or isinstance(message.get("usage"), dict)
            seen.update(str(p.get("type")) for p in message.get("content") or [] if isinstance(p, dict))
        for event in log.events:
            part = (
                (event.get("message_part") or {}).get("part") if event.get("type") == "message_part" else None
            )
            if isinstance(part, dict):
                seen.add(str(part.get("type")))
    missing = sorted({kind for kinds in WANTED.values() for kind in kinds} - seen)
    notes = []
    if missing:
        notes.append(f"no part of type {', '.join(missing)} arose (the agent ignored the scenario hints)")
    if not usage:
        notes.append("no message carried usage")
    # The rule is judged on every payload read whatever arose here: the notes say what did not.
    return "; ".join(notes) or None
