"""`/chats/files/...`: files a chat's prompt attaches, kept in memory, and their signed download links.

Read from the pinned handlers (`postChatFile`, `chatFileByID`, `postChatFileDownloadURL`,
`downloadChatFile`, `serveChatFile`; openapi/current/WIRE.md section 5). coderd classifies a
file by its bytes (chatfiles, not read); the mock knows the magic numbers of the allowed images
and PDF, and takes any other UTF-8 as text. The store keeps the newest files up to a total size
(the mock's bound, so uploads can never grow it without end).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote as quote_url
from urllib.parse import unquote
from uuid import UUID

from starlette.responses import Response

from mockserver.core.clock import Clock, IdFactory
from mockserver.core.golang import format_time, parse_uuid, quote
from mockserver.core.models import User
from mockserver.current.responses import json_response
from mockserver.edge.coder_errors import FORBIDDEN_DETAIL, RESOURCE_NOT_FOUND, CoderRefusal

__all__ = ["ChatFilesApi"]

# sdk AllChatAttachmentMediaTypes, in its order.
ALLOWED = (
    "application/json",
    "application/pdf",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/csv",
    "text/markdown",
    "text/plain",
)
MAX_FILE_BYTES = 10 * 1024 * 1024  # sdk MaxChatFileSizeBytes
STORE_BYTES = 64 * 1024 * 1024  # the mock's bound on what all files hold together
LINK_LIFETIME = timedelta(hours=1)  # cryptokeys.ChatFilesTokenDuration was not read
_OCTET = "application/octet-stream"
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_TEXT_SUBTYPES = ("text/csv", "text/markdown", "application/json")


@dataclass(frozen=True, slots=True)
class ChatFile:
    """One uploaded file."""

    id: UUID
    owner_id: UUID
    organization_id: UUID
    name: str
    mime_type: str
    data: bytes
    created_at: datetime


class ChatFilesApi:
    """Handlers of `/chats/files/...`, by operationId, over the files they keep."""

    def __init__(self, *, clock: Clock, new_id: IdFactory) -> None:
        self._clock = clock
        self._new_id = new_id
        self._files: OrderedDict[UUID, ChatFile] = OrderedDict()
        self._links: dict[str, tuple[UUID, UUID, datetime]] = {}  # token -> file, user, expiry

    async def upload_chat_file(
        self, user: User, query: dict[str, list[str]], request_headers: Mapping[str, str], raw_body: bytes
    ) -> Response:
        """POST /chats/files?organization=: the raw bytes, named by Content-Disposition."""
        raw_org = (query.get("organization") or [""])[0]
        if not raw_org:
            raise CoderRefusal(400, "Missing organization query parameter.")
        try:
            organization = parse_uuid(raw_org)
        except ValueError:
            raise CoderRefusal(400, "Invalid organization ID.") from None
        if organization != user.organization_id:
            raise CoderRefusal(403, "Forbidden.", FORBIDDEN_DETAIL)
        headers, body = request_headers, raw_body
        declared = _media_type(headers.get("content-type") or _OCTET)
        if declared != _OCTET and declared not in ALLOWED:
            raise _unsupported()
        name = _filename(headers.get("content-disposition", ""))
        if len(body) > MAX_FILE_BYTES:
            raise CoderRefusal(413, "File too large.", f"Maximum file size is {MAX_FILE_BYTES} bytes.")
        if not name:
            raise CoderRefusal(
                400, "Filename is required.", "Provide a filename in the Content-Disposition header."
            )
        detected = _detect(body)
        if detected not in ALLOWED:
            raise _unsupported()
        if declared not in (_OCTET, detected):
            if detected == "text/plain" and declared in _TEXT_SUBTYPES:
                detected = declared  # text/plain refines to the safe text subtype declared
            else:
                raise CoderRefusal(
                    400,
                    "File content type does not match Content-Type header.",
                    f"Header declared {quote(declared)} but file content was detected as {quote(detected)}.",
                )
        stored = ChatFile(self._new_id(), user.id, organization, name, detected, body, self._clock())
        self._files[stored.id] = stored
        while sum(len(f.data) for f in self._files.values()) > STORE_BYTES:
            self._files.popitem(last=False)
        return json_response(201, {"id": str(stored.id)})

    def _file(self, user: User, raw: str) -> ChatFile:
        try:
            file_id = parse_uuid(raw)
        except ValueError:
            raise CoderRefusal(400, "Invalid file ID.") from None
        found = self._files.get(file_id)
        if found is None or found.owner_id != user.id:
            raise CoderRefusal(404, RESOURCE_NOT_FOUND)
        return found

    async def get_chat_file(self, user: User, path: Mapping[str, str]) -> Response:
        """GET /chats/files/{file}: the bytes, cached privately for a year."""
        return _serve(self._file(user, path["file"]), "private, max-age=31536000, immutable")

    async def create_chat_file_download_url(
        self, user: User, path: Mapping[str, str], request_headers: Mapping[str, str]
    ) -> Response:
        """POST /chats/files/{file}/download-url: a link that needs no session token, for an hour."""
        found = self._file(user, path["file"])
        token = self._new_id().hex  # the mock's opaque token (coderd signs a JWT)
        expires = (self._clock() + LINK_LIFETIME).replace(microsecond=0)
        self._links[token] = (found.id, user.id, expires)
        host = request_headers.get("host", "localhost")
        return json_response(
            200,
            {
                "url": f"http://{host}/api/experimental/chats/files/{found.id}/download?token={token}",
                "expires_at": format_time(expires),
                "sha256": hashlib.sha256(found.data).hexdigest(),
                "size_bytes": len(found.data),
                "name": found.name,
                "mime_type": found.mime_type,
            },
        )

    async def download_chat_file_with_signed_token(
        self, path: Mapping[str, str], query: dict[str, list[str]]
    ) -> Response:
        """GET /chats/files/{file}/download?token=: every failure is a plain 404."""
        link = self._links.get((query.get("token") or [""])[0])
        try:
            file_id = parse_uuid(path["file"])
        except ValueError:
            link = None
        if link is None or link[0] != file_id or link[2] <= self._clock() or file_id not in self._files:
            raise CoderRefusal(404, RESOURCE_NOT_FOUND)
        return _serve(self._files[file_id], "no-store")


def _unsupported() -> CoderRefusal:
    return CoderRefusal(400, "Unsupported file type.", f"Allowed types: {', '.join(ALLOWED)}.")


def _media_type(value: str) -> str:
    from email.message import Message  # here: only an upload needs email's classes (~3 ms at start-up)

    message = Message()
    message["content-type"] = value
    return message.get_content_type() if "/" in value else value.strip().lower()


def _filename(disposition: str) -> str:
    """Go's mime.ParseMediaType's `filename` (an RFC 5987 `filename*` wins over the plain one)."""
    extended = re.search(r"filename\*\s*=\s*([^']*)'[^']*'([^;\s]+)", disposition)
    if extended:
        return unquote(extended.group(2), encoding=extended.group(1) or "utf-8", errors="replace")
    plain = re.search(r'filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;\s]+)', disposition)
    if not plain:
        return ""
    return plain.group(2) if plain.group(2) is not None else plain.group(1)


def _detect(data: bytes) -> str:
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return _OCTET
    return "text/plain"


def _disposition(kind: str, name: str) -> str:
    """mime.FormatMediaType: a quoted ASCII name, else RFC 2231's `filename*=utf-8''...`."""
    if not name:
        return kind
    if name.isascii() and name.isprintable():
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'{kind}; filename="{escaped}"'
    return f"{kind}; filename*=utf-8''{quote_url(name, safe='')}"


def _serve(found: ChatFile, cache: str) -> Response:
    disposition = "inline" if found.mime_type.startswith("image/") else "attachment"
    return Response(
        found.data,
        media_type=found.mime_type,
        headers={
            "Content-Disposition": _disposition(disposition, found.name),
            "Cache-Control": cache,
        },
    )
