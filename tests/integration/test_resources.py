"""Exact resource figures, limits, OOM, timeout and exit messages on the real engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.contract.resolve import Overrides
from sandbox.report.html import render_html
from sandbox.results.models import Status, TestResult
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")

MIB = 1024 * 1024


def run(engine: Any, tmp_path: Path, script: str, **kwargs: Any) -> TestResult:
    request = RunRequest(
        script=str(Path(__file__).parent / "scripts" / f"{script}.py"),
        workspace=tmp_path / "ws",
        **kwargs,
    )
    return run_script(request, engine)


def test_short_spike_is_measured_exactly_where_the_stats_stream_sees_nothing(
    engine: Any, tmp_path: Path
) -> None:
    run(engine, tmp_path, "memory_spike")  # warm: numpy's files land in the page cache
    result = run(engine, tmp_path, "memory_spike")
    assert result.status is Status.PASS, result.stderr_tail
    assert result.peak_memory_mb is not None
    # 400 MiB of ones plus the interpreter and numpy: within 5% of the true peak.
    assert 400 <= result.peak_memory_mb <= 400 * 1.05 + 40
    assert result.peak_rss_mb is not None and result.peak_rss_mb >= 400
    assert result.memory_usage == result.peak_memory_mb


def test_peak_counts_two_workers_holding_memory_at_once(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "two_workers")
    assert result.status is Status.PASS, result.stderr_tail
    assert result.peak_memory_mb is not None and result.peak_memory_mb >= 400
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 400


def test_written_file_is_page_cache_not_rss(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "write_file")
    assert result.status is Status.PASS, result.stderr_tail
    usage = result.execution.resources if result.execution else None
    assert usage is not None and usage.page_cache_mb is not None
    assert usage.page_cache_mb >= 150
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 100
    assert result.peak_memory_mb is not None and result.peak_memory_mb >= 150


def test_busy_loop_under_half_a_cpu_uses_about_half_a_core(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "busy_loop", cpus=0.5)
    assert result.status is Status.PASS, result.stderr_tail
    assert result.limits.cpus == 0.5
    assert result.cpu_user_s is not None and result.wall_time_s is not None
    share = (result.cpu_user_s + (result.cpu_system_s or 0)) / result.wall_time_s
    assert 0.35 <= share <= 0.65


def test_out_of_memory_is_reported_with_the_limit(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "hog", memory="128m")
    assert result.status is Status.OOM
    assert result.exit_code == 137
    assert "exceeded the 128 MiB memory limit" in (result.error_message or "")


def test_out_of_memory_names_the_instance_type(engine: Any, tmp_path: Path) -> None:
    result = run(
        engine, tmp_path, "hog", overrides=Overrides(instance_type="ml.t3.medium"), memory="150m"
    )
    assert result.status is Status.OOM
    assert "of ml.t3.medium" in (result.error_message or "")


def test_max_runtime_stops_the_script_and_keeps_partial_outputs(
    engine: Any, tmp_path: Path
) -> None:
    result = run(engine, tmp_path, "sleeper", overrides=Overrides(max_runtime_s=2))
    assert result.status is Status.TIMEOUT
    assert "maximum runtime of 2 s" in (result.error_message or "")
    assert [f.path for f in result.outputs["result"]] == ["partial.txt"]
    assert result.execution_time < 2 + 5 + 5


def test_sigterm_is_forwarded_to_the_script(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "graceful", overrides=Overrides(max_runtime_s=2))
    assert result.status is Status.TIMEOUT
    marker = Path(result.run_dir) / "outputs" / "result" / "sigterm.marker"
    assert marker.read_text() == "got SIGTERM\n"
    assert result.execution_time < 2 + 4


def test_exit_message_first_kilobyte_is_reported(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "exit_message")
    assert result.status is Status.FAIL
    assert result.exit_code == 2
    assert result.exit_message is not None
    assert result.exit_message.startswith("schema mismatch: column 'price' is missing")
    assert len(result.exit_message.encode()) <= 1024
    assert "schema mismatch" in (result.error_message or "")


def test_invalid_utf8_exit_message_fails_the_run(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "exit_message", overrides=Overrides(arguments={"invalid": ""}))
    assert result.exit_code == 0
    assert result.status is Status.FAIL
    assert "not valid UTF-8" in (result.error_message or "")


def test_instance_type_sets_limits_and_says_when_the_host_is_smaller(
    engine: Any, tmp_path: Path
) -> None:
    result = run(engine, tmp_path, "busy_loop", overrides=Overrides(instance_type="ml.m5.4xlarge"))
    assert result.status is Status.PASS
    cpus, _ = engine.host_resources()
    assert result.limits.instance_type == "ml.m5.4xlarge"
    assert result.limits.memory_mb == 64 * 1024
    assert result.limits.cpus == min(16, cpus)
    assert any("fewer than 16" in note for note in result.limits.notes)


def test_a_half_second_run_has_a_timeline_whose_figures_agree(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "half_second")
    assert result.status is Status.PASS, result.stderr_tail
    timeline = result.timeline
    assert len(timeline) >= 4, timeline  # sampled inside the container, ~10 a second
    assert [s.t_s for s in timeline] == sorted(s.t_s for s in timeline)
    assert any(s.cpu_percent and s.cpu_percent > 30 for s in timeline)
    assert result.peak_memory_mb is not None and result.peak_rss_mb is not None
    highest = max(s.memory_mb for s in timeline)
    # The timeline leaves inactive page cache out, the cgroup's peak does not.
    assert 100 <= highest <= result.peak_memory_mb
    assert result.peak_rss_mb >= 100
    page = render_html(result)
    assert 'id="no-timeline"' not in page and "<svg" in page


def test_a_gpu_instance_type_runs_on_cpu_with_a_finding(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "busy_loop", overrides=Overrides(instance_type="ml.p3.2xlarge"))
    assert result.status is Status.PASS, result.stderr_tail
    assert result.limits.instance_type == "ml.p3.2xlarge"
    assert result.limits.memory_mb == 61 * 1024
    assert "ml.p3.2xlarge has 1 V100 GPU; the sandbox gives none: the run used CPU only" in (
        result.findings
    )
