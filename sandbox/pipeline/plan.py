"""From a pipeline file to a checked plan: resolved steps, edges, an order with no cycle.

Every step's channels come from its resolved spec (:func:`sandbox.contract.resolve.resolve_script`),
so steps without a spec file work as they do for ``sandbox test-script``. Every problem
is a :class:`~sandbox.errors.SpecError` naming the pipeline file, raised before any
container starts.
"""

from __future__ import annotations

import graphlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from sandbox.constants import JobKind
from sandbox.container.training import training_output_paths
from sandbox.contract.resolve import (
    Overrides,
    ResolvedScript,
    find_script,
    resolve_script,
    script_environment,
)
from sandbox.contract.spec import ScriptSpec, load_spec
from sandbox.data.location import DataLocation, as_location
from sandbox.errors import SpecError, UsageError
from sandbox.pipeline.checks import ChannelExpectation, expectation_for
from sandbox.pipeline.spec import (
    EdgeSpec,
    Endpoint,
    StepSpec,
    load_pipeline_spec,
    parse_endpoint,
)

__all__ = [
    "PipelinePlan",
    "PlannedEdge",
    "PlannedStep",
    "critical_path",
    "plan_pipeline",
    "topological_order",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedStep:
    """A step with its script found and its spec resolved."""

    spec: StepSpec
    script_path: Path
    spec_path: Path | None
    overrides: Overrides
    resolved: ResolvedScript
    file_spec: ScriptSpec | None
    """The spec file as written (before overrides): tells which data fields were given."""
    pipeline_dir: Path

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def real_inputs(self) -> dict[str, DataLocation]:
        """The step's ``inputs``: folders resolved against the pipeline file's folder."""
        located = {name: as_location(value) for name, value in self.spec.inputs.items()}
        return {
            name: (self.pipeline_dir / place).resolve() if isinstance(place, Path) else place
            for name, place in located.items()
        }

    @property
    def output_channels(self) -> list[str]:
        """Output channels; a training job always has the platform's three."""
        if self.resolved.spec.kind is JobKind.TRAINING:
            return list(training_output_paths(self.resolved.spec))
        return list(self.resolved.spec.outputs)

    @property
    def input_channels(self) -> list[str]:
        return list(self.resolved.spec.inputs)

    @property
    def environment(self) -> dict[str, str]:
        """What the script will see: its own defaults, then the spec's environment."""
        return script_environment(self.resolved.spec, self.resolved.contract)


@dataclass(frozen=True)
class PlannedEdge:
    """An edge with both ends parsed."""

    spec: EdgeSpec
    source: Endpoint
    target: Endpoint
    expectation: ChannelExpectation = field(default_factory=ChannelExpectation)
    """What the downstream channel needs from the upstream folder (set by the plan)."""

    @property
    def label(self) -> str:
        return f"{self.source.label} -> {self.target.label}"


@dataclass(frozen=True)
class PipelinePlan:
    """A pipeline ready to run: steps in file order, edges, a topological order."""

    name: str
    file: Path
    steps: dict[str, PlannedStep]
    edges: list[PlannedEdge]
    order: list[str]

    @property
    def predecessors(self) -> dict[str, set[str]]:
        """Step -> the steps that feed it."""
        graph: dict[str, set[str]] = {name: set() for name in self.steps}
        for edge in self.edges:
            graph[edge.target.step].add(edge.source.step)
        return graph

    def inbound(self, step: str) -> list[PlannedEdge]:
        """The edges that feed ``step``."""
        return [edge for edge in self.edges if edge.target.step == step]

    def descendants(self, step: str) -> set[str]:
        """Every step downstream of ``step`` (not ``step`` itself)."""
        found: set[str] = set()
        frontier = [step]
        while frontier:
            current = frontier.pop()
            for edge in self.edges:
                if edge.source.step == current and edge.target.step not in found:
                    found.add(edge.target.step)
                    frontier.append(edge.target.step)
        return found


def plan_pipeline(path: Path, scripts_dir: Path) -> PipelinePlan:
    """Load, resolve and check a pipeline file.

    Raises:
        SpecError: an unknown step or channel, an input fed twice, a cycle
            (``a -> b -> a``), or a step whose script or spec is unusable.
    """
    spec = load_pipeline_spec(path)
    source = str(path)
    edges = [_planned_edge(edge) for edge in spec.edges]
    _check_fed_once(edges, source)
    predecessors = {
        step.name: {e.source.step for e in edges if e.target.step == step.name}
        for step in spec.steps
    }
    order = topological_order(predecessors, source=source)
    steps = {step.name: _planned_step(step, path, scripts_dir) for step in spec.steps}
    for edge in edges:
        _check_channels(edge, steps, source)
    for step in steps.values():
        _check_real_inputs(step, edges, source)
    edges = [_with_expectation(edge, steps[edge.target.step], source) for edge in edges]
    name = spec.name or path.stem
    return PipelinePlan(name=name, file=path.resolve(), steps=steps, edges=edges, order=order)


def _planned_edge(edge: EdgeSpec) -> PlannedEdge:
    # The syntax was checked when the file was loaded.
    source = parse_endpoint(edge.from_, allow_sub_path=True)
    return PlannedEdge(edge, source, parse_endpoint(edge.to, allow_sub_path=False))


def _with_expectation(edge: PlannedEdge, downstream: PlannedStep, source: str) -> PlannedEdge:
    script_source = downstream.script_path.read_text(encoding="utf-8", errors="replace")
    spec = downstream.resolved.spec
    try:
        expectation = expectation_for(
            edge.target.channel, spec, downstream.file_spec, script_source, downstream.environment
        )
    except SpecError as exc:
        raise SpecError(source, f"edge {edge.label}: {exc.problem}") from exc
    return replace(edge, expectation=expectation)


def _check_fed_once(edges: list[PlannedEdge], source: str) -> None:
    feeders: dict[str, PlannedEdge] = {}
    for edge in edges:
        key = edge.target.label
        if key in feeders:
            raise SpecError(
                source,
                f"input {key} is fed twice (by {feeders[key].source.label} "
                f"and {edge.source.label})",
            )
        feeders[key] = edge


def topological_order(predecessors: Mapping[str, set[str]], *, source: str) -> list[str]:
    """Steps so that each comes after the steps that feed it.

    Raises:
        SpecError: the graph has a cycle, reported as ``cycle: a -> b -> a``.
    """
    try:
        return list(graphlib.TopologicalSorter(predecessors).static_order())
    except graphlib.CycleError as exc:
        # Each node in graphlib's list feeds the next: it reads as data flows.
        cycle = [str(node) for node in exc.args[1]]
        raise SpecError(source, f"cycle: {' -> '.join(cycle)}") from exc


def critical_path(
    predecessors: Mapping[str, set[str]], durations_s: Mapping[str, float]
) -> tuple[float, list[str]]:
    """The longest path through the DAG by step duration: ``(seconds, steps)``."""
    order = list(graphlib.TopologicalSorter(predecessors).static_order())
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for step in order:
        before = max(predecessors.get(step, ()), key=lambda p: finish[p], default=None)
        via[step] = before
        finish[step] = durations_s.get(step, 0.0) + (finish[before] if before is not None else 0.0)
    if not finish:
        return 0.0, []
    last = max(order, key=lambda step: finish[step])
    total, end = finish[last], last
    path: list[str] = []
    current: str | None = end
    while current is not None:
        path.append(current)
        current = via[current]
    return round(total, 3), list(reversed(path))


def _planned_step(step: StepSpec, pipeline_file: Path, scripts_dir: Path) -> PlannedStep:
    folder = pipeline_file.parent
    overrides = Overrides(
        image=step.image,
        call_style=step.call_style,
        arguments=dict(step.arguments),
        environment=dict(step.environment),
        instance_type=step.instance_type,
        hyperparameters=dict(step.hyperparameters),
    )
    try:
        script_path = _find_step_script(step.script, folder, scripts_dir)
        spec_path = (folder / step.spec) if step.spec else None
        file_spec = load_spec(spec_path) if spec_path else None
        resolved = resolve_script(script_path, spec_path, overrides)
    except UsageError as exc:
        raise SpecError(str(pipeline_file), f"step {step.name}: {exc}") from exc
    return PlannedStep(step, script_path, spec_path, overrides, resolved, file_spec, folder)


def _find_step_script(script: str, pipeline_dir: Path, scripts_dir: Path) -> Path:
    for candidate in (pipeline_dir / script, pipeline_dir / f"{script}.py"):
        if candidate.is_file():
            return candidate.resolve()
    return find_script(script, scripts_dir)


def _check_channels(edge: PlannedEdge, steps: dict[str, PlannedStep], source: str) -> None:
    upstream, downstream = steps[edge.source.step], steps[edge.target.step]
    if edge.source.channel not in upstream.output_channels:
        known = ", ".join(upstream.output_channels) or "none"
        raise SpecError(
            source,
            f"edge {edge.label}: step {upstream.name} has no output channel "
            f"{edge.source.channel!r} (outputs: {known})",
        )
    if edge.target.channel not in downstream.input_channels:
        known = ", ".join(downstream.input_channels) or "none"
        raise SpecError(
            source,
            f"edge {edge.label}: step {downstream.name} has no input channel "
            f"{edge.target.channel!r} (inputs: {known})",
        )


def _check_real_inputs(step: PlannedStep, edges: list[PlannedEdge], source: str) -> None:
    fed = {edge.target.channel for edge in edges if edge.target.step == step.name}
    for channel, location in step.real_inputs.items():
        where = f"step {step.name}: inputs.{channel}"
        if channel not in step.input_channels:
            known = ", ".join(step.input_channels) or "none"
            raise SpecError(source, f"{where}: no such input channel (inputs: {known})")
        if channel in fed:
            raise SpecError(source, f"{where}: the channel is fed by an edge too")
        if isinstance(location, Path) and not location.is_dir():
            raise SpecError(source, f"{where}: {location} is not a folder")
