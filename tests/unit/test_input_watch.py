"""The supervisor's watch on the input channels (container/_container/input_watch.py),
run on the host: inotify sees this machine's opens as the container's kernel sees the job's."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import sandbox.container._container


def _load_input_watch() -> Any:
    folder = Path(sandbox.container._container.__file__).resolve().parent
    spec = importlib.util.spec_from_file_location("input_watch", folder / "input_watch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


input_watch = _load_input_watch()


def _channels(root: Path, *names: str) -> list[str]:
    for name in names:
        (root / name / "sub").mkdir(parents=True)
        (root / name / "sub" / "part.csv").write_text("a\n1\n")
    return [str(root / name) for name in names]


def _states(report: dict[str, Any]) -> dict[str, str]:
    return {Path(path).name: record["state"] for path, record in report.items()}


def test_an_open_or_a_listing_reads_a_channel_and_a_stat_does_not(tmp_path: Path) -> None:
    paths = _channels(tmp_path, "opened", "listed", "looked_at", "untouched")
    watch = input_watch.InputWatch(paths)
    (tmp_path / "opened" / "sub" / "part.csv").read_text()
    os.listdir(tmp_path / "listed")
    assert (tmp_path / "looked_at" / "sub" / "part.csv").is_file()
    assert _states(watch.report()) == {
        "opened": "read",
        "listed": "read",
        "looked_at": "unread",
        "untouched": "unread",
    }


def test_a_read_by_another_process_counts(tmp_path: Path) -> None:
    """Native readers and subprocesses open files where no Python hook sees them."""
    paths = _channels(tmp_path, "train", "test")
    watch = input_watch.InputWatch(paths)
    subprocess.run(["cat", str(tmp_path / "train" / "sub" / "part.csv")], check=True)
    assert _states(watch.report()) == {"train": "read", "test": "unread"}


def test_thousands_of_opens_leave_one_event_per_folder(tmp_path: Path) -> None:
    (path,) = _channels(tmp_path, "train")
    watch = input_watch.InputWatch([path])
    for _ in range(5000):
        (tmp_path / "train" / "sub" / "part.csv").read_bytes()
    queued = list(input_watch.events(os.read(watch.fd, 1 << 20)))
    # The first open, then the kernel's word that the one-shot watch is gone.
    assert [(mask, name) for _, mask, name in queued] == [
        (input_watch.IN_OPEN, "part.csv"),
        (input_watch.IN_IGNORED, ""),
    ]


def test_the_input_root_is_not_read_by_opening_the_code_or_a_nested_channel(
    tmp_path: Path,
) -> None:
    root = tmp_path / "input"
    (root / "code").mkdir(parents=True)
    (root / "code" / "helper.py").write_text("")
    (root / "model").mkdir()
    (root / "model" / "model.bst").write_text("m")
    (root / "data.csv").write_text("a\n1\n")
    paths = [str(root), str(root / "model")]
    watch = input_watch.InputWatch(paths, skip=[str(root / "code")])
    os.listdir(root / "code")
    (root / "code" / "helper.py").read_text()
    os.listdir(root / "model")
    assert _states(watch.report()) == {"input": "unread", "model": "read"}

    again = input_watch.InputWatch(paths, skip=[str(root / "code")])
    os.listdir(root / "code")  # leaves the root's watch in place for the next open
    (root / "data.csv").read_text()
    assert _states(again.report()) == {"input": "read", "model": "unread"}


def test_a_file_reached_through_a_link_counts(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("a\n1\n")
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "data.csv").symlink_to(elsewhere)
    (tmp_path / "train" / "dangling.csv").symlink_to(tmp_path / "absent.csv")
    watch = input_watch.InputWatch([str(tmp_path / "train")])
    elsewhere.read_text()  # the link's target, by its own path
    assert _states(watch.report()) == {"train": "read"}


def test_a_file_channel_is_watched_itself(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("a\n")
    (tmp_path / "b.csv").write_text("b\n")
    watch = input_watch.InputWatch([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    (tmp_path / "b.csv").read_text()
    assert _states(watch.report()) == {"a.csv": "unread", "b.csv": "read"}


def test_what_cannot_be_watched_whole_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small, large = _channels(tmp_path, "small", "large")
    for index in range(5):
        (tmp_path / "large" / f"folder{index}").mkdir()
    monkeypatch.setattr(input_watch, "MAX_WATCHES", 4)
    report = input_watch.InputWatch([small, large, str(tmp_path / "absent")]).report()
    assert _states(report) == {"small": "unread", "large": "unknown", "absent": "unknown"}
    assert report[large]["reason"] == "more than 4 folders to watch"


def test_no_inotify_is_unknown_for_every_channel(tmp_path: Path) -> None:
    class NoInotify:
        def inotify_init1(self, flags: int) -> int:
            return -1

        def errno(self) -> int:
            return 24

    paths = _channels(tmp_path, "train")
    report = input_watch.InputWatch(paths, libc=NoInotify()).report()
    assert report == {
        paths[0]: {"state": "unknown", "reason": "no inotify instance: " + os.strerror(24)}
    }


def test_an_overflowed_queue_makes_unread_channels_unknown(tmp_path: Path) -> None:
    paths = _channels(tmp_path, "train")
    watch = input_watch.InputWatch(paths)
    os.close(watch.fd)
    reader, writer = os.pipe()
    os.set_blocking(reader, False)
    os.write(writer, input_watch.EVENT.pack(-1, input_watch.IN_Q_OVERFLOW, 0, 0))
    os.close(writer)
    watch.fd = reader
    report = watch.report()
    assert report[paths[0]] == {"state": "unknown", "reason": "the event queue overflowed"}


def test_events_are_parsed_with_their_padded_names() -> None:
    data = input_watch.EVENT.pack(3, input_watch.IN_OPEN, 0, 16) + b"part.csv".ljust(16, b"\0")
    data += input_watch.EVENT.pack(4, input_watch.IN_OPEN, 0, 0)
    assert list(input_watch.events(data)) == [
        (3, input_watch.IN_OPEN, "part.csv"),
        (4, input_watch.IN_OPEN, ""),
    ]


def test_a_file_mounted_into_a_channel_is_watched_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "census.csv").write_text("a\n1\n")
    (tmp_path / "input" / "other.csv").write_text("a\n1\n")
    mounted = str(tmp_path / "input" / "census.csv")
    monkeypatch.setattr(input_watch, "mount_points", lambda: {"/", mounted})
    watch = input_watch.InputWatch([str(tmp_path / "input")])
    assert sorted(path for _, path in watch.watches.values()) == [str(tmp_path / "input"), mounted]


def test_mount_points_are_read_with_their_escapes(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_bytes(
        b"1 0 0:1 / / rw - overlay overlay rw\n"
        b"2 1 8:1 /data/x.csv /opt/ml/processing/input/a\\040b.csv ro - ext4 /dev/sda1 rw\n"
    )
    assert input_watch.mount_points(str(mountinfo)) == {
        "/",
        "/opt/ml/processing/input/a b.csv",
    }


def test_a_folder_shared_with_another_channel_leaves_the_first_channels_watch_alone(
    tmp_path: Path,
) -> None:
    """The first channel's folder holds the code folder, so its watch outlives an open of
    that folder; another channel reaching the same folder through a link must not turn
    it into a one-shot watch that the code folder's open would use up."""
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "code").mkdir(parents=True)
    (first / "part.csv").write_text("a\n1\n")
    second.mkdir()
    (second / "link").symlink_to(first)
    watch = input_watch.InputWatch([str(first), str(second)], skip=[str(first / "code")])
    os.listdir(first / "code")  # the interpreter scans the code folder: not a read
    (first / "part.csv").read_text()
    report = watch.report()
    assert _states(report) == {"first": "read", "second": "unknown"}
    assert "shared with another channel" in report[str(second)]["reason"]
