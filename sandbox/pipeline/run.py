"""Run a pipeline: steps in topological order, each step's outputs feeding the next.

A step runs through :func:`sandbox.runner.run_to_result` with each fed input channel bound
read-only to the upstream run folder's ``outputs/<channel>[/sub]`` (no copy). Before a
step runs, the edges that feed it are checked (:mod:`sandbox.pipeline.checks`); a failed
check or a failed upstream step makes it SKIPPED, naming the cause. Independent steps
run in parallel threads (``jobs``). Each pipeline run keeps a folder
``<workspace>/pipelines/<pipeline-run-id>/`` with ``pipeline_result.json``, from which
``--from`` / ``--only`` reuse the earlier steps' outputs.

The steps of one pipeline run form a :class:`~sandbox.pipeline.group.RunGroup`: their
containers carry ``sandbox.pipeline-run=<id>``, so that Ctrl-C removes this run's
containers and no one else's, and returns at once even while a step still prepares its
data (that step starts no container).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sandbox.constants import (
    DEFAULT_IMAGE,
    DEFAULT_SCRIPTS_DIR,
    DEFAULT_WORKSPACE,
    PIPELINE_RESULT_FILE,
    PIPELINE_RUN_LABEL,
)
from sandbox.container.engine import engine_or_connect
from sandbox.container.seam import Engine
from sandbox.data.datagen import DataSize
from sandbox.errors import UsageError
from sandbox.pipeline.checks import check_folder
from sandbox.pipeline.group import RunGroup
from sandbox.pipeline.plan import (
    PipelinePlan,
    PlannedEdge,
    PlannedStep,
    critical_path,
    plan_pipeline,
)
from sandbox.pipeline.scheduler import prepare_images, run_graph
from sandbox.results.masking import Masker
from sandbox.results.models import Status, TestResult
from sandbox.results.pipeline import EdgeCheck, PipelineResult, StepResult
from sandbox.results.store import read_pipeline_result, save_pipeline_result
from sandbox.results.workspace import PRIVATE_FOLDER_MODE, Workspace, new_run_id
from sandbox.runner import RunRequest, run_to_result

__all__ = [
    "RESULT_FILE",
    "PipelineRequest",
    "latest_pipeline_run",
    "pipeline_runs_root",
    "plan_pipeline",
    "run_pipeline",
]

logger = logging.getLogger(__name__)

RESULT_FILE = PIPELINE_RESULT_FILE


@dataclass(frozen=True)
class PipelineRequest:
    """One ``sandbox test-pipeline`` call, as plain data."""

    pipeline_file: Path
    scripts_dir: Path = DEFAULT_SCRIPTS_DIR
    workspace: Path = DEFAULT_WORKSPACE
    data_size: DataSize = DataSize.SMALL
    jobs: int = 1
    from_step: str | None = None
    only_step: str | None = None
    on_progress: Callable[[str], None] | None = None


def run_pipeline(request: PipelineRequest, engine: Engine | None = None) -> PipelineResult:
    """Run every (selected) step of a pipeline and return the verdict.

    Raises:
        SpecError: the pipeline file is invalid (unknown step or channel, an input fed
            twice, a cycle, a step whose script or spec is unusable).
        UsageError: ``--from``/``--only`` name no step, or no earlier run to reuse.
        InfrastructureError: no engine, or an image cannot be had.
        KeyboardInterrupt: after the containers of this run's steps were removed.
    """
    plan = plan_pipeline(request.pipeline_file, request.scripts_dir)
    selected = _selection(plan, request.from_step, request.only_step)
    workspace = Workspace(request.workspace).ensure()
    previous = _reusable_run(workspace, plan, selected, request)
    with engine_or_connect(engine) as connected:
        return _run_plan(plan, request, workspace, connected, selected, previous)


def _run_plan(
    plan: PipelinePlan,
    request: PipelineRequest,
    workspace: Workspace,
    engine: Engine,
    selected: set[str],
    previous: PipelineResult | None,
) -> PipelineResult:
    notify = request.on_progress or (lambda _message: None)
    images = {plan.steps[name].resolved.spec.image or DEFAULT_IMAGE for name in selected}
    prepare_images(engine, sorted(images), on_start=lambda image: notify(f"image {image}"))
    folder = pipeline_runs_root(workspace) / new_run_id(plan.name)
    folder.mkdir(parents=True, mode=PRIVATE_FOLDER_MODE)  # private, as each step's run folder
    os.chmod(folder, PRIVATE_FOLDER_MODE)
    started_at, started = datetime.now(timezone.utc), time.monotonic()
    steps, edges = _Scheduler(plan, request, engine, selected, previous, notify).run()
    result = _pipeline_result(plan, request, folder, steps, edges).model_copy(
        update={"started_at": started_at, "wall_time_s": round(time.monotonic() - started, 3)}
    )
    return save_pipeline_result(result)


def _pipeline_result(
    plan: PipelinePlan,
    request: PipelineRequest,
    folder: Path,
    steps: list[StepResult],
    edges: list[EdgeCheck],
) -> PipelineResult:
    critical_s, critical_steps = _critical_path(plan, steps)
    now = datetime.now(timezone.utc)
    return PipelineResult(
        pipeline_run_id=folder.name,
        pipeline_name=plan.name,
        pipeline_file=str(plan.file),
        status=_overall(steps, edges),
        started_at=now,
        finished_at=now,
        wall_time_s=0.0,
        critical_path_s=critical_s,
        critical_path=critical_steps,
        jobs=request.jobs,
        steps=steps,
        edges=edges,
        run_dir=str(folder),
    )


def pipeline_runs_root(workspace: Workspace) -> Path:
    """``<workspace>/pipelines``: one folder per pipeline run."""
    return workspace.root / "pipelines"


def latest_pipeline_run(workspace: Workspace, pipeline_file: Path) -> PipelineResult | None:
    """The most recent saved run of the same pipeline file, or ``None``."""
    root = pipeline_runs_root(workspace)
    wanted = str(pipeline_file.resolve())
    folders = sorted(root.iterdir(), reverse=True) if root.is_dir() else []
    for folder in folders:
        saved = read_pipeline_result(folder)
        if saved is not None and saved.pipeline_file == wanted:
            return saved
    return None


def _selection(plan: PipelinePlan, from_step: str | None, only_step: str | None) -> set[str]:
    if from_step and only_step:
        raise UsageError("--from and --only cannot be used together")
    chosen = from_step or only_step
    if chosen is None:
        return set(plan.steps)
    if chosen not in plan.steps:
        option = "--from" if from_step else "--only"
        raise UsageError(f"{option} {chosen}: no such step (steps: {', '.join(plan.steps)})")
    return {chosen, *plan.descendants(chosen)} if from_step else {chosen}


def _reusable_run(
    workspace: Workspace, plan: PipelinePlan, selected: set[str], request: PipelineRequest
) -> PipelineResult | None:
    """The earlier run whose outputs feed the selected steps; checked to be usable."""
    if selected == set(plan.steps):
        return None
    option = f"--from {request.from_step}" if request.from_step else f"--only {request.only_step}"
    previous = latest_pipeline_run(workspace, plan.file)
    needed = sorted(
        {e.source.step for e in plan.edges if e.target.step in selected} - selected,
        key=list(plan.steps).index,
    )
    if previous is None:
        if needed:
            raise UsageError(
                f"{option}: no earlier run of {plan.file} in {pipeline_runs_root(workspace)} "
                "to reuse outputs from; run the whole pipeline first"
            )
        return None
    for name in needed:
        _check_reusable_step(previous, name, option)
    return previous


def _check_reusable_step(previous: PipelineResult, name: str, option: str) -> None:
    try:
        step = previous.step(name)
    except KeyError:
        step = None
    if step is None:
        state = "is missing"
    elif step.status is not Status.PASS:
        state = f"is {step.status.value}"
    elif not Path(step.run_dir).is_dir():
        state = f"has lost its run folder {step.run_dir}"
    else:
        return
    raise UsageError(
        f"{option}: step {name} {state} in the latest pipeline run "
        f"{previous.pipeline_run_id}; its outputs cannot be reused (run it again)"
    )


def _critical_path(plan: PipelinePlan, steps: list[StepResult]) -> tuple[float, list[str]]:
    """Over the steps this run ran: reused and unselected ones took no time here."""
    durations = {step.name: step.wall_time_s for step in steps if step.selected}
    graph = {
        name: predecessors & durations.keys()
        for name, predecessors in plan.predecessors.items()
        if name in durations
    }
    return critical_path(graph, durations)


def _overall(steps: list[StepResult], edges: list[EdgeCheck]) -> Status:
    ran_ok = all(step.status is Status.PASS for step in steps if step.selected)
    edges_ok = all(edge.status is not Status.FAIL for edge in edges)
    return Status.PASS if ran_ok and edges_ok else Status.FAIL


def _unrun(step: PlannedStep, reason: str) -> TestResult:
    """The SKIPPED result of a step that did not run; secret values masked, as in any result."""
    result = TestResult.not_run(step.resolved, Status.SKIPPED, reason)
    return Masker.for_spec(step.resolved.spec).result(result)


def _step_result(name: str, result: TestResult, **extra: object) -> StepResult:
    """Wrap a run's result with the figures a pipeline report shows."""
    return StepResult.model_validate(
        {
            "name": name,
            "status": result.status,
            "run_dir": result.run_dir,
            "wall_time_s": result.execution_time,
            "peak_memory_mb": result.peak_memory_mb,
            "result": result,
            **extra,
        }
    )


class _Scheduler:
    """Walks the DAG with :class:`graphlib.TopologicalSorter`; runs ready steps in threads."""

    def __init__(
        self,
        plan: PipelinePlan,
        request: PipelineRequest,
        engine: Engine,
        selected: set[str],
        previous: PipelineResult | None,
        notify: Callable[[str], None],
    ) -> None:
        self.plan, self.request, self.engine = plan, request, engine
        self.selected, self.previous, self.notify = selected, previous, notify
        self.steps: dict[str, StepResult] = {}
        self.edges: dict[str, EdgeCheck] = {}
        self.group = RunGroup(PIPELINE_RUN_LABEL, request.jobs)

    def run(self) -> tuple[list[StepResult], list[EdgeCheck]]:
        """Run the pipeline; steps and edges come back in file order."""
        run_graph(
            self.group,
            self.engine,
            self.plan.predecessors,
            self._start,
            self._finished,
            on_running=lambda names: self.notify(f"running {', '.join(sorted(names))}"),
        )
        steps = [self.steps[name] for name in self.plan.steps]
        edges = [self.edges[edge.label] for edge in self.plan.edges]
        return steps, edges

    def _finished(self, name: str, result: TestResult) -> None:
        self.steps[name] = _step_result(name, result)

    def _start(self, name: str) -> Future[TestResult] | None:
        """Submit ``name``, or settle it now (reused, skipped) and return ``None``."""
        step = self.plan.steps[name]
        if name not in self.selected:
            self._settle_unselected(step)
            return None
        blocked = self._blocked_reason(name)
        if blocked is not None:
            self._skip(step, blocked, edge_message=f"not checked: {blocked}")
            return None
        inputs, problems = self._check_inbound(step)
        if problems:
            self._skip(step, f"data-flow check failed: {'; '.join(problems)}")
            return None
        return self.group.submit(name, functools.partial(self._run_step, step, inputs))

    def _run_step(self, step: PlannedStep, inputs: dict[str, Path]) -> TestResult:
        request = RunRequest(
            script=str(step.script_path),
            scripts_dir=self.request.scripts_dir,
            spec_path=step.spec_path,
            overrides=step.overrides,
            inputs={**step.real_inputs, **inputs},
            data_size=self.request.data_size,
            workspace=self.request.workspace,
        )
        # A step that cannot start is that step's result, not the pipeline's end.
        result = run_to_result(self.group.request(step.name, request), step.resolved, self.engine)
        return self.group.finish(step.name, result)

    def _blocked_reason(self, name: str) -> str | None:
        for upstream in sorted(self.plan.predecessors[name], key=list(self.plan.steps).index):
            done = self.steps[upstream]
            if done.status is Status.PASS:
                continue
            if done.status is Status.SKIPPED and done.reason:
                return done.reason
            return f"upstream step {upstream} ended {done.status.value}"
        return None

    def _check_inbound(self, step: PlannedStep) -> tuple[dict[str, Path], list[str]]:
        inputs: dict[str, Path] = {}
        problems: list[str] = []
        for edge in self.plan.inbound(step.name):
            folder = _upstream_folder(self.steps[edge.source.step], edge)
            check = check_folder(folder, edge.expectation)
            status = Status.FAIL if check.problem else Status.PASS
            self._record_edge(edge, status, check.problem or check.summary)
            if check.problem:
                problems.append(f"{edge.label}: {check.problem}")
            inputs[edge.target.channel] = folder
        return inputs, problems

    def _skip(self, step: PlannedStep, reason: str, edge_message: str | None = None) -> None:
        self.steps[step.name] = _step_result(step.name, _unrun(step, reason))
        for edge in self.plan.inbound(step.name):
            if edge.label not in self.edges:
                self._record_edge(edge, Status.SKIPPED, edge_message or "not checked")

    def _settle_unselected(self, step: PlannedStep) -> None:
        earlier = self._previous_step(step.name)
        if earlier is None:
            option = "--from" if self.request.from_step else "--only"
            result = _unrun(step, f"not selected by {option}")
            self.steps[step.name] = _step_result(step.name, result, selected=False)
            self._skip_edges(step, "not checked: step not selected")
            return
        assert self.previous is not None
        reused_from = earlier.reused_from or self.previous.pipeline_run_id
        self.steps[step.name] = earlier.model_copy(
            update={"selected": False, "reused_from": reused_from}
        )
        for edge in self.plan.inbound(step.name):
            earlier_edge = self._previous_edge(edge)
            if earlier_edge is not None:
                self.edges[edge.label] = earlier_edge
            else:
                self._record_edge(edge, Status.SKIPPED, "not checked: step reused")

    def _skip_edges(self, step: PlannedStep, message: str) -> None:
        for edge in self.plan.inbound(step.name):
            self._record_edge(edge, Status.SKIPPED, message)

    def _previous_step(self, name: str) -> StepResult | None:
        if self.previous is None:
            return None
        try:
            return self.previous.step(name)
        except KeyError:
            return None

    def _previous_edge(self, edge: PlannedEdge) -> EdgeCheck | None:
        if self.previous is None:
            return None
        try:
            return self.previous.edge(edge.label)
        except KeyError:
            return None

    def _record_edge(self, edge: PlannedEdge, status: Status, message: str) -> None:
        self.edges[edge.label] = EdgeCheck.model_validate(
            {
                "from": edge.source.label,
                "to": edge.target.label,
                "status": status,
                "message": message,
            }
        )


def _upstream_folder(upstream: StepResult, edge: PlannedEdge) -> Path:
    """The upstream run folder's ``outputs/<channel>[/sub]``."""
    folder = Path(upstream.run_dir) / "outputs" / edge.source.channel
    return folder / edge.source.sub_path if edge.source.sub_path else folder
