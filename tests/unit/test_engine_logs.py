"""Taking the engine's multiplexed log stream apart (container/engine), without an engine."""

from __future__ import annotations

import io
import random

from sandbox.container.engine import _payloads


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


class Trickle(io.BytesIO):
    """A socket that hands out a few bytes at a time, cutting frames anywhere."""

    def __init__(self, data: bytes, seed: int) -> None:
        super().__init__(data)
        self._rng = random.Random(seed)

    def read(self, size: int | None = -1) -> bytes:
        return super().read(self._rng.randint(1, 20))


def test_payloads_come_out_whole_and_in_order_however_the_stream_is_cut() -> None:
    payloads = [b"line %d\n" % i for i in range(300)] + [b"x" * 16384, b"", b"end"]
    stream = b"".join(frame(1, payload) for payload in payloads)
    for seed in range(5):
        assert b"".join(_payloads(Trickle(stream, seed))) == b"".join(payloads)


def test_many_frames_are_joined_into_one_block_per_read() -> None:
    stream = b"".join(frame(2, b"%d\n" % i) for i in range(1000))
    blocks = list(_payloads(io.BytesIO(stream)))
    assert len(blocks) == 1 and blocks[0].count(b"\n") == 1000
