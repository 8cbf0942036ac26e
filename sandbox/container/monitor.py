"""Resource figures: the engine's stats stream while the container runs, and the
supervisor's exact report and timeline read at exit.

The stream samples about once a second and misses short spikes, so the supervisor's
report (cgroup peak read from inside the container at exit) is the figure of record,
and its timeline (the cgroup read ten times a second) the timeline; the stream gives
both when no supervisor could run (an image without ``python3``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sandbox.results.models import ResourceUsage, TimelineSample

__all__ = [
    "StatsMonitor",
    "memory_without_cache_bytes",
    "timeline_from_file",
    "usage_from_report",
]

logger = logging.getLogger(__name__)

_MIB = 1024 * 1024
_JOIN_TIMEOUT_S = 2.0


def memory_without_cache_bytes(memory_stats: dict[str, Any]) -> int | None:
    """Usage minus inactive page cache, as ``docker stats`` computes it (v1 and v2)."""
    usage = memory_stats.get("usage")
    if usage is None:
        return None
    stats = memory_stats.get("stats", {})
    inactive = stats.get("total_inactive_file", stats.get("inactive_file", 0))
    return int(usage) - int(inactive) if inactive < usage else int(usage)


def cpu_percent(sample: dict[str, Any]) -> float | None:
    """CPU percent of one core from a sample's current and previous counters."""
    cpu, pre = sample.get("cpu_stats", {}), sample.get("precpu_stats", {})
    try:
        cpu_delta = cpu["cpu_usage"]["total_usage"] - pre["cpu_usage"]["total_usage"]
        system_delta = cpu["system_cpu_usage"] - pre["system_cpu_usage"]
    except (KeyError, TypeError):
        return None
    online = cpu.get("online_cpus") or len(cpu["cpu_usage"].get("percpu_usage") or [1])
    if system_delta <= 0 or cpu_delta < 0:
        return None
    return cpu_delta / system_delta * online * 100.0


def _is_empty(sample: dict[str, Any]) -> bool:
    # After the exit the stream keeps sending samples with a zero read time and no memory.
    return str(sample.get("read", "")).startswith("0001-") or not sample.get("memory_stats")


class StatsMonitor:
    """Reads the stats stream on a thread; stops at the first empty sample."""

    def __init__(self, stream: Iterator[dict[str, Any]], started_monotonic: float) -> None:
        self._stream = stream
        self._started = started_monotonic
        self.samples: list[TimelineSample] = []
        self.max_usage_bytes: int | None = None
        self._thread = threading.Thread(target=self._read, name="sandbox-stats", daemon=True)

    def start(self) -> StatsMonitor:
        self._thread.start()
        return self

    def join(self) -> None:
        """Wait briefly; the stream ends when the container is removed."""
        self._thread.join(timeout=_JOIN_TIMEOUT_S)

    def _read(self) -> None:
        try:
            for sample in self._stream:
                if _is_empty(sample):
                    return
                self._record(sample)
        except Exception as exc:  # the stream breaks when the container goes away
            logger.debug("stats stream ended: %s", str(exc))

    def _record(self, sample: dict[str, Any]) -> None:
        memory = memory_without_cache_bytes(sample["memory_stats"])
        max_usage = sample["memory_stats"].get("max_usage")
        if max_usage is not None:
            self.max_usage_bytes = max(self.max_usage_bytes or 0, int(max_usage))
        self.samples.append(
            TimelineSample(
                t_s=round(time.monotonic() - self._started, 3),
                memory_mb=round((memory or 0) / _MIB, 2),
                cpu_percent=_round(cpu_percent(sample)),
            )
        )

    def usage(self) -> ResourceUsage:
        """Figures from the stream alone (the fallback when no supervisor report exists)."""
        peaks = [s.memory_mb for s in self.samples]
        cpus = [s.cpu_percent for s in self.samples if s.cpu_percent is not None]
        peak_bytes = self.max_usage_bytes
        return ResourceUsage(
            source="stats",
            peak_memory_mb=_mb(peak_bytes) if peak_bytes else (max(peaks) if peaks else None),
            max_cpu_percent=max(cpus) if cpus else None,
            timeline=list(self.samples),
        )


def timeline_from_file(path: Path) -> list[TimelineSample]:
    """The supervisor's samples (``[t_s, memory_bytes, cpu_usec]``), CPU percent from the
    difference to the previous sample; empty when the file is missing or malformed."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["samples"]
        triples = [(float(t), _int_or_none(mem), _int_or_none(cpu)) for t, mem, cpu in rows]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    samples: list[TimelineSample] = []
    previous: tuple[float, int | None, int | None] | None = None
    for t_s, memory_bytes, cpu_usec in triples:
        samples.append(
            TimelineSample(
                t_s=round(t_s, 3),
                memory_mb=round((memory_bytes or 0) / _MIB, 2),
                cpu_percent=_round(_cpu_between(previous, (t_s, memory_bytes, cpu_usec))),
            )
        )
        previous = (t_s, memory_bytes, cpu_usec)
    return samples


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _cpu_between(
    before: tuple[float, int | None, int | None] | None, after: tuple[float, int | None, int | None]
) -> float | None:
    if before is None or before[2] is None or after[2] is None or after[0] <= before[0]:
        return None
    return max(0.0, (after[2] - before[2]) / ((after[0] - before[0]) * 1e6) * 100.0)


def usage_from_report(
    report_file: Path, monitor: StatsMonitor | None, *, timeline_file: Path | None = None
) -> ResourceUsage | None:
    """Combine the supervisor's exact report with its timeline, or else the stream's."""
    try:
        report = json.loads(report_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = None
    if not isinstance(report, dict):
        return monitor.usage() if monitor is not None else None
    timeline = timeline_from_file(timeline_file) if timeline_file is not None else []
    if not timeline:
        timeline = list(monitor.samples) if monitor is not None else []
    cpus = [s.cpu_percent for s in timeline if s.cpu_percent is not None]
    wall_s = report.get("wall_s")
    cpu_total = (report.get("cpu_user_s") or 0) + (report.get("cpu_system_s") or 0)
    average_cpu = cpu_total / wall_s * 100 if wall_s else None
    peak_mb = _mb(report.get("peak_memory_bytes"))
    if peak_mb is None and monitor is not None:
        peak_mb = monitor.usage().peak_memory_mb  # cgroup v2 before Linux 5.19: no memory.peak
    return ResourceUsage(
        source="supervisor",
        peak_memory_mb=peak_mb,
        peak_rss_mb=_mb(report.get("peak_rss_bytes")),
        page_cache_mb=_mb(report.get("page_cache_bytes")),
        cpu_user_s=_round(report.get("cpu_user_s")),
        cpu_system_s=_round(report.get("cpu_system_s")),
        wall_time_s=_round(wall_s),
        max_cpu_percent=_round(max([*cpus, average_cpu or 0.0]) if (cpus or average_cpu) else None),
        oom_kill_count=report.get("oom_kill_count"),
        pids_limit_hits=report.get("pids_limit_hits"),
        peak_pids=report.get("peak_pids"),
        abandoned_after_s=report.get("abandoned_after_s"),
        timeline=timeline,
    )


def _mb(value: int | None) -> float | None:
    return round(value / _MIB, 2) if value is not None else None


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None
