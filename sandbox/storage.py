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

from sandbox.errors import DiskFullError
from sandbox.results import Status, TestResult
from sandbox.workspace import write_json_atomic

__all__ = [
    "RESERVE_BYTES",
    "RESERVE_FILE",
    "SpaceReserve",
    "disk_full_error",
    "is_disk_full",
    "save_result",
    "with_write_failure",
    "write_failure",
]

logger = logging.getLogger(__name__)

RESERVE_FILE = ".result-space"
"""Held in the run folder while the container runs; given up to save the result."""
RESERVE_BYTES = 256 * 1024
"""Room for a result without its timeline, spec and output listing (tails are capped)."""

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


def save_result(path: Path, result: TestResult, reserve: SpaceReserve) -> TestResult:
    """Save ``result`` as JSON at ``path`` and return it as saved.

    On a full disk: the reserve is given up and the result, now an ERROR naming what
    could not be written, is saved whole if it fits, else without its timeline, spec,
    execution details and output listing. If even that fails, the returned result says
    so in its findings, and nothing half-written is left.
    """
    try:
        write_json_atomic(path, result.to_json_dict())
        return result
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        result = with_write_failure(result, write_failure(path, exc))
    finally:
        reserve.release()
    for payload in (result.to_json_dict(), _summary(result)):
        try:
            write_json_atomic(path, payload)
            return result
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            failure = write_failure(path, exc)
    return result.model_copy(
        update={"findings": [*result.findings, f"the result was not saved: {failure}"]}
    )


def _summary(result: TestResult) -> dict[str, object]:
    """The result without its longest parts, for a disk with little room left."""
    note = "saved without timeline, spec, execution details and output listing: disk full"
    small = result.model_copy(
        update={
            "timeline": [],
            "spec": {},
            "execution": None,
            "outputs": {},
            "findings": [*result.findings, note],
        }
    )
    return small.to_json_dict()


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
