"""Contents packed from pieces (v1/packed.py) are marshal streams that load as the very content."""

from __future__ import annotations

import marshal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.v1.packed import PackedShape, Slot, pack_int, pack_str

# Any text: every code point, lone surrogates included, empty, whitespace, longer than a short form.
_ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=300) | st.sampled_from(
    ["", " ", "\t\n", "\ud800", "x\udfffy", "a" * 255, "a" * 256, "é" * 200]
)


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (True is not 1, key order kept)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@settings(max_examples=300, deadline=None)
@given(text=_ANY_TEXT, shared=st.booleans())
def test_a_packed_text_loads_as_the_text(text: str, shared: bool) -> None:
    assert _same(marshal.loads(pack_str(text, shared=shared)), text)


@settings(max_examples=300, deadline=None)
@given(number=st.integers() | st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**200]))
def test_a_packed_int_loads_as_the_int_of_any_size(number: int) -> None:
    assert _same(marshal.loads(pack_int(number)), number)


# A shape's leaves: a constant JSON scalar, or a slot by number (0 and 1 shared texts, 2 a text,
# 3 an int); any nesting of lists and dicts.
_SCALARS = st.none() | st.booleans() | st.integers() | _ANY_TEXT
_LEAVES = _SCALARS.map(lambda value: ("constant", value)) | st.integers(0, 3).map(lambda n: ("slot", n))
_TREES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4).map(lambda items: ("list", items))
        | st.dictionaries(st.text(max_size=6), inner, max_size=4).map(lambda items: ("dict", items))
    ),
    max_leaves=25,
)
_SLOTS = (Slot(0, shared=True), Slot(1, shared=True), Slot(2), Slot(3))


def _build(tree: tuple[str, Any], values: tuple[Any, ...]) -> tuple[Any, Any]:
    """(the shape with its slots, the content with the slots' values)."""
    kind, item = tree
    if kind == "constant":
        return item, item
    if kind == "slot":
        return _SLOTS[item], values[item]
    if kind == "list":
        built = [_build(child, values) for child in item]
        return [shape for shape, _ in built], [content for _, content in built]
    shapes: dict[str, Any] = {}
    contents: dict[str, Any] = {}
    for key, child in item.items():
        shapes[key], contents[key] = _build(child, values)
    return shapes, contents


@settings(max_examples=300, deadline=None)
@given(tree=_TREES, first=_ANY_TEXT, second=_ANY_TEXT, third=_ANY_TEXT, number=st.integers())
def test_a_filled_shape_loads_as_its_content_with_the_values_in_place(
    tree: tuple[str, Any], first: str, second: str, third: str, number: int
) -> None:
    # Given a shape holding each slot anywhere, any number of times (shared ones referred back to)
    values = (first, second, third, number)
    shape, content = _build(("list", [("slot", 0), tree, ("slot", 1), ("slot", 0), tree]), values)
    # When its slots are filled with the values packed
    packed = [pack_str(first, shared=True), pack_str(second, shared=True), pack_str(third), pack_int(number)]
    stream = PackedShape(shape).fill(packed)
    # Then the stream loads as the content itself
    assert _same(marshal.loads(stream), content)


def test_a_shared_text_is_stored_once_however_often_the_shape_holds_it() -> None:
    text = "a long answer " * 50
    shape = PackedShape({"content": Slot(0, shared=True), "parts": [{"text": Slot(0, shared=True)}]})
    stream = shape.fill([pack_str(text, shared=True)])
    assert marshal.loads(stream) == {"content": text, "parts": [{"text": text}]}
    assert stream.count(text.encode()) == 1


def test_a_percent_sign_in_a_constant_piece_is_kept() -> None:
    shape = PackedShape({"100%": "%b %s %%", "v": Slot(0)})
    assert marshal.loads(shape.fill([pack_str("%b")])) == {"100%": "%b %s %%", "v": "%b"}


def test_a_shape_refuses_what_is_not_json_or_has_no_slot() -> None:
    with pytest.raises(TypeError):
        PackedShape({"a": 1.5, "b": Slot(0)})
    with pytest.raises(ValueError, match="constant"):
        PackedShape({"a": [1, "b"]})
