"""Chats and messages of today's API as JSON text, each encoded once while it stays the same.

A stored message never changes (`ChatMessage.content` is treated as immutable once stored), and
a chat changes only by being replaced (`Chat` is frozen): so a list of fifty messages, or a page
of chats, is the join of texts encoded before, not fifty encodings. Each cache keeps the most
recently encoded `size` entries (messages: and at most `message_chars` characters of them), with
the object it was encoded from, so an entry is used only for that same object (and, for a chat,
the same model and unread flag). Entries are found by plain ints (a message's id, which the
store's one sequence makes unique, and a chat id's `int`): a UUID's hash is Python code, and a
page of fifty messages would call it fifty times. The caches are OrderedDicts: a new entry
evicts the oldest, and a plain dict finds its first live entry by walking past every slot
deleted before it (~1.4 µs against ~0.2, once a cache is full: on every create and send).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, TypeVar

from mockserver.core.golang import encode_json_text, format_time
from mockserver.core.models import Chat, ChatMessage
from mockserver.current.catalog import ChatModelConfig
from mockserver.current.wire import part_json

__all__ = ["EncodedRows", "encode_chat", "encode_message", "json_array"]

_Key = TypeVar("_Key")
_Entry = TypeVar("_Entry")

# Entries each cache keeps: a few pages of the chats in use (about 1 KiB each).
_DEFAULT_SIZE = 4096
# Characters of message texts kept at most: 200 messages of 256 KiB (one page) would otherwise
# hold 50 MB after they were listed, and 4096 of them 1 GB.
_DEFAULT_MESSAGE_CHARS = 8 * 1024 * 1024


def json_array(texts: Iterable[str]) -> str:
    """A JSON array of encoded items."""
    return "[" + ",".join(texts) + "]"


def encode_message(
    message: ChatMessage, content: dict[str, Any] | None = None, chat_id_text: str | None = None
) -> str:
    """`encode_json_text(message_json(message))`, written field by field in message_json's order.

    Its own values need no encoder (an int, a UUID, a time, a role); each part of a type and a
    text alone (most parts) is its type, its text and the constant text of its other fields.
    `content`, when given, is the value the message was stored with (equal to `message.content`,
    which unpacks the row: ~10k instructions a send's answer spares); `chat_id_text`, when
    given, is `str(message.chat_id)`.
    """
    if content is None:
        content = message.content
    if chat_id_text is None:
        chat_id_text = str(message.chat_id)
    pieces = ['{"id":', str(message.id), ',"chat_id":"', chat_id_text, '"']
    if content.get("created_by"):
        pieces += (',"created_by":', encode_json_text(content["created_by"]))
    if content.get("model_config_id"):
        pieces += (',"model_config_id":', encode_json_text(content["model_config_id"]))
    pieces += (',"created_at":"', format_time(message.created_at), '","role":"', message.role._value_, '"')
    if content["parts"]:
        pieces += (',"content":[', ",".join(map(_encode_part, content["parts"])), "]")
    if content.get("usage"):
        pieces += (',"usage":', encode_json_text(content["usage"]))
    pieces.append("}")
    return "".join(pieces)


def encode_chat(chat: Chat, model: ChatModelConfig, *, has_unread: bool) -> str:
    """`encode_json_text(chat_json(chat, model, has_unread=...))`, written field by field in its order.

    Ids and times need no encoder; the title, the labels and the chat's attributes go through it.
    """
    attributes: dict[str, Any] = chat.metadata
    pieces = [
        '{"id":"',
        str(chat.id),
        '","organization_id":"',
        str(chat.organization_id),
        '","owner_id":"',
        str(chat.owner_id),
        '"',
    ]
    if chat.workspace_id is not None:
        pieces += (',"workspace_id":"', str(chat.workspace_id), '"')
    pieces += (',"last_model_config_id":"', model.id_text, '","title":', encode_json_text(chat.title))
    pieces += (',"status":', encode_json_text(chat.status._value_))
    if attributes.get("mode"):
        pieces += (',"mode":', encode_json_text(attributes["mode"]))
    if attributes.get("plan_mode"):
        pieces += (',"plan_mode":', encode_json_text(attributes["plan_mode"]))
    if chat.last_error is not None:
        pieces += (',"last_error":', encode_json_text(chat.last_error))
    pieces += (
        ',"last_turn_summary":null,"summary":null,"created_at":"',
        format_time(chat.created_at),
        '","updated_at":"',
        format_time(chat.updated_at),
        '","archived":',
        _encode_scalar(chat.archived),
        ',"shared":false,"pin_order":',
        _encode_scalar(chat.pin_order),
        ',"mcp_server_ids":[],"labels":',
        encode_json_text(dict(chat.labels)) if chat.labels else "{}",
        ',"has_unread":',
        _encode_scalar(has_unread),
        ',"client_type":',
        encode_json_text(attributes.get("client_type", "api")),
        ',"children":[]}',
    )
    return "".join(pieces)


def _encode_scalar(value: Any) -> str:
    """A bool's or an int's JSON text without building an encoder; anything else through it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    return encode_json_text(value)


# The keys of a part that holds a type and a text and nothing else.
_TYPE_AND_TEXT = frozenset({"type", "text"})
# The JSON text of the types such parts mostly have.
_ENCODED_TYPES = {kind: encode_json_text(kind) for kind in ("text", "reasoning")}
# What follows the text in such a part's JSON: every other field Go always sends, unused.
_AFTER_TEXT = encode_json_text(part_json({"type": "", "text": ""})).removeprefix('{"type":"","text":""')


def _encode_part(part: dict[str, Any]) -> str:
    """`encode_json_text(part_json(part))`."""
    if part.keys() == _TYPE_AND_TEXT:
        kind = part["type"]
        return (
            '{"type":'
            + ((type(kind) is str and _ENCODED_TYPES.get(kind)) or encode_json_text(kind))
            + ',"text":'
            + encode_json_text(part["text"])
            + _AFTER_TEXT
        )
    return encode_json_text(part_json(part))


class EncodedRows:
    """The JSON text of chats and messages, as `encode_json` writes it (no newline)."""

    def __init__(self, size: int = _DEFAULT_SIZE, message_chars: int = _DEFAULT_MESSAGE_CHARS) -> None:
        self._size = size
        self._message_chars = message_chars  # most characters of message texts kept
        self._kept_chars = 0
        self._messages: OrderedDict[int, tuple[ChatMessage, str]] = OrderedDict()  # by message id
        # By a chat id's int: the chat, its model and unread flag, and their text.
        self._chats: OrderedDict[int, tuple[Chat, ChatModelConfig, bool, str]] = OrderedDict()
        # A chat id's text by its int (`str(UUID)` is Python code, ~7.6k instructions): every
        # message of a chat names it, and a chat's id never changes.
        self._chat_id_texts: OrderedDict[int, str] = OrderedDict()

    def message(self, message: ChatMessage, content: dict[str, Any] | None = None) -> str:
        """`message_json(message)`, encoded (`encode_message`; `content` as it takes it)."""
        key = message.id
        entry = self._messages.get(key)
        if entry is not None and entry[0] is message:
            return entry[1]
        chat_id = message.chat_id
        chat_id_text = self._chat_id_texts.get(chat_id.int)
        if chat_id_text is None:
            chat_id_text = str(chat_id)
            _keep(self._chat_id_texts, chat_id.int, chat_id_text, self._size)
        text = encode_message(message, content, chat_id_text)
        if entry is not None:  # a replaced message: its old text goes
            del self._messages[key]
            self._kept_chars -= len(entry[1])
        while self._messages and (
            len(self._messages) >= self._size or self._kept_chars + len(text) > self._message_chars
        ):
            _, (_, oldest) = self._messages.popitem(last=False)  # the text encoded longest ago
            self._kept_chars -= len(oldest)
        if len(text) <= self._message_chars:
            self._messages[key] = (message, text)
            self._kept_chars += len(text)
        return text

    def chat(self, chat: Chat, model: ChatModelConfig, *, has_unread: bool) -> str:
        """`chat_json(chat, model, has_unread=...)`, encoded (`encode_chat`)."""
        key = chat.id.int
        entry = self._chats.get(key)
        if entry is not None and entry[0] is chat and entry[1] is model and entry[2] is has_unread:
            return entry[3]
        text = encode_chat(chat, model, has_unread=has_unread)
        _keep(self._chats, key, (chat, model, has_unread, text), self._size)
        return text


def _keep(cache: OrderedDict[_Key, _Entry], key: _Key, entry: _Entry, size: int) -> None:
    cache.pop(key, None)
    if len(cache) >= size:
        cache.popitem(last=False)  # the entry encoded longest ago
    cache[key] = entry
