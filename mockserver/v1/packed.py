"""Row contents of a fixed shape packed per post from pieces packed once (ChatMessage's stored form).

A row stores its content as a marshal stream (see core/models.ChatMessage). The rows a post
writes for the default scenarios have a fixed shape around a few values (the run's id, the
posted text, token counts): `PackedShape` packs such a shape once, when it is compiled, into
constant pieces with a slot for each value, and each post packs only its values and joins
them in (`PackedShape.fill`), rather than building the dicts and packing them whole.

The streams written here are valid marshal (version 4, what `marshal.loads` reads since
Python 3.4) that load as the very content: a dict is `{`, its keys and values in order, then
`0`; a list `[`, its length (4 bytes, little-endian), its items; a str `z` and a 1-byte length
then its ASCII (short ASCII), or `u`, a 4-byte length and its UTF-8 with lone surrogates kept
(`surrogatepass`, as marshal itself packs them); an int `i` and 4 bytes, signed; None `N`,
True `T`, False `F`. marshal's references (an object whose type byte has FLAG_REF set is
numbered, in the order such objects are read, and `r` and a 4-byte number stands for it again
later) are used for one thing only: a value a shape holds twice (a shared Slot, packed with
`pack_str(..., shared=True)`) is written whole once, flagged, and as `r` and its number after;
no constant piece and no other value is flagged, so the shape alone numbers the flagged ones,
in the order they stand (a shared value is stored once, as `marshal.dumps` does for one str
object held twice). `marshal.dumps` may pack the same content otherwise (it refers back to
strings it has seen): the tests compare what `marshal.loads` reads, not bytes.
"""

from __future__ import annotations

import marshal
import operator
import struct
from collections.abc import Callable
from typing import Any

__all__ = ["PackedShape", "Slot", "pack_int", "pack_str"]

_FLAG_REF = 0x80  # marshal's "remember this object" bit on a type byte
_SHORT_ASCII = tuple(b"z" + bytes((size,)) for size in range(256))  # by length
_SHORT_ASCII_SHARED = tuple(bytes((ord("z") | _FLAG_REF, size)) for size in range(256))
_UNICODE = (b"u", bytes((ord("u") | _FLAG_REF,)))  # by shared
_pack_u32: Callable[[int], bytes] = struct.Struct("<I").pack
_pack_i32: Callable[[int], bytes] = struct.Struct("<i").pack


def pack_str(text: str, shared: bool = False) -> bytes:
    """`text` as a marshal stream of its own (short ASCII when it can, as marshal does);
    `shared`: flagged, for a shared Slot (see the module's docstring)."""
    if len(text) < 256 and text.isascii():
        return (_SHORT_ASCII_SHARED if shared else _SHORT_ASCII)[len(text)] + text.encode()
    data = text.encode("utf-8", "surrogatepass")
    return _UNICODE[shared] + _pack_u32(len(data)) + data


def pack_int(number: int) -> bytes:
    """`number` as a marshal stream of its own."""
    try:
        return b"i" + _pack_i32(number)
    except struct.error:  # past 32 bits: marshal's long form, a single object (no reference in it)
        packed = marshal.dumps(number)
        return bytes((packed[0] & ~_FLAG_REF,)) + packed[1:]


class Slot:
    """Where a shape takes a value packed per post: the `index`-th of `PackedShape.fill`'s values.

    `shared`: the value is packed flagged (`pack_str(..., shared=True)`), and where the shape
    holds this slot again it refers back to it rather than holding it twice.
    """

    __slots__ = ("index", "shared")

    def __init__(self, index: int, shared: bool = False) -> None:
        self.index = index
        self.shared = shared


class PackedShape:
    """A JSON content with `Slot`s among its values, packed once into constant pieces.

    `fill(values)` is the marshal stream of the content with each slot replaced by the value
    whose stream is `values[slot.index]` (packed by `pack_str` / `pack_int`).
    """

    __slots__ = ("_format", "_values")

    def __init__(self, shape: Any) -> None:
        pieces: list[bytes | Slot] = []
        _pack_shape(shape, pieces, {})
        # One bytes %-format: the constant pieces (a literal `%` doubled) and `%b` for each slot.
        self._format = b"".join(
            b"%b" if isinstance(piece, Slot) else piece.replace(b"%", b"%%") for piece in pieces
        )
        slots = [piece.index for piece in pieces if isinstance(piece, Slot)]
        if not slots:
            raise ValueError("a packed shape without a slot is a constant: pack it once")
        # The slots' values, in order (one slot: the value itself, which % takes alike).
        self._values: Callable[[list[bytes]], Any] = operator.itemgetter(*slots)

    def fill(self, values: list[bytes]) -> bytes:
        """The content's stream with each slot's value joined in."""
        stream: bytes = self._format % self._values(values)
        return stream


def _pack_shape(value: Any, pieces: list[bytes | Slot], shared: dict[int, int]) -> None:
    """Append `value`'s marshal stream to `pieces`, a slot where a Slot stands; `shared`: the
    reference number of each shared slot already written, by its index."""
    if isinstance(value, Slot):
        if not value.shared:
            pieces.append(value)
        elif value.index in shared:
            pieces.append(b"r" + _pack_u32(shared[value.index]))
        else:
            shared[value.index] = len(shared)  # the flagged objects are the shared slots alone
            pieces.append(value)
    elif value is None:
        pieces.append(b"N")
    elif value is True:
        pieces.append(b"T")
    elif value is False:
        pieces.append(b"F")
    elif type(value) is int:
        pieces.append(pack_int(value))
    elif type(value) is str:
        pieces.append(pack_str(value))
    elif type(value) is list:
        pieces.append(b"[" + _pack_u32(len(value)))
        for item in value:
            _pack_shape(item, pieces, shared)
    elif type(value) is dict:
        pieces.append(b"{")
        for key, item in value.items():
            _pack_shape(key, pieces, shared)
            _pack_shape(item, pieces, shared)
        pieces.append(b"0")
    else:
        raise TypeError(f"not a JSON value of a packed shape: {type(value).__name__}")
