"""Handing the files of a run back to the user (sandbox.container.ownership), and its knobs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sandbox.container.containerize import HEARTBEAT_TIMEOUT_ENV, heartbeat_timeout_s
from sandbox.container.ownership import hand_over
from sandbox.errors import UsageError
from sandbox.results.workspace import Workspace
from tests.fakes import FakeEngine


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to own files for another user")
def test_root_controller_gives_the_whole_run_and_workspace_to_the_user(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws").ensure()
    run = workspace.new_run("prep")
    (run.outputs / "data").mkdir(parents=True)
    (run.outputs / "data" / "part.csv").write_text("a\n1\n")
    # No container handles: as root, handing files back must start no container.
    hand_over(FakeEngine(), run, workspace, owner=(4321, 4321), image="img")
    paths = [workspace.root, *workspace.root.rglob("*")]
    assert {p.lstat().st_uid for p in paths} == {4321}


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to own files for another user")
def test_root_controller_hands_back_no_special_file_and_no_unsafe_bit(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws").ensure()
    run = workspace.new_run("prep")
    data = run.outputs / "data"
    data.mkdir(parents=True)
    os.mkfifo(data / "pipe")
    (data / "tool").write_text("#!/bin/sh\n")
    os.chmod(data / "tool", 0o6777)
    hand_over(FakeEngine(), run, workspace, owner=(4321, 4321), image="img")
    assert sorted(p.name for p in data.iterdir()) == ["tool"]
    assert stat.S_IMODE((data / "tool").lstat().st_mode) == 0o775


@pytest.mark.parametrize("value", ["1m", "0", "2.5", "inf", "nan"])
def test_heartbeat_timeout_must_be_seconds_of_at_least_three_heartbeats(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HEARTBEAT_TIMEOUT_ENV, value)
    with pytest.raises(UsageError, match=HEARTBEAT_TIMEOUT_ENV):
        heartbeat_timeout_s()


def test_heartbeat_timeout_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HEARTBEAT_TIMEOUT_ENV, raising=False)
    assert heartbeat_timeout_s() == 5
    monkeypatch.setenv(HEARTBEAT_TIMEOUT_ENV, "6")
    assert heartbeat_timeout_s() == 6
