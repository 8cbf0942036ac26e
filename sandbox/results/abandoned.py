"""Runs whose controller died (``kill -9``, a crash, a closed machine): found and settled.

Such a run has no result and, maybe, a container nobody will remove (the supervisor in
it stops the job once the controller's heartbeat goes silent). The next command in the
workspace saves the run's result as ERROR "interrupted" and removes its containers. A
controller counts as dead only when provably gone: on this host, no process holds its
pid any more (or another one does). Runs of live controllers, or of other hosts, are
never touched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sandbox.constants import CONTROLLER_LABEL, RESULT_FILE, WORKSPACE_LABEL
from sandbox.container.engine import DockerEngine
from sandbox.container.seam import Engine
from sandbox.errors import EngineUnavailableError, SandboxError
from sandbox.results.controller import Controller
from sandbox.results.models import Status, TestResult
from sandbox.results.store import save_result
from sandbox.results.workspace import RunFolder, Workspace

__all__ = ["reap_abandoned", "remove_orphaned_containers", "save_abandoned_runs"]

logger = logging.getLogger(__name__)


def reap_abandoned(
    workspace_dir: Path, connect: Callable[[], Engine] = DockerEngine.connect
) -> list[str]:
    """Settle the runs of ``workspace_dir`` whose controller died; return their ids.

    The engine is asked only when there is such a run, and its absence is no error.
    """
    workspace = Workspace(workspace_dir)
    reaped = save_abandoned_runs(workspace)
    if reaped:
        try:
            engine = connect()
        except EngineUnavailableError as exc:
            logger.info("no Docker engine: containers of dead runs not removed: %s", exc)
            return reaped
        try:
            remove_orphaned_containers(engine, workspace)
        finally:
            engine.close()
    return reaped


def save_abandoned_runs(workspace: Workspace) -> list[str]:
    """Store ERROR "interrupted" for every run without result whose controller died."""
    reaped = []
    for run in _unfinished_runs(workspace):
        controller = run.controller()
        if controller is None or not controller.is_dead():
            continue
        try:
            save_result(_interrupted(run, controller))
        except OSError as exc:
            logger.warning("could not save the result of run %s: %s", run.run_id, str(exc))
            continue
        reaped.append(run.run_id)
    return reaped


def remove_orphaned_containers(engine: Engine, workspace: Workspace) -> int:
    """Remove the containers of this workspace whose controller died; never raises."""
    workspace_id = workspace.read_identity()
    if workspace_id is None:
        return 0
    try:
        containers = engine.containers(f"{WORKSPACE_LABEL}={workspace_id}")
    except SandboxError as exc:
        logger.warning("could not list the containers of %s: %s", workspace.root, str(exc))
        return 0
    removed = 0
    for container in containers:
        controller = Controller.parse(container.labels.get(CONTROLLER_LABEL, ""))
        if controller is not None and controller.is_dead():
            logger.info("removing container %s: its controller died", container.id[:12])
            removed += engine.remove_container(container.id)
    return removed


def _unfinished_runs(workspace: Workspace) -> list[RunFolder]:
    try:
        entries = sorted(workspace.runs.iterdir())
    except OSError:
        return []
    return [
        workspace.run(entry.name)
        for entry in entries
        if entry.is_dir() and not entry.is_symlink() and not (entry / RESULT_FILE).exists()
    ]


def _interrupted(run: RunFolder, controller: Controller) -> TestResult:
    spec = _spec(run)
    script = str(spec.get("script") or run.run_id.split("-", 3)[-1].rsplit("-", 1)[0])
    return TestResult(
        run_id=run.run_id,
        script_name=Path(script).stem,
        script_path=script,
        kind=str(spec.get("kind", "unknown")),
        call_style=str(spec.get("call_style", "unknown")),
        status=Status.ERROR,
        error_message=f"interrupted: its controller (pid {controller.pid}) died before it ended",
        image=str(spec.get("image") or ""),
        spec=spec,
        run_dir=str(run.root),
        timestamp=_started(run.run_id),
    )


def _spec(run: RunFolder) -> dict[str, Any]:
    try:
        payload = json.loads((run.root / "spec.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _started(run_id: str) -> datetime:
    try:
        stamp = datetime.strptime(run_id[:22], "%Y%m%d-%H%M%S-%f")
    except ValueError:
        return datetime.now(timezone.utc)
    return stamp.replace(tzinfo=timezone.utc)
