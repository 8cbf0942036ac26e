"""Reading what a finished container left (sandbox.results.collect)."""

from __future__ import annotations

from pathlib import Path

from sandbox.results.collect import MESSAGE_LIMIT_BYTES, collect_outputs, read_message


def test_no_message_file_is_none_and_valid(tmp_path: Path) -> None:
    assert read_message(tmp_path / "message") == (None, True)


def test_long_valid_utf8_message_stays_valid_and_is_cut_at_one_kilobyte(tmp_path: Path) -> None:
    path = tmp_path / "message"
    path.write_text("€" * 400, encoding="utf-8")  # 1,200 bytes; 1024 is mid-character
    message, valid = read_message(path)
    assert valid is True
    assert message is not None and set(message) == {"€"}
    assert len(message.encode("utf-8")) <= MESSAGE_LIMIT_BYTES


def test_invalid_utf8_anywhere_in_the_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "message"
    path.write_bytes(b"fine start " + b"x" * 2000 + b"\xff")
    assert read_message(path)[1] is False


def test_outputs_list_regular_files_with_sizes_and_skip_symlinks(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "part.csv").write_text("a,b\n1,2\n")
    (folder / "link.csv").symlink_to(folder / "train" / "part.csv")
    files = collect_outputs({"data": folder})["data"]
    assert [(f.path, f.size_bytes) for f in files] == [("train/part.csv", 8)]
