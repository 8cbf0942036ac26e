"""Result models: what one run produced, for people (text, HTML) and CI (JSON, JUnit)."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.results.legacy import FlatFigures, nest_flat_figures

if TYPE_CHECKING:
    from sandbox.contract.resolve import ResolvedScript

from sandbox.results.printable import json_safe

__all__ = [
    "RESULT_SCHEMA_VERSION",
    "AppliedLimits",
    "Artifact",
    "ExecutionResult",
    "LogFile",
    "OutputFile",
    "ResourceUsage",
    "Status",
    "TestResult",
    "TimelineSample",
]

RESULT_SCHEMA_VERSION = 2
"""2: the figures live once, in ``execution`` (and its ``resources``); version 1 copied
them to the top level, where they are still read (and readable as properties)."""
STDERR_TAIL_LINES = 50


class Status(str, Enum):
    """The verdict of one run."""

    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    TIMEOUT = "TIMEOUT"
    OOM = "OOM"
    SKIPPED = "SKIPPED"


class _Result(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OutputFile(_Result):
    """One file a script wrote into an output channel."""

    channel: str
    path: str = Field(description="Relative to the channel folder.")
    size_bytes: int


class Artifact(_Result):
    """An archive packed after a passing training job (``model.tar.gz``, ``output.tar.gz``)."""

    name: str
    path: str
    size_bytes: int
    members: list[str] = Field(default_factory=list)


class TimelineSample(_Result):
    """One sample of the container's memory and CPU: read by the supervisor inside the
    container (about ten a second), or from the engine's stats stream without it."""

    t_s: float = Field(description="Seconds since the container started.")
    memory_mb: float = Field(description="Usage without page cache, as `docker stats` shows.")
    cpu_percent: float | None = None


class ResourceUsage(_Result):
    """Resource figures of one run (MiB, seconds, percent of one core)."""

    source: str = Field(description="'supervisor' (exact, from inside) or 'stats' (sampled).")
    peak_memory_mb: float | None = Field(default=None, description="cgroup peak, with page cache.")
    peak_rss_mb: float | None = None
    page_cache_mb: float | None = None
    cpu_user_s: float | None = None
    cpu_system_s: float | None = None
    wall_time_s: float | None = None
    max_cpu_percent: float | None = None
    oom_kill_count: int | None = None
    pids_limit_hits: int | None = Field(
        default=None, description="Forks refused because the pids limit was reached."
    )
    peak_pids: int | None = None
    abandoned_after_s: float | None = Field(
        default=None, description="The supervisor stopped the job: no heartbeat for so long."
    )
    timeline: list[TimelineSample] = Field(default_factory=list)


class AppliedLimits(_Result):
    """The limits the container ran under, and where they came from."""

    instance_type: str | None = None
    cpus: float | None = None
    memory_mb: float | None = None
    max_runtime_s: int | None = None
    network: bool = False
    pids_limit: int | None = Field(
        default=None, description="Most processes and threads the container may hold."
    )
    notes: list[str] = Field(default_factory=list)

    def describe(self) -> str:
        """A short human summary, e.g. ``ml.m5.large: 2 CPUs, 8192 MiB``."""
        parts = [
            f"{self.cpus:g} CPUs" if self.cpus else "no CPU limit",
            f"{self.memory_mb:.0f} MiB" if self.memory_mb else "no memory limit",
        ]
        if self.max_runtime_s:
            parts.append(f"max runtime {self.max_runtime_s} s")
        if self.pids_limit:
            parts.append(f"{self.pids_limit} pids")
        prefix = f"{self.instance_type}: " if self.instance_type else ""
        return prefix + ", ".join(parts)


class LogFile(_Result):
    """One output stream of the container, kept whole in the run folder."""

    path: str | None = Field(default=None, description="The file with the whole stream.")
    size_bytes: int = Field(default=0, description="How much the container wrote to it.")
    tail_cut: bool = Field(
        default=False, description="A tail line was cut, or lines dropped, to keep it small."
    )
    complete: bool = Field(default=True, description="False when the file is incomplete.")


class ExecutionResult(_Result):
    """What the container did, before any verdict."""

    exit_code: int | None
    oom_killed: bool = False
    timed_out: bool = False
    started_at: datetime
    finished_at: datetime
    wall_time_s: float
    image: str
    image_id: str
    command: list[str]
    stderr_tail: list[str] = Field(default_factory=list)
    stdout_tail: list[str] = Field(default_factory=list)
    stderr_log: LogFile | None = None
    stdout_log: LogFile | None = None
    exit_message: str | None = None
    exit_message_valid: bool = True
    failure_reason: str | None = None
    main_sys_exit_code: int | None = None
    signals_received: list[int] = Field(
        default_factory=list,
        description="Signals PID 1 received from outside (the engine, docker stop, a timeout).",
    )
    resources: ResourceUsage | None = None


def _now() -> datetime:
    return datetime.now(timezone.utc)


class TestResult(_Result, FlatFigures):
    """The verdict on one script run, with everything needed to act on it."""

    __test__ = False  # not a pytest test class

    schema_version: int = RESULT_SCHEMA_VERSION
    run_id: str
    script_name: str
    script_path: str
    kind: str
    kind_reason: str = ""
    call_style: str
    status: Status
    error_message: str | None = None
    recommendations: list[str] = Field(default_factory=list)
    timestamp: datetime = Field(default_factory=_now)
    image: str = Field(default="", description="The image of the run, known before it starts.")
    image_id: str = ""
    outputs: dict[str, list[OutputFile]] = Field(default_factory=dict)
    artifacts: list[Artifact] = Field(default_factory=list)
    inputs: dict[str, str] = Field(
        default_factory=dict, description="Channel -> where its data came from."
    )
    limits: AppliedLimits = Field(default_factory=AppliedLimits)
    findings: list[str] = Field(default_factory=list)
    spec: dict[str, Any] = Field(default_factory=dict)
    run_dir: str = ""
    execution: ExecutionResult | None = Field(
        default=None, description="What the container did; None when none ran."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_flat_figures(cls, data: Any) -> Any:
        """Read the top-level figures of schema version 1 (:mod:`.legacy`)."""
        return nest_flat_figures(data)

    @classmethod
    def not_run(
        cls, resolved: ResolvedScript, status: Status, reason: str, **fields: Any
    ) -> TestResult:
        """The result of a run that never started (SKIPPED) or that an error stopped
        (ERROR): the script, its spec and the reason, no figures. ``fields`` adds what
        is known, e.g. the run folder."""
        spec = resolved.spec
        known: dict[str, Any] = {
            "run_id": "",
            "script_name": resolved.script_path.stem,
            "script_path": str(resolved.script_path),
            "kind": spec.kind.value,
            "call_style": spec.call_style.value,
            "status": status,
            "error_message": reason,
            "spec": spec.model_dump(mode="json"),
        }
        return cls(**{**known, **fields})

    def is_successful(self) -> bool:
        """True only for PASS."""
        return self.status is Status.PASS

    @property
    def stderr_log(self) -> LogFile | None:
        """Where the whole stderr was saved (:attr:`stderr_tail` may be cut)."""
        return self.execution.stderr_log if self.execution else None

    @property
    def ok(self) -> bool:
        """Alias of :meth:`is_successful`, for terse test assertions."""
        return self.is_successful()

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON-ready form that is saved and printed: valid UTF-8, bytes of a file name
        that were not UTF-8 written as ``\\xNN``."""
        return json_safe(self.model_dump(mode="json"))
