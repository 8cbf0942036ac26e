"""Result models of a pipeline run: one verdict per step and per edge, and the timings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sandbox.results.models import Status, TestResult
from sandbox.results.printable import json_safe

__all__ = [
    "PIPELINE_RESULT_SCHEMA_VERSION",
    "EdgeCheck",
    "PipelineResult",
    "StepResult",
]

PIPELINE_RESULT_SCHEMA_VERSION = 1


class _Result(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class EdgeCheck(_Result):
    """The data-flow check of one edge: PASS, FAIL, or SKIPPED when it was not checked."""

    from_: str = Field(alias="from", description="step.output_channel[/sub]")
    to: str = Field(description="step.input_channel")
    status: Status
    message: str = ""

    @property
    def label(self) -> str:
        return f"{self.from_} -> {self.to}"


class StepResult(_Result):
    """One step's verdict; ``result`` is the full :class:`TestResult` of its run."""

    name: str
    status: Status
    run_dir: str = Field(default="", description="The step's run folder; empty if it did not run.")
    wall_time_s: float = 0.0
    peak_memory_mb: float | None = None
    selected: bool = Field(default=True, description="False when --from/--only left it out.")
    reused_from: str | None = Field(
        default=None, description="Pipeline run id whose result was reused (--from/--only)."
    )
    result: TestResult

    @property
    def reason(self) -> str | None:
        """Why it did not pass (or was skipped)."""
        return self.result.error_message


class PipelineResult(_Result):
    """The verdict on a pipeline run."""

    schema_version: int = PIPELINE_RESULT_SCHEMA_VERSION
    pipeline_run_id: str
    pipeline_name: str
    pipeline_file: str
    status: Status
    started_at: datetime
    finished_at: datetime
    wall_time_s: float = Field(description="Wall seconds of the whole pipeline run.")
    critical_path_s: float = Field(description="Longest path through the DAG by step time.")
    critical_path: list[str] = Field(default_factory=list)
    jobs: int = 1
    steps: list[StepResult]
    edges: list[EdgeCheck] = Field(default_factory=list)
    run_dir: str = Field(default="", description="The pipeline run folder.")

    def is_successful(self) -> bool:
        """True only for PASS."""
        return self.status is Status.PASS

    def step(self, name: str) -> StepResult:
        """The step of that name (KeyError when there is none)."""
        return {step.name: step for step in self.steps}[name]

    def edge(self, label: str) -> EdgeCheck:
        """The edge check ``"a.out -> b.in"`` (KeyError when there is none)."""
        return {edge.label: edge for edge in self.edges}[label]

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON-ready form that is saved and printed (edges keyed ``from``/``to``)."""
        return json_safe(self.model_dump(mode="json", by_alias=True))
