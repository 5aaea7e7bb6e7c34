"""The serve default id factory makes random RFC 4122 version-4 UUIDs, plain `uuid.UUID`s."""

from __future__ import annotations

import pickle
import uuid

from mockserver.core.clock import random_uuids


def test_random_ids_are_version_4_of_the_rfc_4122_variant() -> None:
    new_id = random_uuids()
    for _ in range(600):  # past one block of ids read from the OS
        id_ = new_id()
        assert id_.version == 4
        assert id_.variant == uuid.RFC_4122


def test_random_ids_are_plain_uuids_equal_to_their_parsed_text() -> None:
    id_ = random_uuids()()
    parsed = uuid.UUID(str(id_))
    assert type(id_) is uuid.UUID
    assert id_ == parsed
    assert hash(id_) == hash(parsed)
    assert repr(id_) == repr(parsed)
    assert id_.is_safe is parsed.is_safe
    assert pickle.loads(pickle.dumps(id_)) == id_


def test_random_ids_do_not_repeat_within_a_factory_nor_across_factories() -> None:
    first, second = random_uuids(), random_uuids()
    ids = [first() for _ in range(1000)] + [second() for _ in range(1000)]
    assert len(set(ids)) == len(ids)


def test_random_ids_vary_in_every_bit_but_the_version_and_variant() -> None:
    new_id = random_uuids()
    ones, zeros = 0, 0
    for _ in range(2000):
        value = new_id().int
        ones |= value
        zeros |= ~value
    fixed = (0xF << 76) | (0x3 << 62)
    everything = (1 << 128) - 1
    assert ones & ~fixed & everything == everything & ~fixed
    assert zeros & ~fixed & everything == everything & ~fixed
