"""The results store: the ``result.json`` of every run in a workspace, saved, listed, cleaned.

The one module that writes and reads results in run folders: a run's ``result.json``
(:func:`save_result`) and a pipeline run's ``pipeline_result.json``
(:func:`save_pipeline_result`, :func:`read_pipeline_result`), each written atomically.

A run folder whose result is missing, half-written or corrupt (a run still going, or one
that was killed) is skipped and counted, never allowed to break a listing. Cleaning only
ever removes run folders the tool made, inside a folder carrying the workspace marker.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.constants import PIPELINE_RESULT_FILE, RESULT_FILE, RUN_ID_LABEL, WORKSPACE_LABEL
from sandbox.container.engine import DockerEngine
from sandbox.container.seam import ContainerInfo, Engine
from sandbox.errors import EngineUnavailableError, RunNotFoundError, UsageError, WorkspaceError
from sandbox.results.models import RESULT_SCHEMA_VERSION, Status, TestResult
from sandbox.results.pipeline import PipelineResult
from sandbox.results.run_refs import match_run_reference
from sandbox.results.safe_remove import remove_below
from sandbox.results.storage import SpaceReserve, is_disk_full, with_write_failure, write_failure
from sandbox.results.workspace import MARKER_FILE, RunFolder, Workspace

__all__ = [
    "CleanReport",
    "ResultListing",
    "SkippedRun",
    "clean_workspace",
    "find_result",
    "load_results",
    "parse_age",
    "read_pipeline_result",
    "save_pipeline_result",
    "save_result",
]

logger = logging.getLogger(__name__)

_UNKNOWN_RUN_GRACE_S = 3600.0
"""Without an engine, a run folder without result younger than this may still be running."""
STOPPED_MIN_AGE_S = 60.0
"""A container stopped (or created and not started) for less than this may still be
read by the run that made it: cleaning leaves it."""
_RUN_ID_RE = re.compile(r"^(\d{8}-\d{6}-\d{6})-[\w-]*-[0-9a-f]{4}$")
_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_AGE_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class SkippedRun(BaseModel):
    """A run folder that has no readable result, and why."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    reason: str


class ResultListing(BaseModel):
    """The results of a workspace, oldest first, and the run folders that were skipped."""

    results: list[TestResult] = Field(default_factory=list)
    skipped: list[SkippedRun] = Field(default_factory=list)


class CleanReport(BaseModel):
    """What ``clean_workspace`` removed (or, with ``dry_run``, would remove)."""

    workspace: str
    dry_run: bool
    removed_runs: list[str] = Field(default_factory=list)
    kept_runs: int = 0
    skipped_runs: list[SkippedRun] = Field(
        default_factory=list, description="Run folders kept because their run may still go on."
    )
    freed_bytes: int = 0
    failures: dict[str, str] = Field(default_factory=dict)
    containers_removed: int | None = Field(None, description="None when no Docker engine answered.")
    interrupted_runs: list[str] = Field(
        default_factory=list, description="Runs whose controller died, saved as interrupted."
    )


def save_result(result: TestResult) -> TestResult:
    """Write ``result`` as its run folder's ``result.json`` (atomically), and return it
    as saved.

    A result without a run folder (a run stopped before it had one) is returned as is.
    On a full disk: the run folder's space reserve is given up and the result, now an
    ERROR naming what could not be written, is saved whole if it fits, else without its
    spec, execution details and output listing. If even that fails, the returned result
    says so in its findings, and nothing half-written is left.
    """
    if not result.run_dir:
        return result
    run = _folder(result.run_dir)
    path = run.root / RESULT_FILE
    try:
        run.write_json(RESULT_FILE, result.to_json_dict())
        return result
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        result = with_write_failure(result, write_failure(path, exc))
    finally:
        SpaceReserve(Path(result.run_dir)).release()
    for payload in (result.to_json_dict(), _summary(result)):
        try:
            run.write_json(RESULT_FILE, payload)
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
        update={"spec": {}, "execution": None, "outputs": {}, "findings": [*result.findings, note]}
    )
    return small.to_json_dict()


def save_pipeline_result(result: PipelineResult) -> PipelineResult:
    """Write ``result`` as its pipeline run folder's ``pipeline_result.json``."""
    _folder(result.run_dir).write_json(PIPELINE_RESULT_FILE, result.to_json_dict())
    return result


def _folder(run_dir: str) -> RunFolder:
    return RunFolder(Path(run_dir).name, Path(run_dir))


def read_pipeline_result(folder: Path) -> PipelineResult | None:
    """The pipeline result saved in ``folder``, or ``None`` when there is none readable."""
    try:
        return PipelineResult.model_validate_json((folder / PIPELINE_RESULT_FILE).read_bytes())
    except (OSError, ValidationError):
        return None


def parse_age(text: str) -> float:
    """``"7d"`` -> seconds; units ``s``, ``m``, ``h``, ``d``, ``w``.

    Raises:
        UsageError: the text is not a number followed by one of those units.
    """
    match = _AGE_RE.match(text)
    if not match:
        raise UsageError(f"age {text!r}: expected a number and a unit, e.g. 30m, 12h, 7d, 2w")
    return float(match.group(1)) * _AGE_UNITS_S[match.group(2)]


def load_results(
    workspace_dir: Path,
    *,
    statuses: Iterable[Status] = (),
    script: str | None = None,
    last: int | None = None,
) -> ResultListing:
    """Every readable result of the workspace, oldest first, filtered.

    Args:
        workspace_dir: the workspace root; a missing one holds no results.
        statuses: keep only these statuses (all when empty).
        script: keep only scripts whose name matches (a name, or a glob like ``tab*``).
        last: keep only the newest ``last`` results (after filtering).
    """
    wanted = set(statuses)
    listing = ResultListing()
    for run_dir in _run_dirs(Workspace(workspace_dir).runs):
        result = _read_or_skip(run_dir, listing.skipped)
        if result is None or (wanted and result.status not in wanted):
            continue
        if script is None or fnmatch.fnmatchcase(result.script_name, script):
            listing.results.append(result)
    if last is not None:
        listing.results = listing.results[-last:] if last > 0 else []
    return listing


def find_result(workspace_dir: Path, run_id: str) -> TestResult:
    """The result of one run, by its id, ``latest``, ``latest~N``, or a unique prefix or
    suffix of its id (:func:`~sandbox.results.run_refs.match_run_reference`).

    Raises:
        RunNotFoundError: no run, several runs, or no readable result for that id.
    """
    run_dirs = _run_dirs(Workspace(workspace_dir).runs)
    named = set(match_run_reference([d.name for d in run_dirs], run_id))
    candidates = [d for d in run_dirs if d.name in named]
    if not candidates:
        raise RunNotFoundError(run_id, workspace_dir.absolute(), "no such run")
    if len(candidates) > 1:
        names = ", ".join(d.name for d in candidates[:10])
        more = f" and {len(candidates) - 10} more" if len(candidates) > 10 else ""
        raise RunNotFoundError(
            run_id, workspace_dir.absolute(), f"ambiguous, it names {names}{more}"
        )
    skipped: list[SkippedRun] = []
    result = _read_or_skip(candidates[0], skipped)
    if result is None:
        raise RunNotFoundError(candidates[0].name, workspace_dir.absolute(), skipped[0].reason)
    return result


def _run_dirs(runs: Path) -> list[Path]:
    """Run folders (ids sort by time), without temporary or foreign entries."""
    try:
        entries = sorted(runs.iterdir())
    except OSError:
        return []
    return [e for e in entries if e.is_dir() and not e.is_symlink() and _RUN_ID_RE.match(e.name)]


def _read_or_skip(run_dir: Path, skipped: list[SkippedRun]) -> TestResult | None:
    try:
        return _read_result(run_dir)
    except _Unreadable as exc:
        logger.debug("skipping run %s: %s", run_dir.name, exc)
        skipped.append(SkippedRun(run_id=run_dir.name, reason=str(exc)))
        return None


class _Unreadable(Exception):
    """A run folder's result cannot be read; the message says why."""


def _read_result(run_dir: Path) -> TestResult:
    path = run_dir / RESULT_FILE
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise _Unreadable("no result.json (still running, or interrupted)") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _Unreadable(f"result.json unreadable: {exc}") from exc
    if not isinstance(payload, dict):
        raise _Unreadable("result.json is not a JSON object")
    version = payload.get("schema_version")
    if not isinstance(version, int) or version > RESULT_SCHEMA_VERSION:
        raise _Unreadable(
            f"result.json has schema version {version!r}, "
            f"this tool reads <= {RESULT_SCHEMA_VERSION}"
        )
    try:
        return TestResult.model_validate(payload)
    except ValidationError as exc:
        raise _Unreadable(f"result.json is not a result ({exc.error_count()} problems)") from exc


# Cleaning ---------------------------------------------------------------------


def clean_workspace(
    workspace_dir: Path,
    *,
    older_than_s: float | None = None,
    keep: int | None = None,
    dry_run: bool = False,
    connect: Callable[[], Engine] | None = None,
) -> CleanReport:
    """Remove run folders (all, or those older than ``older_than_s`` beyond the newest
    ``keep``) and this workspace's leftover containers, when a Docker engine answers.

    Nothing outside the workspace folder is ever removed: a symbolic link among the
    folders it cleans stops it, and removal never follows one. Only containers carrying
    this workspace's id are removed, and only once stopped (or created and not started)
    for :data:`STOPPED_MIN_AGE_S`, or when the process that controlled them died. Runs
    whose controller died are first saved as interrupted.

    A run folder without ``result.json`` whose container still runs, or younger than an
    hour (it may still be preparing its data), is kept and listed in
    :attr:`CleanReport.skipped_runs`. Staging folders that an interrupted data
    generation left in the data cache are removed once they are an hour old.

    Raises:
        WorkspaceError: the folder does not carry the workspace marker, or a folder it
            cleans is a symbolic link.
    """
    root = workspace_dir.absolute()
    if not (root / MARKER_FILE).is_file():
        raise WorkspaceError(root, f"is not a sandbox workspace (no {MARKER_FILE} marker)")
    _refuse_links(root)
    runs = _run_dirs(root / "runs")
    now_s = time.time()
    doomed = _select(runs, older_than_s=older_than_s, keep=keep, now_s=now_s)
    report = CleanReport(
        workspace=str(root),
        dry_run=dry_run,
        kept_runs=len(runs) - len(doomed),
        containers_removed=None,
    )
    # Not at the top: settling a dead controller's run saves its result through this module.
    from sandbox.results.abandoned import remove_orphaned_containers, save_abandoned_runs

    workspace = Workspace(root)
    engine = _connect(connect or DockerEngine.connect)
    try:
        if not dry_run:
            report.interrupted_runs = save_abandoned_runs(workspace)
            if engine is not None:
                remove_orphaned_containers(engine, workspace)
        for run_dir in doomed:
            reason = _in_progress(run_dir, engine, now_s)
            if reason is None:
                _remove_run(root, run_dir, report)
            else:
                report.skipped_runs.append(SkippedRun(run_id=run_dir.name, reason=reason))
        if engine is not None:
            report.containers_removed = _clean_containers(engine, workspace, dry_run=dry_run)
        if not dry_run:
            _remove_stale_staging(root, now_s)
    finally:
        if engine is not None:
            engine.close()
    return report


def _select(
    runs: list[Path], *, older_than_s: float | None, keep: int | None, now_s: float
) -> list[Path]:
    newest_first = sorted(runs, key=lambda d: d.name, reverse=True)
    candidates = newest_first[keep:] if keep is not None else newest_first
    if older_than_s is None:
        return candidates
    return [d for d in candidates if now_s - _started_s(d) > older_than_s]


def _started_s(run_dir: Path) -> float:
    """When the run started, from the UTC stamp its id begins with."""
    stamp = datetime.strptime(run_dir.name[:22], "%Y%m%d-%H%M%S-%f")
    return stamp.replace(tzinfo=timezone.utc).timestamp()


def _refuse_links(root: Path) -> None:
    """The folders cleaning removes from must be the workspace's own, not links."""
    for name in ("runs", "data"):
        if (root / name).is_symlink():
            target = os.readlink(root / name)
            raise WorkspaceError(
                root, f"{name}/ is a symbolic link (to {target}): refusing to clean through it"
            )


def _remove_run(root: Path, run_dir: Path, report: CleanReport) -> None:
    if not run_dir.resolve().is_relative_to(root.resolve()):
        report.failures[run_dir.name] = f"resolves outside the workspace: {run_dir.resolve()}"
        return
    size = _tree_size(run_dir)
    if not report.dry_run:
        try:
            remove_below(root, f"runs/{run_dir.name}")
        except OSError as exc:
            report.failures[run_dir.name] = f"{exc.strerror or exc}: {exc.filename or run_dir}"
            return
    report.removed_runs.append(run_dir.name)
    report.freed_bytes += size


def _tree_size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def _remove_stale_staging(root: Path, now_s: float) -> None:
    """Generation stages in ``.staging-*`` and renames into place; one killed midway
    (Ctrl-C, a full disk) leaves its staging folder behind."""
    cache_root = root / "data"
    for staging in cache_root.glob(".staging-*") if cache_root.is_dir() else []:
        if staging.is_symlink() or not staging.is_dir():
            continue
        if now_s - staging.lstat().st_mtime > _UNKNOWN_RUN_GRACE_S:
            try:
                remove_below(root, f"data/{staging.name}")
            except OSError as exc:
                logger.warning("could not remove %s: %s", staging, str(exc))


def _connect(connect: Callable[[], Engine]) -> Engine | None:
    try:
        return connect()
    except EngineUnavailableError as exc:
        logger.info("no Docker engine: containers not checked: %s", exc)
        return None


def _in_progress(run_dir: Path, engine: Engine | None, now_s: float) -> str | None:
    """Why ``run_dir`` must stay (its run may still go on), or ``None``."""
    if (run_dir / RESULT_FILE).exists():
        return None
    if engine is not None and _running_containers(engine, f"{RUN_ID_LABEL}={run_dir.name}"):
        return "its container is still running"
    # A run that is still generating or downloading its data has no container yet.
    age_s = now_s - _started_s(run_dir)
    if age_s < _UNKNOWN_RUN_GRACE_S:
        return f"no result yet, started {age_s / 60:.0f} min ago: it may still be preparing"
    return None


def _running_containers(engine: Engine, label: str) -> int:
    return engine.count_labelled(label) - engine.count_labelled(label, stopped_only=True)


def _clean_containers(engine: Engine, workspace: Workspace, *, dry_run: bool) -> int:
    """Remove this workspace's containers that have been stopped a while; never another
    workspace's, never a running one, never one just made and about to start."""
    workspace_id = workspace.read_identity()
    if workspace_id is None:
        return 0
    now = datetime.now(timezone.utc)
    containers = engine.containers(f"{WORKSPACE_LABEL}={workspace_id}")
    doomed = [container for container in containers if _left_over(container, now)]
    if dry_run:
        return len(doomed)
    return sum(engine.remove_container(container.id) for container in doomed)


def _left_over(container: ContainerInfo, now: datetime) -> bool:
    if container.status in ("exited", "dead"):
        since = container.finished_at or container.created_at
    elif container.status == "created":
        since = container.created_at
    else:
        return False  # running, paused, restarting: a run in progress
    return since is not None and (now - since).total_seconds() >= STOPPED_MIN_AGE_S
