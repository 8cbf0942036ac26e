"""Writing a run's record when the workspace's disk may be full."""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = ["is_disk_full", "write_failure"]

_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    """True for "no space left on device" and "disk quota exceeded"."""
    return isinstance(exc, OSError) and exc.errno in _DISK_FULL


def write_failure(path: Path, exc: OSError) -> str:
    """One line: ``no space left on device while writing /ws/runs/<id>/stderr.log``."""
    return f"{_reason(exc)} while writing {path}"


def _reason(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return reason[:1].lower() + reason[1:]
