"""Saving a run's record on a full disk (results/storage, results/store.save_result)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
from results_factory import make_result

from sandbox.results import workspace
from sandbox.results.models import Status, TestResult
from sandbox.results.storage import RESERVE_BYTES, SpaceReserve, with_write_failure
from sandbox.results.store import save_result
from sandbox.results.workspace import write_json_atomic


class FullDisk:
    """``write_json_atomic`` whose first ``failures`` calls find the disk full."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.payloads: list[Any] = []

    def __call__(self, path: Path, payload: Any, *, mode: int = 0o600) -> None:
        self.payloads.append(payload)
        if len(self.payloads) <= self.failures:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write_json_atomic(path, payload)


@pytest.fixture
def reserve(tmp_path: Path) -> SpaceReserve:
    return SpaceReserve(tmp_path).take()


def saved(
    tmp_path: Path, failures: int, monkeypatch: pytest.MonkeyPatch, reserve: SpaceReserve
) -> tuple[TestResult, FullDisk]:
    disk = FullDisk(failures)
    monkeypatch.setattr(workspace, "write_json_atomic", disk)
    result = save_result(make_result(status=Status.FAIL, run_dir=str(tmp_path)))
    return result, disk


def test_the_reserve_holds_real_space_until_released(reserve: SpaceReserve) -> None:
    assert reserve.path.stat().st_blocks * 512 >= RESERVE_BYTES
    reserve.release()
    assert not reserve.path.exists()


def test_a_result_that_fits_is_saved_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reserve: SpaceReserve
) -> None:
    result, _ = saved(tmp_path, 0, monkeypatch, reserve)
    assert result.status is Status.FAIL
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "FAIL"
    assert not reserve.path.exists()


def test_a_full_disk_makes_an_error_naming_the_file_and_keeps_the_scripts_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reserve: SpaceReserve
) -> None:
    result, _ = saved(tmp_path, 1, monkeypatch, reserve)
    reason = f"no space left on device while writing {tmp_path / 'result.json'}"
    assert (result.status, result.error_message) == (Status.ERROR, reason)
    assert "the script's own verdict: FAIL: exit code 1: ValueError: boom" in result.findings
    stored = json.loads((tmp_path / "result.json").read_text())
    timeline = stored["execution"]["resources"]["timeline"]
    assert stored["status"] == "ERROR" and timeline, "saved whole on the second try"
    assert not reserve.path.exists()


def test_with_less_room_a_summary_is_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reserve: SpaceReserve
) -> None:
    result, _ = saved(tmp_path, 2, monkeypatch, reserve)
    stored = json.loads((tmp_path / "result.json").read_text())
    assert stored["status"] == "ERROR" and stored["error_message"] == result.error_message
    assert stored["execution"] is None and stored["outputs"] == {}
    assert result.timeline, "the caller still gets the whole result"


def test_with_no_room_at_all_the_result_says_it_was_not_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reserve: SpaceReserve
) -> None:
    result, disk = saved(tmp_path, 3, monkeypatch, reserve)
    assert result.status is Status.ERROR
    assert result.findings[-1].startswith("the result was not saved: no space left on device")
    assert not (tmp_path / "result.json").exists()
    assert len(disk.payloads) == 3


def test_other_write_errors_are_not_taken_for_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reserve: SpaceReserve
) -> None:
    def denied(path: Path, payload: Any, *, mode: int = 0o600) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(workspace, "write_json_atomic", denied)
    with pytest.raises(PermissionError):
        save_result(make_result(run_dir=str(tmp_path)))
    assert not reserve.path.exists()


def test_the_first_error_stays_the_reason() -> None:
    first = with_write_failure(make_result(), "no space left on device while writing a.log")
    assert first.findings == ["the script's own verdict: PASS"]
    second = with_write_failure(first, "no space left on device while writing result.json")
    assert second.error_message == "no space left on device while writing a.log"
    assert second.findings[-1] == "no space left on device while writing result.json"
