"""The request journal: what the mock was asked and what it answered, bounded, without secrets."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core.clock import Clock
from mockserver.core.directory import TOKEN_MASK, Directory, mask_token
from mockserver.core.errors import Unauthenticated
from mockserver.core.golang import format_time
from mockserver.core.store import Eviction
from mockserver.edge.auth import SESSION_COOKIE, session_token

from .faults import FAULTS_APPLIED, ConnectionDropped
from .paths import CONTROL_PREFIX, PathPattern

__all__ = [
    "EVICT",
    "Journal",
    "JournalEntry",
    "JournalFilter",
    "JournalMiddleware",
    "eviction_entry",
    "mask_token",
]

MASK = TOKEN_MASK

# The `method` of an entry that records no request but a chat the store evicted (--max-chats,
# --max-messages): its path is the chat's, its response body says which limit and how much went.
EVICT = "EVICT"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One request and its answer; bodies cut at the journal's cap, secrets masked."""

    id: int
    time: datetime
    method: str
    path: str
    query: str
    status: int | None  # None: the connection was dropped (a fault) before any answer
    duration_ms: float
    user: str | None  # the username the token belongs to; None when it names nobody
    token: str | None  # masked, `<id>-***`; None when the request carried no token
    request_body: str
    request_bytes: int
    response_body: str
    response_bytes: int
    faults: tuple[int, ...]  # ids of the fault rules that acted on the request

    def to_json(self) -> dict[str, Any]:
        """The entry as the control plane sends it."""
        return {
            "id": self.id,
            "time": format_time(self.time),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "user": self.user,
            "token": self.token,
            "request_body": self.request_body,
            "request_bytes": self.request_bytes,
            "response_body": self.response_body,
            "response_bytes": self.response_bytes,
            "faults": list(self.faults),
        }


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """Which entries to list; every field left None matches all."""

    method: str | None = None
    path: PathPattern | None = None
    status: int | None = None
    user: str | None = None

    def admits(self, entry: JournalEntry) -> bool:
        """Whether the entry passes every given condition."""
        return (
            (self.method is None or entry.method == self.method.upper())
            and (self.path is None or self.path.matches(entry.path))
            and (self.status is None or entry.status == self.status)
            and (self.user is None or entry.user == self.user)
        )


class Journal:
    """The last `capacity` entries, oldest first; older ones fall off (a ring buffer)."""

    def __init__(self, capacity: int = 1000, body_limit: int = 4096) -> None:
        if capacity < 1 or body_limit < 0:
            raise ValueError("a journal holds at least one entry and a non-negative body limit")
        self.capacity = capacity
        self.body_limit = body_limit  # bytes of each body kept; the size is kept in full
        self._entries: deque[JournalEntry] = deque(maxlen=capacity)
        self._next_id = 1
        self.recorded = 0  # entries recorded since the last clear, including those fallen off

    def next_id(self) -> int:
        """Reserve the id of the next entry (ids rise in the order requests arrive)."""
        entry_id = self._next_id
        self._next_id += 1
        return entry_id

    def record(self, entry: JournalEntry) -> None:
        """Keep an entry, dropping the oldest when full."""
        self._entries.append(entry)
        self.recorded += 1

    def entries(self, where: JournalFilter | None = None, limit: int | None = None) -> list[JournalEntry]:
        """Entries in id order that pass the filter; with `limit`, the newest that many."""
        found = sorted((e for e in self._entries if where is None or where.admits(e)), key=lambda e: e.id)
        return found[-limit:] if limit is not None else found

    def clear(self) -> int:
        """Forget every entry; returns how many there were."""
        count = len(self._entries)
        self._entries.clear()
        self.recorded = 0
        return count


def eviction_entry(journal: Journal, eviction: Eviction, *, time: datetime, user: str | None) -> JournalEntry:
    """The journal's record of a chat evicted from the store."""
    chat = eviction.chat
    note = f"evicted under {eviction.reason}: the chat and its {eviction.messages} messages"
    return JournalEntry(
        id=journal.next_id(),
        time=time,
        method=EVICT,
        path=f"/api/v2/chats/{chat.id}",
        query="",
        status=None,
        duration_ms=0.0,
        user=user,
        token=None,
        request_body="",
        request_bytes=0,
        response_body=note,
        response_bytes=len(note),
        faults=(),
    )


class _Capture:
    """The first `limit` bytes of a stream of chunks, and its full size."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._kept = bytearray()
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        room = self._limit - len(self._kept)
        if room > 0:
            self._kept += chunk[:room]

    def text(self, scrub: Callable[[str], str]) -> str:
        return scrub(bytes(self._kept).decode("utf-8", errors="replace"))


class JournalMiddleware:
    """Records every HTTP request outside /__mock with the status actually sent."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        journal: Journal,
        directory: Directory,
        clock: Clock,
        timer: Callable[[], float] = time.perf_counter,  # exists to simplify testing
    ) -> None:
        self._app = app
        self._journal = journal
        self._directory = directory
        self._clock = clock
        self._timer = timer
        self._secrets = tuple(user.token_secret for user in directory.users)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            await self._app(scope, receive, send)
            return
        entry_id = self._journal.next_id()
        started_at, started = self._clock(), self._timer()
        request, response = _Capture(self._journal.body_limit), _Capture(self._journal.body_limit)
        status: int | None = None

        async def capturing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request.add(message.get("body", b""))
            return message

        async def capturing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                response.add(message.get("body", b""))
            await send(message)

        try:
            await self._app(scope, capturing_receive, capturing_send)
        except ConnectionDropped:
            status = None
            raise
        finally:
            token = session_token(scope)
            scrub = self._scrubber(token)
            self._journal.record(
                JournalEntry(
                    id=entry_id,
                    time=started_at,
                    method=scope["method"],
                    path=path,
                    query=scrub(_mask_query(scope.get("query_string", b""))),
                    status=status,
                    duration_ms=(self._timer() - started) * 1000,
                    user=self._username(token),
                    token=mask_token(token) if token else None,
                    request_body=request.text(scrub),
                    request_bytes=request.size,
                    response_body=response.text(scrub),
                    response_bytes=response.size,
                    faults=tuple(scope.get("extensions", {}).get(FAULTS_APPLIED, ())),
                )
            )

    def _username(self, token: str | None) -> str | None:
        try:
            return self._directory.authenticate(token).username
        except Unauthenticated:
            return None

    def _scrubber(self, token: str | None) -> Callable[[str], str]:
        # A client may echo a token into a body or the query: no secret is ever kept.
        secrets = (*self._secrets, *([token] if token else []))

        def scrub(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, MASK)
            return text

        return scrub


def _mask_query(raw: bytes) -> str:
    pairs: Iterable[tuple[str, str]] = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    masked = [(name, mask_token(value) if name == SESSION_COOKIE else value) for name, value in pairs]
    return urlencode(masked, safe="-*/{}:")
