"""The app's WebSocket fan-outs by chat, so the control plane can close a chat's streams."""

from __future__ import annotations

from uuid import UUID

from mockserver.edge.fanout import Fanout

__all__ = ["OpenStreams"]


class OpenStreams:
    """Every fan-out whose topics are chats (a generation adds its own when it builds them)."""

    def __init__(self) -> None:
        self._fanouts: list[Fanout] = []

    def add(self, fanout: Fanout) -> None:
        """Count `fanout`'s watchers among the chat's streams."""
        self._fanouts.append(fanout)

    def close_chat(self, chat_id: UUID, code: int, reason: str) -> int:
        """Close every open stream of the chat with `code` and `reason`; returns how many."""
        return sum(fanout.close_topic(chat_id, code, reason) for fanout in self._fanouts)

    def count(self, chat_id: UUID) -> int:
        """How many streams of the chat are open."""
        return sum(fanout.watcher_count(chat_id) for fanout in self._fanouts)
