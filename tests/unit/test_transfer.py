"""Copy mode without an engine: the tar stream into a container and the safe way back."""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.container.transfer import (
    CopyMode,
    Transfer,
    copy_mode_setting,
    extract_safely,
    mounts_archive,
)
from sandbox.errors import UsageError


@dataclass(frozen=True)
class _Mount:
    host_path: Path
    container_path: str
    read_only: bool = True


def _members(chunks: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(chunks), mode="r:") as archive:
        return {member.name: member for member in archive.getmembers()}


def test_the_archive_holds_each_mount_at_its_container_path(tmp_path: Path) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    (inputs / "sub").mkdir(parents=True)
    (inputs / "sub" / "data.csv").write_bytes(b"a,b\n" * 1000)
    (inputs / "run.sh").write_text("#!/bin/sh\n")
    (inputs / "run.sh").chmod(0o700)
    os.symlink("sub/data.csv", inputs / "link.csv")
    outputs.mkdir()
    (outputs / "kept.txt").write_text("x")
    (outputs / "kept.txt").chmod(0o640)
    mounts = [_Mount(outputs, "/opt/out", read_only=False), _Mount(inputs, "/opt/in")]
    data = b"".join(mounts_archive(mounts, (1000, 1001)))
    members = _members(data)
    assert set(members) == {
        "opt/in", "opt/in/sub", "opt/in/sub/data.csv", "opt/in/run.sh", "opt/in/link.csv",
        "opt/out", "opt/out/kept.txt",
    }  # fmt: skip
    read_only = members["opt/in/sub/data.csv"]
    assert (read_only.uid, read_only.gid, read_only.mode, read_only.size) == (0, 0, 0o444, 4000)
    assert members["opt/in/run.sh"].mode == 0o555 and members["opt/in"].mode == 0o555
    assert members["opt/in/link.csv"].issym() and members["opt/in/link.csv"].linkname == (
        "sub/data.csv"
    )
    writable = members["opt/out/kept.txt"]
    assert (writable.uid, writable.gid, writable.mode) == (1000, 1001, 0o640)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        extracted = archive.extractfile("opt/in/sub/data.csv")
        assert extracted is not None and extracted.read() == b"a,b\n" * 1000


def test_a_nested_mount_hides_what_the_outer_folder_has_there(tmp_path: Path) -> None:
    outer, inner = tmp_path / "outer", tmp_path / "inner"
    (outer / "nested").mkdir(parents=True)
    (outer / "nested" / "hidden.txt").write_text("outer's")
    inner.mkdir()
    (inner / "shown.txt").write_text("inner's")
    mounts = [_Mount(inner, "/o/nested"), _Mount(outer, "/o", read_only=False)]
    names = list(_members(b"".join(mounts_archive(mounts, (0, 0)))))
    assert "o/nested/hidden.txt" not in names
    assert names.index("o") < names.index("o/nested/shown.txt")


def _archive(entries: list[tuple[tarfile.TarInfo, bytes]]) -> list[bytes]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for info, content in entries:
            archive.addfile(info, io.BytesIO(content) if content else None)
    data = buffer.getvalue()
    return [data[i : i + 700] for i in range(0, len(data), 700)]


def _info(name: str, kind: bytes = tarfile.REGTYPE, **fields: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def test_outputs_come_back_and_nothing_escapes_the_folder(tmp_path: Path) -> None:
    destination = tmp_path / "run" / "outputs" / "train"
    chunks = _archive(
        [
            (_info("train", tarfile.DIRTYPE, mode=0o755), b""),
            (_info("train/part.csv", size=3, mode=0o644), b"1,2"),
            (_info("train/sub", tarfile.DIRTYPE, mode=0o755), b""),
            (_info("train/sub/ok", tarfile.SYMTYPE, linkname="../part.csv"), b""),
            (_info("train/hard", tarfile.LNKTYPE, linkname="train/part.csv"), b""),
            (_info("train/up", tarfile.SYMTYPE, linkname="../../secret"), b""),
            (_info("train/abs", tarfile.SYMTYPE, linkname="/etc/passwd"), b""),
            (_info("train/../../escape.txt", size=1), b"x"),
            (_info("train/dev", tarfile.CHRTYPE, devmajor=1, devminor=3), b""),
            (_info("train/fifo", tarfile.FIFOTYPE), b""),
            (_info("other/elsewhere.txt", size=1), b"y"),
        ]
    )
    transfer = Transfer()
    extract_safely(
        chunks,
        destination,
        container_path="/opt/ml/processing/output/train",
        mounts=[_Mount(destination, "/opt/ml/processing/output/train", read_only=False)],
        transfer=transfer,
    )
    found = sorted(p.relative_to(destination).as_posix() for p in destination.rglob("*"))
    assert found == ["hard", "part.csv", "sub", "sub/ok"]
    assert (destination / "hard").read_text() == "1,2"
    assert (destination / "sub" / "ok").read_text() == "1,2"
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "run" / "escape.txt").exists()
    reasons = "; ".join(transfer.skipped)
    for name in ("up (a link out", "abs (a link out", "escape.txt (a path out", "dev (a special",
                 "fifo (a special"):  # fmt: skip
        assert name in reasons
    assert transfer.bytes_out == sum(len(chunk) for chunk in chunks)


def test_copy_mode_comes_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SANDBOX_COPY_MODE", raising=False)
    assert copy_mode_setting(None) is CopyMode.AUTO
    monkeypatch.setenv("SANDBOX_COPY_MODE", "Copy")
    assert copy_mode_setting(None) is CopyMode.COPY
    assert copy_mode_setting("bind") is CopyMode.BIND
    monkeypatch.setenv("SANDBOX_COPY_MODE", "rsync")
    with pytest.raises(UsageError, match="SANDBOX_COPY_MODE='rsync': give auto, bind or copy"):
        copy_mode_setting(None)


def test_the_summary_gives_bytes_and_seconds_both_ways() -> None:
    line = Transfer(bytes_in=3 * 1024 * 1024, seconds_in=0.5, bytes_out=2048, seconds_out=0.25)
    assert line.summary() == (
        "folders copied, not bind-mounted (copy mode): 3.0 MB copied in (0.50 s), "
        "2.0 KB copied back (0.25 s)"
    )
