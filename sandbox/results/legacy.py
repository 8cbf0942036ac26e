"""Results of schema version 1, read for one more version.

Version 1 copied twelve figures of a run to the top level of ``result.json`` (the
timeline twice). Version 2 keeps them once, under ``execution`` and its ``resources``.
:func:`nest_flat_figures` reads the old form (and callers that still pass the old
keyword arguments) losslessly; :class:`FlatFigures` keeps the old names readable.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.results.models import ExecutionResult, ResourceUsage, TimelineSample

__all__ = ["FLAT_FIGURES", "FlatFigures", "nest_flat_figures"]


FLAT_FIGURES = (
    "execution_time",
    "memory_usage",
    "peak_memory_mb",
    "peak_rss_mb",
    "cpu_user_s",
    "cpu_system_s",
    "wall_time_s",
    "max_cpu_percent",
    "timeline",
    "exit_code",
    "stderr_tail",
    "exit_message",
)
_USAGE_FIGURES = (
    "peak_memory_mb",
    "peak_rss_mb",
    "cpu_user_s",
    "cpu_system_s",
    "wall_time_s",
    "max_cpu_percent",
    "timeline",
)


def _ran(flat: dict[str, Any]) -> bool:
    """Whether top-level figures describe a container that ran (a result that did not
    run carries only ``execution_time`` 0 and empty figures)."""
    return any(value not in (None, 0, 0.0, [], "") for value in flat.values())


def _execution_from_flat(data: dict[str, Any], flat: dict[str, Any]) -> dict[str, Any]:
    when = data.get("timestamp") or _now()
    usage = {key: flat[key] for key in _USAGE_FIGURES if flat.get(key) not in (None, [])}
    if flat.get("memory_usage") is not None and "peak_memory_mb" not in usage:
        usage["peak_memory_mb"] = flat["memory_usage"]
    return {
        "exit_code": flat.get("exit_code"),
        "started_at": when,
        "finished_at": when,
        "wall_time_s": flat.get("execution_time") or 0.0,
        "image": data.get("image", ""),
        "image_id": data.get("image_id", ""),
        "command": [],
        "stderr_tail": flat.get("stderr_tail") or [],
        "exit_message": flat.get("exit_message"),
        "resources": {"source": "none", **usage} if usage else None,
    }


def _now() -> datetime:
    return datetime.now(timezone.utc)


def nest_flat_figures(data: Any) -> Any:
    """``data`` with its top-level figures removed; with no ``execution``, they become
    one, so no figure is lost."""
    if not isinstance(data, dict):
        return data
    flat = {key: data[key] for key in FLAT_FIGURES if key in data}
    if not flat:
        return data
    data = {key: value for key, value in data.items() if key not in FLAT_FIGURES}
    if data.get("execution") is None and _ran(flat):
        data["execution"] = _execution_from_flat(data, flat)
    return data


class FlatFigures:
    """The figures of schema version 1, as read-only properties over ``execution``."""

    if TYPE_CHECKING:
        execution: ExecutionResult | None

    @property
    def usage(self) -> ResourceUsage | None:
        """The resource figures of record (the supervisor's, else the stats stream's)."""
        return self.execution.resources if self.execution else None

    @property
    def execution_time(self) -> float:
        """Wall seconds of the container run (0 when none ran)."""
        return round(self.execution.wall_time_s, 3) if self.execution else 0.0

    @property
    def exit_code(self) -> int | None:
        return self.execution.exit_code if self.execution else None

    @property
    def stderr_tail(self) -> list[str]:
        return self.execution.stderr_tail if self.execution else []

    @property
    def exit_message(self) -> str | None:
        return self.execution.exit_message if self.execution else None

    @property
    def peak_memory_mb(self) -> float | None:
        return self.usage.peak_memory_mb if self.usage else None

    @property
    def memory_usage(self) -> float | None:
        """Peak memory in MiB (= :attr:`peak_memory_mb`)."""
        return self.peak_memory_mb

    @property
    def peak_rss_mb(self) -> float | None:
        return self.usage.peak_rss_mb if self.usage else None

    @property
    def cpu_user_s(self) -> float | None:
        return self.usage.cpu_user_s if self.usage else None

    @property
    def cpu_system_s(self) -> float | None:
        return self.usage.cpu_system_s if self.usage else None

    @property
    def wall_time_s(self) -> float | None:
        """The script's wall seconds; the container run's when no figure was measured."""
        if self.usage and self.usage.wall_time_s:
            return self.usage.wall_time_s
        return self.execution_time if self.execution else None

    @property
    def max_cpu_percent(self) -> float | None:
        return self.usage.max_cpu_percent if self.usage else None

    @property
    def timeline(self) -> list[TimelineSample]:
        return self.usage.timeline if self.usage else []
