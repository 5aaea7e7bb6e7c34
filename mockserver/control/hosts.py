"""Which `Host` names may reach the control plane: loopback names, so DNS rebinding cannot.

A page on a name its attacker controls can point that name at 127.0.0.1 and then call the
mock as a same-origin page (DNS rebinding): its requests carry `Host: evil.example`. The
control plane answers only requests whose Host is a loopback name or the address the mock
was bound to. The header is read as a browser writes it (RFC 9110 7.2: `host [":" port]`, the host a
name, an IPv4 address or a bracketed IPv6 one, the port digits): anything else, such as
`127.0.0.1:8080@evil.example`, names no host and is refused, whatever it starts with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["LOOPBACK_HOSTS", "HostAllowlist"]

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")

# `uri-host [":" port]` as a browser sends it: a reg-name or IPv4 address (letters, digits, dots,
# hyphens), or an IPv6 literal in brackets; the port, digits only (RFC 3986 3.2.2-3.2.3).
_HOST = re.compile(r"(?P<name>\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::[0-9]{0,5})?")


@dataclass(frozen=True, slots=True)
class HostAllowlist:
    """Host names (any port) the control plane answers; names compare case-insensitively."""

    names: frozenset[str]

    @classmethod
    def loopback_and(cls, extra: Iterable[str] = ()) -> HostAllowlist:
        """The loopback names plus `extra` (e.g. the bound host; an IPv6 address gets brackets)."""
        names = {*LOOPBACK_HOSTS}
        for name in extra:
            names.add(f"[{name}]" if ":" in name and not name.startswith("[") else name)
        return cls(frozenset(n.lower() for n in names))

    def allows(self, host: str) -> bool:
        """Whether a `Host` header value (with or without a port) names an allowed host."""
        parsed = _HOST.fullmatch(host.strip(" \t").lower())
        return parsed is not None and parsed["name"] in self.names
