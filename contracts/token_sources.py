"""Where a request carries its session token: the four places coderd reads, in its order (WIRE.md §2)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from itertools import combinations

__all__ = ["CODER_ORDER", "SESSION_NAME", "TokenSource", "placed", "token_cases"]

# The cookie and the query parameter share this name.
SESSION_NAME = "coder_session_token"


class TokenSource(enum.Enum):
    """One place a session token can travel."""

    COOKIE = "cookie"  # `Cookie: coder_session_token=T`, read first
    QUERY = "query"  # `?coder_session_token=T`, read second
    HEADER = "header"  # `Coder-Session-Token: T` (what the docs show), read third
    BEARER = "bearer"  # `Authorization: Bearer T`, read last


# WIRE.md §2: the first source that holds a token decides; the others are not looked at.
CODER_ORDER: tuple[TokenSource, ...] = (
    TokenSource.COOKIE,
    TokenSource.QUERY,
    TokenSource.HEADER,
    TokenSource.BEARER,
)


def placed(tokens: Mapping[TokenSource, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The headers and query parameters that carry each token in its source."""
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    for source, token in tokens.items():
        if source is TokenSource.COOKIE:
            headers["Cookie"] = f"{SESSION_NAME}={token}"
        elif source is TokenSource.QUERY:
            params[SESSION_NAME] = token
        elif source is TokenSource.HEADER:
            headers["Coder-Session-Token"] = token
        else:
            headers["Authorization"] = f"Bearer {token}"
    return headers, params


def token_cases(token: str, unknown: str) -> list[tuple[dict[TokenSource, str], bool, str]]:
    """Where a handshake may carry the token, and whether coderd's order lets it in: each source
    alone, valid and unknown, then each pair with one valid and one unknown (the earlier decides).
    Each case is (tokens by source, whether it opens, what it is)."""
    cases: list[tuple[dict[TokenSource, str], bool, str]] = []
    for source in CODER_ORDER:
        cases.append(({source: token}, True, f"the token in the {source.value}"))
        cases.append(({source: unknown}, False, f"an unknown token in the {source.value}"))
    for earlier, later in combinations(CODER_ORDER, 2):
        cases.append(
            ({earlier: token, later: unknown}, True, f"valid {earlier.value}, unknown {later.value}")
        )
        cases.append(
            ({earlier: unknown, later: token}, False, f"unknown {earlier.value}, valid {later.value}")
        )
    return cases
