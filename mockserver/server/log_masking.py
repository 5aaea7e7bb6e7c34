"""No session token in a log line: serve's logging, with every secret masked as the journal masks it.

A browser authenticates a WebSocket with `?coder_session_token=` (access lines print the path
with its query), websockets' debug log prints every request header (cookies, bearer values) and
an error may quote what it was given. Every record serve logs passes `SecretsFilter` on its way
to a handler: known tokens and anything shaped like one show their id only (`<id>-***`), and
the values of `Coder-Session-Token`, `Authorization` and `Cookie` headers are masked whatever
they hold (a malformed token may still be someone's secret).
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from mockserver.core.directory import TOKEN_MASK, mask_token

__all__ = ["SecretsFilter", "mask_secrets", "masked_log_config"]

# `<10-char id>-<22-char secret>` (coderd's SplitAPIToken), wherever it stands.
_TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{10}-[A-Za-z0-9]{22}(?![A-Za-z0-9])")
# The session token as a query parameter or a cookie: its value up to the next separator.
_SESSION_PARAM = re.compile(r"(coder_session_token=)([^&;,\s\"']*)", re.IGNORECASE)
# A header line (websockets' `< name: value`, a dump of a request): the value to the line's end.
_SECRET_HEADER = re.compile(
    r"((?:^|[\s<>'\"])(?:coder-session-token|authorization|proxy-authorization|cookie|set-cookie)"
    r"[\"']?\s*[:=,]\s*[\"']?)([^\r\n\"']*)",
    re.IGNORECASE,
)
_COOKIE_VALUE = re.compile(r"([^=;,\s]+=)([^;,]*)")
_AUTH_SCHEME = re.compile(r"^(\s*(?:bearer|basic|token)\s+)(.*)$", re.IGNORECASE)


def mask_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every session token, cookie value and credential masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask_token(secret))
    text = _SESSION_PARAM.sub(lambda m: m.group(1) + _mask_value(m.group(2)), text)
    text = _SECRET_HEADER.sub(lambda m: m.group(1) + _masked_header_value(m.group(1), m.group(2)), text)
    return _TOKEN_SHAPED.sub(lambda m: mask_token(m.group(0)), text)


def _masked_header_value(name: str, value: str) -> str:
    lowered = name.lower()
    if "cookie" in lowered:
        return _COOKIE_VALUE.sub(lambda m: m.group(1) + _masked_cookie(m.group(1), m.group(2)), value)
    if "authorization" in lowered:
        scheme = _AUTH_SCHEME.match(value)
        return scheme.group(1) + _mask_value(scheme.group(2)) if scheme else _mask_value(value)
    return _mask_value(value)


def _masked_cookie(name: str, value: str) -> str:
    return value if TOKEN_MASK in value else _mask_value(value)


def _mask_value(value: str) -> str:
    """A credential's value: a token shows its id, anything else nothing."""
    if not value.strip() or value.endswith(f"-{TOKEN_MASK}") or value == TOKEN_MASK:
        return value  # already masked (or nothing to hide)
    return mask_token(value.strip())


class SecretsFilter(logging.Filter):
    """Masks the secrets of every record it passes; it never drops one."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            # uvicorn's AccessFormatter reads the arguments by position (client, method, path...).
            record.args = tuple(self._mask(a) if isinstance(a, str) else a for a in record.args)
        else:
            record.msg = self._mask(record.getMessage())
            record.args = None
            record.__dict__.pop("color_message", None)  # a second copy of the message, unmasked
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._mask(record.exc_text)
        return True

    def _mask(self, text: str) -> str:
        return mask_secrets(text, self._secrets)


def masked_log_config(secrets: Iterable[str], level: str = "warning") -> dict[str, Any]:
    """uvicorn's logging configuration with `SecretsFilter` on every handler, the mock's loggers included.

    `level`: the mock's own loggers log from it on, as uvicorn's do from serve's --log-level.
    """
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"secrets": {"()": SecretsFilter, "secrets": tuple(secrets)}}
    for handler in config["handlers"].values():
        handler["filters"] = ["secrets"]
    # The mock's own loggers (`mockserver.*`) reach the same handler, masked, instead of
    # logging's last-resort one.
    config["loggers"]["mockserver"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config
