"""Copying a job's folders into and out of a container, for engines that do not see
this machine's files (a remote engine, a Docker context on another host).

Instead of bind mounts, the mounts' host folders go into the created container as one
tar stream (read-only ones owned by root, without write permission), and the writable
ones come back after the run, extracted safely: no absolute paths, no ``..``, no link
leaving its folder, no device node, FIFO or other special file. Files are streamed in
chunks, never read whole into memory. No docker-py here: the engine sends and receives
the bytes.
"""

from __future__ import annotations

import enum
import io
import os
import stat
import tarfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from sandbox.errors import UsageError

__all__ = [
    "COPY_MODE_ENV",
    "CopyMode",
    "MountLike",
    "Transfer",
    "copy_mode_setting",
    "extract_safely",
    "file_archive",
    "mounts_archive",
]

COPY_MODE_ENV = "SANDBOX_COPY_MODE"
_CHUNK = 1024 * 1024
_BLOCK = tarfile.BLOCKSIZE


class CopyMode(str, enum.Enum):
    """How the job's folders reach the container."""

    AUTO = "auto"
    """Bind mounts when the engine sees this machine's files, else copies."""
    BIND = "bind"
    COPY = "copy"


def copy_mode_setting(option: str | None = None) -> CopyMode:
    """The copy mode: the option, else ``SANDBOX_COPY_MODE``, else ``auto``.

    Raises:
        UsageError: the value is not one of auto, bind, copy.
    """
    name, raw = ("--copy-mode", option) if option else (COPY_MODE_ENV, os.getenv(COPY_MODE_ENV))
    if not raw:
        return CopyMode.AUTO
    try:
        return CopyMode(raw.strip().lower())
    except ValueError:
        raise UsageError(f"{name}={raw!r}: give auto, bind or copy") from None


class MountLike(Protocol):
    @property
    def host_path(self) -> Path: ...

    @property
    def container_path(self) -> str: ...

    @property
    def read_only(self) -> bool: ...


@dataclass
class Transfer:
    """What copying cost for one container (copy mode only)."""

    bytes_in: int = 0
    seconds_in: float = 0.0
    bytes_out: int = 0
    seconds_out: float = 0.0
    skipped: list[str] = field(default_factory=list)
    """Members of the returned archives refused by the safe extraction, with the reason."""

    def summary(self) -> str:
        line = (
            f"folders copied, not bind-mounted (copy mode): "
            f"{_size(self.bytes_in)} copied in ({self.seconds_in:.2f} s), "
            f"{_size(self.bytes_out)} copied back ({self.seconds_out:.2f} s)"
        )
        if self.skipped:
            line += f"; not copied back: {', '.join(self.skipped[:5])}"
            if len(self.skipped) > 5:
                line += f" and {len(self.skipped) - 5} more"
        return line


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{count / 1024:.1f} KB"


def _inner(path: str, mounts: Iterable[MountLike], own: str) -> bool:
    """Whether ``path`` (in the container) lies in another, deeper mount than ``own``:
    that mount's content is what the container sees there."""
    for mount in mounts:
        other = mount.container_path.rstrip("/")
        if (
            other != own
            and other.startswith(own + "/")
            and (path == other or path.startswith(other + "/"))
        ):
            return True
    return False


def mounts_archive(mounts: Sequence[MountLike], owner: tuple[int, int]) -> Iterator[bytes]:
    """A tar stream (extracted at ``/``) of every mount's host folder or file at its
    container path, outer mounts before those nested in them.

    Writable mounts belong to ``owner`` with the host's permissions; read-only ones to
    root, without write permission, so that a job not run as root cannot change them.
    Symbolic links stay links; special files are left out, as a bind mount would show
    them but a copy cannot.
    """
    ordered = sorted(mounts, key=lambda mount: mount.container_path.count("/"))
    for mount in ordered:
        own = mount.container_path.rstrip("/")
        for host, target in _walk(mount.host_path, own):
            if target != own and _inner(target, mounts, own):
                continue
            yield from _entry(host, target, owner, read_only=mount.read_only)
    yield b"\0" * (2 * _BLOCK)


def file_archive(host: Path, target: str, owner: tuple[int, int]) -> Iterator[bytes]:
    """A tar stream of one host file at ``target`` (a file the job watches, refreshed)."""
    yield from _entry(host, target, owner, read_only=False)
    yield b"\0" * (2 * _BLOCK)


def _walk(root: Path, target: str) -> Iterator[tuple[Path, str]]:
    yield root, target
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        relative = Path(folder).relative_to(root).as_posix()
        base = target if relative == "." else f"{target}/{relative}"
        for name in [*dirs, *sorted(files)]:
            yield Path(folder) / name, f"{base}/{name}"


def _entry(host: Path, target: str, owner: tuple[int, int], *, read_only: bool) -> Iterator[bytes]:
    try:
        status = host.lstat()
    except OSError:
        return  # gone since the walk: nothing to show
    info = tarfile.TarInfo(target.lstrip("/"))
    info.mtime = int(status.st_mtime)
    info.uid, info.gid = (0, 0) if read_only else owner
    mode = stat.S_IMODE(status.st_mode)
    if stat.S_ISDIR(status.st_mode):
        info.type = tarfile.DIRTYPE
        info.mode = 0o555 if read_only else mode
    elif stat.S_ISREG(status.st_mode):
        info.type = tarfile.REGTYPE
        info.size = status.st_size
        info.mode = (0o555 if mode & 0o111 else 0o444) if read_only else mode
    elif stat.S_ISLNK(status.st_mode):
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(host)
        info.mode = 0o777
    else:
        return
    yield info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    if info.type == tarfile.REGTYPE:
        yield from _content(host, info.size)


def _content(host: Path, size: int) -> Iterator[bytes]:
    """Exactly ``size`` bytes (a file that shrank meanwhile is padded), then the padding
    to a whole block."""
    left = size
    with open(host, "rb") as stream:
        while left > 0:
            chunk = stream.read(min(_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    while left > 0:
        pad = min(_CHUNK, left)
        left -= pad
        yield b"\0" * pad
    remainder = size % _BLOCK
    if remainder:
        yield b"\0" * (_BLOCK - remainder)


class _ChunkReader(io.RawIOBase):
    """A readable stream over an iterator of byte chunks, counting what it read."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.count += size
        return size


def extract_safely(
    chunks: Iterable[bytes],
    destination: Path,
    *,
    container_path: str,
    mounts: Sequence[MountLike],
    transfer: Transfer,
) -> None:
    """Extract the archive ``get_archive`` gave for ``container_path`` into the host
    folder ``destination``, streaming; refused members are recorded in ``transfer``.

    The archive's top entry is the folder itself (its last path component); what lies
    in a deeper mount is that mount's, and comes back to its own folder.
    """
    own = container_path.rstrip("/")
    top = PurePosixPath(own).name
    destination.mkdir(parents=True, exist_ok=True)
    reader = _ChunkReader(chunks)
    started = time.monotonic()
    buffered: IO[bytes] = io.BufferedReader(reader, buffer_size=_CHUNK)
    with tarfile.open(fileobj=buffered, mode="r|") as archive:
        for member in archive:
            relative = _relative(member.name, top)
            if relative is None or relative == "":
                continue  # the folder itself, which exists on the host
            if _inner(f"{own}/{relative}", mounts, own):
                continue
            renamed = member.replace(name=relative, deep=False)
            if member.islnk():
                link = _relative(member.linkname, top)
                if link is None:
                    transfer.skipped.append(f"{own}/{relative} (a link out of the folder)")
                    continue
                renamed = renamed.replace(linkname=link, deep=False)
            try:
                safe = tarfile.data_filter(renamed, str(destination))
            except tarfile.FilterError as exc:
                transfer.skipped.append(f"{own}/{relative} ({_reason(exc)})")
                continue
            if safe is None:
                continue
            archive.extract(safe, str(destination), filter="fully_trusted")
    transfer.bytes_out += reader.count
    transfer.seconds_out += time.monotonic() - started


def _relative(name: str, top: str) -> str | None:
    parts = PurePosixPath(name.lstrip("/")).parts
    if not parts or parts[0] != top:
        return None
    return "/".join(parts[1:])


def _reason(exc: tarfile.FilterError) -> str:
    if isinstance(exc, tarfile.SpecialFileError):
        return "a special file"
    if isinstance(exc, (tarfile.AbsoluteLinkError, tarfile.LinkOutsideDestinationError)):
        return "a link out of the folder"
    if isinstance(exc, (tarfile.AbsolutePathError, tarfile.OutsideDestinationError)):
        return "a path out of the folder"
    return type(exc).__name__
