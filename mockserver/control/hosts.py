"""Which `Host` names may reach the control plane: loopback names, so DNS rebinding cannot.

A page on a name its attacker controls can point that name at 127.0.0.1 and then call the
mock as a same-origin page (DNS rebinding): its requests carry `Host: evil.example`. The
control plane answers only requests whose Host is a loopback name or the address the mock
was bound to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["LOOPBACK_HOSTS", "HostAllowlist"]

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


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
        host = host.strip().lower()
        if host.startswith("["):
            name = host[: host.find("]") + 1]
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return name in self.names
