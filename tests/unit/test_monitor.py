"""Resource figures (sandbox.container.monitor) from canned stats and supervisor reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.container.monitor import (
    StatsMonitor,
    cpu_percent,
    memory_without_cache_bytes,
    timeline_from_file,
    usage_from_report,
)

MIB = 1024 * 1024
EMPTY_SAMPLE: dict[str, Any] = {
    "read": "0001-01-01T00:00:00Z",
    "preread": "0001-01-01T00:00:00Z",
    "memory_stats": {},
    "cpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
    "precpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
}


def _cpu(total_usage: int, system: int, online: int = 2) -> dict[str, Any]:
    return {
        "cpu_usage": {
            "total_usage": total_usage,
            "percpu_usage": [total_usage // 2, total_usage - total_usage // 2],
            "usage_in_kernelmode": 0,
            "usage_in_usermode": total_usage,
        },
        "system_cpu_usage": system,
        "online_cpus": online,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    }


def _sample(
    second: int,
    usage_mb: int,
    *,
    inactive_mb: int = 0,
    max_usage_mb: int | None = None,
    cpu_ns: tuple[int, int] = (0, 0),
    system_ns: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """A cgroup v1 sample like docker's stream; (previous, current) CPU counters."""
    memory: dict[str, Any] = {
        "usage": usage_mb * MIB,
        "limit": 4096 * MIB,
        "stats": {
            "cache": inactive_mb * MIB,
            "inactive_file": inactive_mb * MIB,
            "total_inactive_file": inactive_mb * MIB,
            "rss": (usage_mb - inactive_mb) * MIB,
        },
    }
    if max_usage_mb is not None:
        memory["max_usage"] = max_usage_mb * MIB
    return {
        "read": f"2026-01-01T00:00:{second:02d}.004Z",
        "preread": f"2026-01-01T00:00:{second - 1:02d}.000Z",
        "memory_stats": memory,
        "cpu_stats": _cpu(cpu_ns[1], system_ns[1]),
        "precpu_stats": _cpu(cpu_ns[0], system_ns[0]),
        "pids_stats": {"current": 3},
    }


# memory_without_cache_bytes -------------------------------------------------------


def test_memory_v1_subtracts_total_inactive_file() -> None:
    memory = {
        "usage": 300 * MIB,
        "max_usage": 310 * MIB,
        "limit": 1024 * MIB,
        "stats": {"total_inactive_file": 100 * MIB, "inactive_file": 90 * MIB},
    }
    assert memory_without_cache_bytes(memory) == 200 * MIB


def test_memory_v2_subtracts_inactive_file() -> None:
    memory = {"usage": 300 * MIB, "limit": 1024 * MIB, "stats": {"inactive_file": 50 * MIB}}
    assert memory_without_cache_bytes(memory) == 250 * MIB


def test_memory_without_stats_or_usage() -> None:
    assert memory_without_cache_bytes({"usage": 7 * MIB}) == 7 * MIB
    assert memory_without_cache_bytes({}) is None
    # docker stats keeps the usage when the inactive figure is not smaller.
    both = {"usage": 10 * MIB, "stats": {"total_inactive_file": 20 * MIB}}
    assert memory_without_cache_bytes(both) == 10 * MIB


# cpu_percent ----------------------------------------------------------------------


def test_cpu_percent_from_consecutive_counters() -> None:
    # 1 s of CPU over 2 s of host time on 2 CPUs: one busy core.
    sample = _sample(2, 100, cpu_ns=(1_000_000_000, 2_000_000_000), system_ns=(10**10, 12 * 10**9))
    assert cpu_percent(sample) == pytest.approx(100.0)


def test_cpu_percent_counts_percpu_when_online_cpus_is_missing() -> None:
    sample = _sample(2, 100, cpu_ns=(0, 500_000_000), system_ns=(10**10, 12 * 10**9))
    del sample["cpu_stats"]["online_cpus"]
    assert cpu_percent(sample) == pytest.approx(50.0)


def test_cpu_percent_of_the_first_sample_is_none() -> None:
    # The first sample has zero precpu_stats and no system_cpu_usage in them.
    sample = _sample(1, 100, cpu_ns=(0, 10**9), system_ns=(0, 10**10))
    sample["precpu_stats"] = {"cpu_usage": {"total_usage": 0}, "throttling_data": {}}
    assert cpu_percent(sample) is None
    assert cpu_percent(EMPTY_SAMPLE) is None


# StatsMonitor ---------------------------------------------------------------------


def _monitor(samples: list[dict[str, Any]] | Iterator[dict[str, Any]]) -> StatsMonitor:
    monitor = StatsMonitor(iter(samples), started_monotonic=0.0).start()
    monitor.join()
    return monitor


def test_monitor_records_samples_and_stops_at_the_first_empty_one() -> None:
    samples = [
        _sample(1, 120, inactive_mb=20),
        _sample(2, 250, inactive_mb=50, cpu_ns=(0, 10**9), system_ns=(10**10, 12 * 10**9)),
        EMPTY_SAMPLE,
        _sample(4, 999),  # after the exit: never recorded
        _sample(5, 888),
    ]
    stream = iter(samples)
    monitor = _monitor(stream)
    assert [s.memory_mb for s in monitor.samples] == [100.0, 200.0]
    assert next(stream)["read"].startswith("2026-01-01T00:00:04")  # left unread
    assert [s.cpu_percent for s in monitor.samples] == [None, 100.0]
    usage = monitor.usage()
    assert usage.source == "stats"
    assert usage.peak_memory_mb == 200.0
    assert usage.max_cpu_percent == 100.0


def test_monitor_treats_a_sample_without_memory_as_empty() -> None:
    no_memory = {**_sample(2, 10), "memory_stats": {}}
    monitor = _monitor([_sample(1, 64), no_memory, _sample(3, 512)])
    assert [s.memory_mb for s in monitor.samples] == [64.0]


def test_monitor_peak_prefers_max_usage() -> None:
    monitor = _monitor([_sample(1, 100, max_usage_mb=300), _sample(2, 120, max_usage_mb=280)])
    assert monitor.max_usage_bytes == 300 * MIB
    assert monitor.usage().peak_memory_mb == 300.0


def test_monitor_survives_a_stream_that_raises() -> None:
    def breaking() -> Iterator[dict[str, Any]]:
        yield _sample(1, 42)
        raise ConnectionError("stream broke: container removed")

    monitor = _monitor(breaking())
    assert [s.memory_mb for s in monitor.samples] == [42.0]
    assert monitor.usage().peak_memory_mb == 42.0


def test_monitor_without_samples_has_no_figures() -> None:
    usage = _monitor([EMPTY_SAMPLE]).usage()
    assert usage.peak_memory_mb is None
    assert usage.max_cpu_percent is None
    assert usage.timeline == []


# usage_from_report ----------------------------------------------------------------


REPORT = {
    "exit_code": 0,
    "wall_s": 4.0,
    "cpu_user_s": 3.0,
    "cpu_system_s": 1.0,
    "peak_rss_bytes": 150 * MIB,
    "signals_forwarded": [],
    "cgroup_version": 1,
    "peak_memory_bytes": 400 * MIB,
    "page_cache_bytes": 200 * MIB,
    "oom_kill_count": 0,
    "memory_limit_bytes": 4096 * MIB,
}


def test_report_figures_win_and_the_timeline_is_kept(tmp_path: Path) -> None:
    report = tmp_path / "supervisor.json"
    report.write_text(json.dumps(REPORT), encoding="utf-8")
    busy = _sample(2, 300, max_usage_mb=350, cpu_ns=(0, 3 * 10**9), system_ns=(0, 2 * 10**9))
    monitor = _monitor([_sample(1, 100), busy, EMPTY_SAMPLE])
    usage = usage_from_report(report, monitor)
    assert usage is not None
    assert usage.source == "supervisor"
    assert usage.peak_memory_mb == 400.0
    assert usage.peak_rss_mb == 150.0
    assert usage.page_cache_mb == 200.0
    assert (usage.cpu_user_s, usage.cpu_system_s, usage.wall_time_s) == (3.0, 1.0, 4.0)
    assert usage.oom_kill_count == 0
    assert [s.memory_mb for s in usage.timeline] == [100.0, 300.0]
    assert usage.max_cpu_percent == 300.0  # the stream's busiest sample beats the average


def test_report_average_cpu_without_a_timeline(tmp_path: Path) -> None:
    report = tmp_path / "supervisor.json"
    report.write_text(json.dumps(REPORT), encoding="utf-8")
    usage = usage_from_report(report, None)
    assert usage is not None
    assert usage.max_cpu_percent == 100.0  # (3 + 1) CPU s over 4 wall s
    assert usage.timeline == []


def test_missing_report_falls_back_to_stats(tmp_path: Path) -> None:
    monitor = _monitor([_sample(1, 64)])
    usage = usage_from_report(tmp_path / "absent.json", monitor)
    assert usage is not None
    assert usage.source == "stats"
    assert usage.peak_memory_mb == 64.0
    assert usage_from_report(tmp_path / "absent.json", None) is None


@pytest.mark.parametrize("text", ['{"exit_code": 0, "wall_', "", "not json"])
def test_corrupt_report_falls_back_to_stats(tmp_path: Path, text: str) -> None:
    report = tmp_path / "supervisor.json"
    report.write_text(text, encoding="utf-8")
    usage = usage_from_report(report, _monitor([_sample(1, 64)]))
    assert usage is not None
    assert usage.source == "stats"
    assert usage.peak_memory_mb == 64.0


def test_report_that_is_json_but_not_an_object_falls_back_to_stats(tmp_path: Path) -> None:
    report = tmp_path / "supervisor.json"
    report.write_text("[]", encoding="utf-8")
    usage = usage_from_report(report, _monitor([_sample(1, 64)]))
    assert usage is not None
    assert usage.source == "stats"


# the supervisor's timeline ----------------------------------------------------------


def _timeline(tmp_path: Path, rows: Any) -> Path:
    path = tmp_path / "timeline.json"
    path.write_text(json.dumps({"samples": rows}), encoding="utf-8")
    return path


def test_timeline_cpu_percent_from_the_counter_between_samples(tmp_path: Path) -> None:
    rows = [[0.0, 10 * MIB, 0], [0.1, 20 * MIB, 50_000], [0.3, 30 * MIB, 250_000]]
    samples = timeline_from_file(_timeline(tmp_path, rows))
    assert [s.t_s for s in samples] == [0.0, 0.1, 0.3]
    assert [s.memory_mb for s in samples] == [10.0, 20.0, 30.0]
    assert [s.cpu_percent for s in samples] == [None, 50.0, 100.0]


def test_timeline_without_a_cpu_counter(tmp_path: Path) -> None:
    samples = timeline_from_file(_timeline(tmp_path, [[0.0, MIB, None], [0.1, MIB, None]]))
    assert [s.cpu_percent for s in samples] == [None, None]


@pytest.mark.parametrize("text", ["", "[]", '{"samples": [[1, 2]]}', '{"samples": [["x", 1, 1]]}'])
def test_a_bad_timeline_is_no_timeline(tmp_path: Path, text: str) -> None:
    path = tmp_path / "timeline.json"
    path.write_text(text, encoding="utf-8")
    assert timeline_from_file(path) == []
    assert timeline_from_file(tmp_path / "absent.json") == []


def test_the_supervisors_timeline_replaces_the_streams(tmp_path: Path) -> None:
    report = tmp_path / "supervisor.json"
    report.write_text(json.dumps(REPORT), encoding="utf-8")
    rows = [[0.0, 100 * MIB, 0], [0.1, 300 * MIB, 100_000], [0.2, 200 * MIB, 150_000]]
    monitor = _monitor([_sample(1, 64)])
    usage = usage_from_report(report, monitor, timeline_file=_timeline(tmp_path, rows))
    assert usage is not None
    assert [s.memory_mb for s in usage.timeline] == [100.0, 300.0, 200.0]
    assert usage.max_cpu_percent == 100.0


def test_the_streams_timeline_when_the_supervisor_wrote_none(tmp_path: Path) -> None:
    report = tmp_path / "supervisor.json"
    report.write_text(json.dumps(REPORT), encoding="utf-8")
    monitor = _monitor([_sample(1, 64)])
    usage = usage_from_report(report, monitor, timeline_file=tmp_path / "absent.json")
    assert usage is not None
    assert [s.memory_mb for s in usage.timeline] == [64.0]
