"""The container's output captured in bounded memory (sandbox.container.logs)."""

from __future__ import annotations

import random
from pathlib import Path

from sandbox.container.logs import TAIL_LINE_BYTES, TAIL_LINES, TailBuffer, capture

MIB = 1024 * 1024


def tail_of(*chunks: bytes, **limits: int) -> tuple[list[str], bool]:
    buffer = TailBuffer(**limits)
    for chunk in chunks:
        buffer.feed(chunk)
    return buffer.lines()


def test_lines_end_at_newlines_and_carriage_returns_even_split_between_chunks() -> None:
    lines, cut = tail_of(b"one\r", b"\ntwo\rthree", b"\n", b"four")
    assert lines == ["one", "two", "three", "four"]
    assert cut is False


def test_only_the_last_lines_are_kept() -> None:
    lines, _ = tail_of(b"".join(b"line %d\n" % i for i in range(1000)), b"last")
    assert len(lines) == TAIL_LINES
    assert lines[-2:] == ["line 999", "last"]


def test_a_long_line_keeps_its_start_and_says_how_long_it_was() -> None:
    lines, cut = tail_of(b"ValueError: " + b"x" * (2 * MIB), b"\n", b"short\n")
    assert cut is True
    assert lines[0].startswith("ValueError: xxx")
    assert lines[0].endswith(" … [cut: 2.0 MiB line]")
    assert len(lines[0].encode("utf-8")) < TAIL_LINE_BYTES + 40
    assert lines[1] == "short"


def test_a_cut_never_splits_a_character() -> None:
    lines, _ = tail_of("é".encode() * 1000, b"\n")
    text = lines[0].split(" … ")[0]
    assert set(text) == {"é"}


def test_the_whole_tail_is_bounded_too() -> None:
    lines, cut = tail_of(*[b"y" * 500 + b"\n"] * 40, total_bytes=4000)
    assert cut is True
    assert len(lines) == 8
    assert sum(len(line) for line in lines) <= 4000


def test_fifty_lines_of_two_mebibytes_keep_about_fifty_kilobytes() -> None:
    buffer = TailBuffer()
    for _ in range(50):
        for _ in range(128):
            buffer.feed(b"z" * 16384)  # as the engine sends it: 16 KiB frames
        buffer.feed(b"\n")
    lines, cut = buffer.lines()
    assert len(lines) == 50 and cut is True
    assert sum(len(line.encode()) for line in lines) < 64 * 1024


def test_capture_writes_every_byte_to_the_file(tmp_path: Path) -> None:
    chunks = [b"a" * 70000, b"\n", b"b" * 10, b"\n"]
    log = capture(iter(chunks), tmp_path / "stderr.log")
    assert (tmp_path / "stderr.log").read_bytes() == b"".join(chunks)
    assert log.size_bytes == 70012
    assert log.tail[-1] == "b" * 10 and log.tail_cut is True
    assert log.write_error is None


def test_a_full_disk_stops_the_file_not_the_tail() -> None:
    log = capture(iter([b"x" * 100000, b"\nlast line\n"]), Path("/dev/full"))
    assert log.write_error == "no space left on device while writing /dev/full"
    assert log.tail[-1] == "last line"
    assert log.size_bytes == 100011


def test_any_chunking_gives_the_tail_str_splitlines_gives() -> None:
    rng = random.Random(7)
    for _ in range(200):
        pieces = [rng.choice([b"a", b"bb", b"\n", b"\r", b"\r\n", b"ccc"]) for _ in range(400)]
        data = b"".join(pieces)
        buffer = TailBuffer(max_lines=5)
        offset = 0
        while offset < len(data):
            size = rng.choice([1, 2, 3, 17, 200])
            buffer.feed(data[offset : offset + size])
            offset += size
        assert buffer.lines()[0] == data.decode().splitlines()[-5:], data
