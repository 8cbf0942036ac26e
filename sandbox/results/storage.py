"""Writing a run's record when the workspace's disk may be full.

A full disk (or an exhausted quota) is the machine's problem, not the script's: the run
ends as ERROR with one line saying what could not be written, and as much of the result
as fits is kept. A little space is set aside before the container starts, so that the
verdict can still be saved after a script filled the disk.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

from sandbox.constants import RESERVE_BYTES, RESERVE_FILE
from sandbox.errors import DiskFullError
from sandbox.results.models import Status, TestResult

__all__ = [
    "RESERVE_BYTES",
    "RESERVE_FILE",
    "SpaceReserve",
    "disk_full_error",
    "is_disk_full",
    "with_write_failure",
    "write_failure",
]

logger = logging.getLogger(__name__)


_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    """True for "no space left on device" and "disk quota exceeded"."""
    return isinstance(exc, OSError) and exc.errno in _DISK_FULL


def write_failure(path: Path, exc: OSError) -> str:
    """One line: ``no space left on device while writing /ws/runs/<id>/stderr.log``."""
    return str(DiskFullError(path, _reason(exc)))


def disk_full_error(exc: OSError, fallback: Path) -> DiskFullError:
    """The error for ``exc``, naming the file it names (else ``fallback``)."""
    path = Path(os.fsdecode(exc.filename)) if exc.filename else fallback
    return DiskFullError(path, _reason(exc))


def _reason(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return reason[:1].lower() + reason[1:]


def with_write_failure(result: TestResult, reason: str) -> TestResult:
    """``result`` as an ERROR: its record could not be written (``reason``, one line).

    The script's own verdict stays, as a finding; a result that already is an ERROR
    keeps its reason and gets ``reason`` as a finding.
    """
    if result.status is Status.ERROR:
        # An earlier error (the engine, a log that could not be written) stays the reason.
        return result.model_copy(update={"findings": [*result.findings, reason]})
    before = f"{result.status.value}: {result.error_message}" if result.error_message else None
    findings = [*result.findings, f"the script's own verdict: {before or result.status.value}"]
    return result.model_copy(
        update={
            "status": Status.ERROR,
            "error_message": reason,
            "findings": findings,
            "recommendations": [
                *result.recommendations,
                "free space on the workspace's disk, or use --workspace-dir on another disk",
            ],
        }
    )


class SpaceReserve:
    """A file of :data:`RESERVE_BYTES` in a run folder, deleted to make room for its result."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / RESERVE_FILE

    def take(self) -> SpaceReserve:
        """Set the space aside; best effort (a disk already full reserves nothing)."""
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:
            logger.warning("no space set aside for the result: %s", str(exc))
            return self
        try:
            os.posix_fallocate(descriptor, 0, RESERVE_BYTES)
        except OSError as exc:
            logger.warning("no space set aside for the result: %s", str(exc))
            self.release()
        finally:
            os.close(descriptor)
        return self

    def release(self) -> None:
        """Give the space back; never raises."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("could not remove %s: %s", self.path, str(exc))
