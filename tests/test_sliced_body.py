"""A long JSON answer in pieces (edge/sliced_body.py): the same bytes however it is cut."""

from __future__ import annotations

import itertools

import pytest
from starlette.responses import Response, StreamingResponse

from mockserver.edge.coder_errors import CONTENT_TYPE
from mockserver.edge.sliced_body import joined_pieces, sliced_json

ITEMS = ("", "a", "bb", "ccc", "é" * 4, "dddddddd")


@pytest.mark.parametrize("piece_chars", [1, 2, 3, 5, 8, 13, 1000])
@pytest.mark.parametrize("count", range(len(ITEMS) + 1))
def test_joined_pieces_are_the_joined_text_cut_only_where_a_piece_is_full(
    piece_chars: int, count: int
) -> None:
    for items in itertools.permutations(ITEMS, count):
        for head, tail in (("[", "]\n"), ('{"messages":[', '],"has_more":false}\n'), ("", "")):
            pieces = list(joined_pieces(head, iter(items), tail, piece_chars=piece_chars))
            assert b"".join(pieces) == (head + ",".join(items) + tail).encode("utf-8")
            # A piece is cut once it holds about piece_chars characters (the first's count, one comma over).
            assert all(len(piece.decode("utf-8")) >= piece_chars - 1 for piece in pieces[:-1])


def test_joined_pieces_draw_items_only_as_pieces_are_asked_for() -> None:
    drawn: list[str] = []

    def items() -> itertools.chain[str]:
        return itertools.chain.from_iterable(
            drawn.append(text) or [text] for text in ("aaaa", "bbbb", "cccc")
        )

    pieces = joined_pieces("[", items(), "]", piece_chars=4)
    assert next(pieces) == b"[aaaa"
    assert drawn == ["aaaa"]
    assert list(pieces) == [b",bbbb", b",cccc", b"]"]


def test_a_one_piece_answer_is_whole_with_the_headers_starlette_gives_it() -> None:
    answer = sliced_json(iter([b'[{"a":1}]\n']), 201)
    plain = Response(content=b'[{"a":1}]\n', status_code=201, media_type=CONTENT_TYPE)
    assert (answer.status_code, answer.body, answer.raw_headers) == (201, plain.body, plain.raw_headers)


def test_an_answer_of_two_pieces_or_more_is_streamed() -> None:
    answer = sliced_json(iter([b"[1", b",2", b"]"]))
    assert isinstance(answer, StreamingResponse)
    assert answer.status_code == 200 and answer.media_type == CONTENT_TYPE
