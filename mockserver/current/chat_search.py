"""The chat list's `q`, read as coderd's `searchquery.Chats` reads it (openapi/current/WIRE.md, `GET /chats`).

`q` is split into elements at spaces outside double quotes; the words without a `:` are joined
into one element (a bare term, which the chat search refuses); each element is `key:value`, the
key lower-cased and quotes trimmed. The values are then read as coderd's QueryParamParser reads
query parameters: every error is gathered and the list answers 400 `Invalid chat search query.`
with them as `validations`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from mockserver.core.golang import quote
from mockserver.core.models import Chat
from mockserver.edge.coder_errors import CoderRefusal

__all__ = ["ChatSearch", "parse_chat_search"]

_PR_STATUSES = ("draft", "open", "merged", "closed")
_SOURCES = ("created_by_me", "shared_with_me")
_TRUE = ("1", "t", "T", "TRUE", "true", "True")  # strconv.ParseBool
_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class ChatSearch:
    """What a `q` asks of the list (database.GetChatsParams' search fields)."""

    archived: bool = False  # archived chats are hidden unless asked for
    has_unread: bool | None = None
    pr_statuses: tuple[str, ...] = ()
    diff_url: str = ""
    title: str = ""  # case-insensitive substring
    pr_title: str = ""
    repo: str = ""
    pr_number: int = 0
    owned: bool = True  # `source:` created_by_me (the default)
    shared: bool = False  # `source:` shared_with_me
    search: str = ""

    def needs_a_pull_request(self) -> bool:
        """Whether only a chat with a linked pull request or diff can match (the mock's chats have none)."""
        return bool(self.pr_statuses or self.diff_url or self.pr_title or self.repo or self.pr_number)

    def select(
        self,
        chats: Iterable[Chat],
        *,
        has_unread: Callable[[Chat], bool],
        texts: Callable[[Chat], Iterable[str]],
    ) -> Iterator[Chat]:
        """The caller's own chats that match, in their order (see `matches`), each found as it is
        asked for: a list whose page is full asks no further, and reads no other transcript."""
        if not self.owned or self.needs_a_pull_request():
            return iter(())
        if self.has_unread is None and not self.title and not self.search:
            return (chat for chat in chats if chat.archived == self.archived)
        return (chat for chat in chats if self.matches(chat, has_unread=has_unread, texts=texts))

    def matches(
        self,
        chat: Chat,
        *,
        has_unread: Callable[[Chat], bool],
        texts: Callable[[Chat], Iterable[str]],
    ) -> bool:
        """Whether one of the caller's own chats matches; `texts` gives its messages' text parts.

        `has_unread` and `texts` read the chat's transcript: each is asked only when the search
        needs it (a list without `has_unread:` or `search:` reads no transcript).
        """
        if chat.archived != self.archived or not self.owned or self.needs_a_pull_request():
            return False
        if self.has_unread is not None and has_unread(chat) != self.has_unread:
            return False
        if self.title and self.title.lower() not in chat.title.lower():
            return False
        if self.search:
            words = {w.lower() for w in _WORD.findall(self.search)}
            found = {w.lower() for text in (chat.title, *texts(chat)) for w in _WORD.findall(text)}
            return bool(words) and words <= found
        return True


def parse_chat_search(q: str) -> ChatSearch:
    """The search a `q` asks for; 400 `Invalid chat search query.` with coderd's validations."""
    if not q:
        return ChatSearch()
    values = _search_terms(q)
    params = _Params(values)
    archived = params.boolean("archived")
    has_unread = params.boolean("has_unread")
    pr_statuses = params.listed("pr_status", _PR_STATUSES)
    diff_url = params.string("diff_url")
    if diff_url:
        problem = _diff_url_problem(diff_url)
        if problem:
            params.errors.append({"field": "diff_url", "detail": problem})
            diff_url = ""
    title = params.string("title")
    pr_title = params.string("pr_title")
    repo = params.string("repo")
    sources = params.listed("source", _SOURCES)
    pr_number = 0
    pr = params.string("pr")
    if pr:
        # strconv.ParseInt(pr, 10, 32), then a positive value.
        pr_number = int(pr) if re.fullmatch(r"[+-]?[0-9]+", pr) else 0
        if not 0 < pr_number < 1 << 31:
            params.errors.append({"field": "pr", "detail": f"{quote(pr)} is not a valid positive integer"})
            pr_number = 0
    search = ""
    if "search" in values:
        search = params.string("search", required=True)
        conflicts = [quote(name) for name, value in (("title", title), ("pr_title", pr_title)) if value]
        if pr_number:
            conflicts.append(quote("pr"))
        if search and conflicts:
            params.errors.append(
                {"field": "search", "detail": f'"search" cannot be combined with {", ".join(conflicts)}'}
            )
            search = ""
    params.excess()
    if params.errors:
        raise CoderRefusal(400, "Invalid chat search query.", validations=params.errors)
    shared = "shared_with_me" in sources
    return ChatSearch(
        archived=bool(archived),  # absent: archived chats stay hidden
        has_unread=has_unread,
        pr_statuses=tuple(pr_statuses),
        diff_url=diff_url,
        title=title,
        pr_title=pr_title,
        repo=repo,
        pr_number=pr_number,
        owned="created_by_me" in sources or not shared,
        shared=shared,
        search=search,
    )


def _split(text: str, delimiter: str, *, keep_quotes: bool) -> list[str]:
    """splitQueryParameterByDelimiter: split outside double quotes, empty fields dropped."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == delimiter and not quoted:
            if current:
                parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if current:
        parts.append("".join(current))
    return parts if keep_quotes else [part.strip('"') for part in parts]


def _search_terms(q: str) -> dict[str, list[str]]:
    """searchTerms with the chat search's default: a bare term is an error."""
    tokens = _split(q, " ", keep_quotes=True)
    elements = [t for t in tokens if ":" in t]
    bare = [t for t in tokens if ":" not in t]
    if bare:
        elements.append(" ".join(bare))
    values: dict[str, list[str]] = {}
    for element in elements:
        if element.startswith(":") or element.endswith(":"):
            _refuse(f"Query element {quote(element)} cannot start or end with ':'")
        parts = _split(element, ":", keep_quotes=False)
        if len(parts) == 1:
            _refuse(f"unsupported search term: {quote(element)}")
        if len(parts) != 2:
            _refuse(f"Query element {quote(element)} can only contain 1 ':'")
        values.setdefault(parts[0].lower(), []).append(parts[1])
    return values


def _refuse(detail: str) -> None:
    raise CoderRefusal(400, "Invalid chat search query.", validations=[{"field": "q", "detail": detail}])


def _diff_url_problem(raw: str) -> str:
    """validateDiffURL: an http(s) URL with a host."""
    try:
        parts = urlsplit(raw)
    except ValueError as error:
        return f"diff_url is not a valid URL: {error}"
    if parts.scheme not in ("http", "https"):
        return f"diff_url must use http or https scheme, got {quote(parts.scheme)}"
    if not parts.netloc:
        return "diff_url must include a host"
    return ""


class _Params:
    """The parsed `key:value` values, read as httpapi.QueryParamParser reads a query."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values
        self._parsed: set[str] = set()
        self.errors: list[dict[str, str]] = []

    def _set(self, name: str, *, required: bool = False) -> list[str] | None:
        self._parsed.add(name)
        values = self._values.get(name, [])
        if not values or values[0] == "":
            if required:
                self.errors.append(
                    {"field": name, "detail": f"Query param {quote(name)} is required and cannot be empty"}
                )
            return None
        return values

    def _single(self, name: str, *, required: bool = False) -> str | None:
        values = self._set(name, required=required)
        if values is None:
            return None
        if len(values) > 1:
            self.errors.append(
                {
                    "field": name,
                    "detail": f"Query param {quote(name)} provided more than once, found {len(values)} times. "
                    "Only provide 1 instance of this query param.",
                }
            )
            return None
        return values[0]

    def boolean(self, name: str) -> bool | None:
        raw = self._single(name)
        if raw is None:
            return None
        if raw in _TRUE or raw in _FALSE:
            return raw in _TRUE
        self.errors.append(
            {
                "field": name,
                "detail": f"Query param {quote(name)} must be a valid boolean: "
                f"strconv.ParseBool: parsing {quote(raw)}: invalid syntax",
            }
        )
        return None

    def string(self, name: str, *, required: bool = False) -> str:
        return self._single(name, required=required) or ""

    def listed(self, name: str, allowed: tuple[str, ...]) -> list[str]:
        """ParseCustomList: repeated or comma-separated values, each normalized and checked."""
        values = self._set(name)
        if values is None:
            return []
        out, bad = [], []
        for value in (term for raw in values for term in raw.split(",")):
            normalized = value.strip().lower()
            if normalized in allowed:
                out.append(normalized)
            else:
                bad.append(f"{quote(value)} is not a valid value")
        if bad:
            self.errors.append(
                {"field": name, "detail": f"Query param {quote(name)} has invalid values: " + "\n".join(bad)}
            )
            return []
        return out

    def excess(self) -> None:
        for name in self._values:
            if name not in self._parsed:
                self.errors.append({"field": name, "detail": f"{quote(name)} is not a valid query param"})
