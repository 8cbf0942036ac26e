"""Faults on the host side, on the real engine: a closed terminal, a killed controller,
the engine stopping a container, and two workspaces sharing one engine."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import docker
import pytest
from cli_processes import SandboxProcesses, running_containers, wait_for
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.constants import CONTROLLER_LABEL, TOOL_LABEL, WORKSPACE_LABEL
from sandbox.container.seam import Engine
from sandbox.contract.resolve import Overrides
from sandbox.results import store
from sandbox.results.controller import Controller
from sandbox.results.models import Status, TestResult
from sandbox.results.verdict import ENGINE_STOPPED
from sandbox.results.workspace import Workspace
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")

SCRIPTS = Path(__file__).resolve().parent / "scripts"
CODE_DIR = "/opt/ml/processing/input/code"


def start_sleeper(
    engine: Engine, processes: SandboxProcesses, workspace: Path
) -> subprocess.Popen[str]:
    """``sandbox test-script sleeper.py`` in its own process, once its container runs."""
    process = processes.start(
        "test-script", str(SCRIPTS / "sleeper.py"), "--workspace-dir", str(workspace)
    )
    wait_for(lambda: running_containers(engine, workspace) == 1, process)
    return process


def the_run(workspace: Path) -> Path:
    (run_dir,) = (workspace / "runs").iterdir()
    return run_dir


def test_sighup_stops_and_removes_the_container_and_saves_an_interrupted_result(
    engine: Engine, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    with SandboxProcesses() as processes:
        process = start_sleeper(engine, processes, workspace)
        process.send_signal(signal.SIGHUP)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert running_containers(engine, workspace) == 0
    saved = json.loads((the_run(workspace) / "result.json").read_text())
    assert saved["status"] == "ERROR" and "interrupted" in saved["error_message"]


def test_a_killed_controllers_container_stops_within_10_s_and_the_next_command_settles_it(
    engine: Engine, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    with SandboxProcesses() as processes:
        process = start_sleeper(engine, processes, workspace)
        run_id = the_run(workspace).name
        client = docker.from_env()
        (container,) = client.containers.list(
            all=True, filters={"label": f"sandbox.run-id={run_id}"}
        )
        wait_for(lambda: _script_runs(container), process)
        client.close()
        process.kill()
        killed_at = time.monotonic()
        process.communicate(timeout=30)
        while _states(engine, run_id) == ["running"]:
            assert time.monotonic() - killed_at < 10, "the container outlived its controller"
            time.sleep(0.2)
        assert _states(engine, run_id) in (["exited"], []), _states(engine, run_id)

        listed = CliRunner().invoke(
            cli, ["list-results", "--workspace-dir", str(workspace), "--output-format", "json"]
        )
    assert listed.exit_code == 0, listed.output
    (result,) = json.loads(listed.stdout)["results"]
    assert result["run_id"] == run_id and result["status"] == "ERROR"
    assert result["error_message"].startswith("interrupted: its controller (pid ")
    assert _states(engine, run_id) == []


def _script_runs(container: Any) -> bool:
    """The script runs under the supervisor, whose signal handlers are then in place."""
    try:
        top = container.top()
    except docker.errors.APIError:  # created, not yet started
        return False
    command = top["Titles"].index("CMD")
    return any(row[command].startswith(f"python3 {CODE_DIR}/") for row in top["Processes"])


def _run_id(workspace: Path) -> str:
    runs = workspace / "runs"
    return next(iter(runs.iterdir())).name if runs.is_dir() and any(runs.iterdir()) else "-"


def _states(engine: Engine, run_id: str) -> list[str]:
    return [c.status for c in engine.containers(f"sandbox.run-id={run_id}")]


def test_a_container_the_engine_stops_is_an_error_and_is_removed(
    engine: Engine, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    request = RunRequest(
        script=str(SCRIPTS / "graceful.py"),
        workspace=workspace,
        overrides=Overrides(max_runtime_s=300),
    )
    outcome: list[TestResult] = []
    runner = threading.Thread(target=lambda: outcome.append(run_script(request, engine)))
    runner.start()
    client = docker.from_env()
    try:
        deadline = time.monotonic() + 60
        while "running" not in _states(engine, _run_id(workspace)):
            assert runner.is_alive() and time.monotonic() < deadline
            time.sleep(0.1)
        (container,) = client.containers.list(
            filters={"label": f"sandbox.run-id={_run_id(workspace)}"}
        )
        while not _script_runs(container):
            assert runner.is_alive() and time.monotonic() < deadline, "the script never started"
            time.sleep(0.1)
        container.stop(timeout=5)  # the signal path of an engine shutting down
        runner.join(timeout=60)
    finally:
        client.close()
    assert not runner.is_alive()
    (result,) = outcome
    assert result.status is Status.ERROR, result.error_message
    assert (result.error_message or "").startswith(ENGINE_STOPPED)
    assert running_containers(engine, workspace) == 0


def test_cleaning_one_workspace_leaves_another_workspaces_containers_alone(
    engine: Engine, tmp_path: Path, offline_image: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "STOPPED_MIN_AGE_S", 2.0)
    mine, theirs = (Workspace(tmp_path / name).ensure() for name in ("mine", "theirs"))
    client = docker.from_env()
    made: list[Any] = []

    def container(workspace: Workspace, *, start: bool) -> Any:
        key, _, value = os.environ["SANDBOX_EXTRA_LABELS"].partition("=")
        labels = {
            key: value,
            TOOL_LABEL: "sandbox",
            WORKSPACE_LABEL: workspace.identity(),
            CONTROLLER_LABEL: Controller.current().label(),
        }
        made.append(
            client.containers.create(
                offline_image.reference, ["true"], labels=labels, network_mode="none"
            )
        )
        if start:
            made[-1].start()
            made[-1].wait(timeout=60)
        return made[-1]

    try:
        my_stopped, their_stopped = container(mine, start=True), container(theirs, start=True)
        time.sleep(store.STOPPED_MIN_AGE_S + 1)
        my_new, their_new = container(mine, start=False), container(theirs, start=False)

        cleaned = CliRunner().invoke(cli, ["clean-workspace", "--workspace-dir", str(mine.root)])

        assert cleaned.exit_code == 0, cleaned.output
        seen = engine.containers(f"{WORKSPACE_LABEL}={mine.identity()}")
        assert "removed 1 leftover container(s) of this workspace" in cleaned.stdout, seen
        present = {c.id for c in client.containers.list(all=True)}
        assert my_stopped.id not in present
        assert {my_new.id, their_stopped.id, their_new.id} <= present
    finally:
        for leftover in made:
            with contextlib.suppress(docker.errors.NotFound):
                leftover.remove(force=True)
        client.close()
