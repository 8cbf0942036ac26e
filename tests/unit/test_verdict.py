"""The verdict (sandbox.results.verdict): status, reason and recommendations of one run."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from sandbox.results.models import AppliedLimits, ExecutionResult, OutputFile, ResourceUsage, Status
from sandbox.results.verdict import judge, last_error_line

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
ONE_OUTPUT = {"train": [OutputFile(channel="train", path="part.csv", size_bytes=10)]}
TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "/opt/ml/processing/input/code/tabular.py", line 9, in <module>',
    "    raise KeyError('label')",
    "KeyError: 'label'",
]


def _execution(exit_code: int | None = 0, **fields: Any) -> ExecutionResult:
    return ExecutionResult(
        exit_code=exit_code,
        started_at=T0,
        finished_at=T0,
        wall_time_s=1.0,
        image="img",
        image_id="sha256:1",
        command=["python3", "x.py"],
        **fields,
    )


def _limits(**fields: Any) -> AppliedLimits:
    return AppliedLimits(**{"cpus": 2.0, "memory_mb": 4096.0, **fields})


# Status ---------------------------------------------------------------------------


def test_exit_0_with_outputs_is_pass_without_advice() -> None:
    verdict = judge(_execution(0), _limits(), ONE_OUTPUT)
    assert verdict.status is Status.PASS
    assert verdict.error_message is None
    assert verdict.recommendations == []


def test_failure_names_the_last_exception_line() -> None:
    tail = [*TRACEBACK[:-1], "ValueError: first", "during cleanup", *TRACEBACK]
    verdict = judge(_execution(1, stderr_tail=tail), _limits(), ONE_OUTPUT)
    assert verdict.status is Status.FAIL
    assert verdict.error_message == "exit code 1: KeyError: 'label'"


def test_failure_prefers_the_failure_file_then_the_exit_message() -> None:
    execution = _execution(1, stderr_tail=TRACEBACK, failure_reason="bad label column")
    assert judge(execution, _limits(), {}).error_message == "exit code 1: bad label column"
    execution = _execution(2, stderr_tail=TRACEBACK, exit_message="no rows")
    assert judge(execution, _limits(), {}).error_message == "exit code 2: no rows"


def test_failure_without_any_output_is_just_the_exit_code() -> None:
    assert judge(_execution(4), _limits(), {}).error_message == "exit code 4"


def test_main_sys_exit_is_named() -> None:
    execution = _execution(3, main_sys_exit_code=3, stderr_tail=["stopping early"])
    verdict = judge(execution, _limits(), {})
    assert verdict.status is Status.FAIL
    assert verdict.error_message == "main() called sys.exit(3): stopping early"


def test_killed_by_signal_is_named() -> None:
    verdict = judge(_execution(143), _limits(), {})
    assert verdict.status is Status.FAIL
    assert verdict.error_message is not None
    assert verdict.error_message.startswith("exit code 143 (killed by signal 15)")


def test_exit_255_is_not_called_a_signal() -> None:
    # sys.exit(-1) gives 255; signals only go up to 64, so 128 + N stops at 192.
    message = judge(_execution(255), _limits(), {}).error_message
    assert message is not None
    assert "signal" not in message


def test_oom_killed_names_limit_instance_and_peak() -> None:
    usage = ResourceUsage(source="supervisor", peak_memory_mb=4090.4)
    execution = _execution(137, oom_killed=True, resources=usage)
    verdict = judge(execution, _limits(instance_type="ml.t3.medium"), {})
    assert verdict.status is Status.OOM
    assert verdict.error_message == (
        "killed: exceeded the 4096 MiB memory limit of ml.t3.medium "
        "(peak before the kill: 4090 MiB)"
    )
    assert any("more memory" in advice for advice in verdict.recommendations)


def test_oom_from_the_supervisors_kill_count() -> None:
    usage = ResourceUsage(source="supervisor", peak_memory_mb=500.0, oom_kill_count=1)
    execution = _execution(137, oom_killed=False, resources=usage)
    verdict = judge(execution, _limits(memory_mb=512.0), {})
    assert verdict.status is Status.OOM
    assert verdict.error_message == (
        "killed: exceeded the 512 MiB memory limit (peak before the kill: 500 MiB)"
    )


def test_plain_137_without_oom_is_fail() -> None:
    usage = ResourceUsage(source="supervisor", peak_memory_mb=100.0, oom_kill_count=0)
    verdict = judge(_execution(137, resources=usage), _limits(), {})
    assert verdict.status is Status.FAIL
    assert verdict.error_message == "exit code 137 (killed by signal 9)"


def test_oom_flag_with_another_exit_code_is_not_oom() -> None:
    verdict = judge(_execution(1, oom_killed=True), _limits(), {})
    assert verdict.status is Status.FAIL


def test_timeout_wins_over_the_exit_code() -> None:
    verdict = judge(_execution(137, timed_out=True), _limits(max_runtime_s=60), ONE_OUTPUT)
    assert verdict.status is Status.TIMEOUT
    assert verdict.error_message is not None
    assert "maximum runtime of 60 s" in verdict.error_message
    assert any("MaxRuntimeInSeconds" in advice for advice in verdict.recommendations)


def test_invalid_utf8_exit_message_fails_a_zero_exit() -> None:
    verdict = judge(_execution(0, exit_message_valid=False), _limits(), ONE_OUTPUT)
    assert verdict.status is Status.FAIL
    assert verdict.error_message is not None
    assert "not valid UTF-8" in verdict.error_message


def test_engine_error_is_error_and_wins_over_everything() -> None:
    execution = _execution(None, timed_out=True)
    verdict = judge(execution, _limits(), {}, engine_error="the Docker engine stopped answering")
    assert verdict.status is Status.ERROR
    assert verdict.error_message == "the Docker engine stopped answering"


# last_error_line ------------------------------------------------------------------


def test_last_error_line_falls_back_to_the_last_non_blank_line() -> None:
    assert last_error_line(["starting", "disk full, giving up", "   ", ""]) == (
        "disk full, giving up"
    )
    assert last_error_line([]) is None
    assert last_error_line(["", "  "]) is None


@pytest.mark.parametrize(
    "line",
    ["pandas.errors.ParserError: bad", "KeyboardInterrupt", "SystemExit: 2", "Exception: boom"],
)
def test_last_error_line_recognises_exception_lines(line: str) -> None:
    assert last_error_line(["Traceback (most recent call last):", line, "log after"]) == line


# Recommendations ------------------------------------------------------------------


def test_memory_near_the_limit_is_recommended() -> None:
    usage = ResourceUsage(source="supervisor", peak_memory_mb=3500.0)
    verdict = judge(_execution(0, resources=usage), _limits(), ONE_OUTPUT)
    assert verdict.status is Status.PASS
    assert len(verdict.recommendations) == 1
    assert "85% of the 4096 MiB limit" in verdict.recommendations[0]


def test_memory_well_below_the_limit_is_not_mentioned() -> None:
    usage = ResourceUsage(source="supervisor", peak_memory_mb=1000.0)
    assert judge(_execution(0, resources=usage), _limits(), ONE_OUTPUT).recommendations == []


def test_single_core_bound_with_two_cpus_is_recommended() -> None:
    usage = ResourceUsage(
        source="supervisor", peak_memory_mb=None, cpu_user_s=9.8, wall_time_s=10.0
    )
    verdict = judge(_execution(0, resources=usage), _limits(cpus=2.0), ONE_OUTPUT)
    assert len(verdict.recommendations) == 1
    assert "one core while 2 are available" in verdict.recommendations[0]


@pytest.mark.parametrize(
    ("cpus", "cpu_user_s", "wall_s"),
    [(1.0, 9.8, 10.0), (2.0, 19.0, 10.0), (2.0, 2.0, 10.0), (4.0, 0.5, 0.5)],
    ids=["one-cpu", "uses-two-cores", "mostly-idle", "too-short"],
)
def test_single_core_advice_only_when_it_applies(
    cpus: float, cpu_user_s: float, wall_s: float
) -> None:
    usage = ResourceUsage(
        source="supervisor", peak_memory_mb=None, cpu_user_s=cpu_user_s, wall_time_s=wall_s
    )
    verdict = judge(_execution(0, resources=usage), _limits(cpus=cpus), ONE_OUTPUT)
    assert not any("one core" in advice for advice in verdict.recommendations)


def test_pass_without_outputs_is_recommended() -> None:
    empty: dict[str, list[OutputFile]] = {"train": []}
    verdict = judge(_execution(0), _limits(), empty)
    assert verdict.status is Status.PASS
    assert verdict.recommendations == [
        "the script wrote no output files: production would upload nothing"
    ]


def test_no_outputs_advice_only_on_pass() -> None:
    verdict = judge(_execution(1), _limits(), {"train": []})
    assert not any("no output files" in advice for advice in verdict.recommendations)


def test_a_job_the_supervisor_stopped_for_lack_of_heartbeat_is_an_error() -> None:
    from datetime import datetime, timezone

    from sandbox.results.models import AppliedLimits, ExecutionResult, ResourceUsage
    from sandbox.results.verdict import judge

    now = datetime.now(timezone.utc)
    execution = ExecutionResult(
        exit_code=143,
        started_at=now,
        finished_at=now,
        wall_time_s=70.0,
        image="img",
        image_id="sha256:x",
        command=["python3", "x.py"],
        resources=ResourceUsage(source="supervisor", abandoned_after_s=61.2),
    )
    verdict = judge(execution, AppliedLimits(), {})
    assert verdict.status.value == "ERROR"
    assert "heartbeat was silent for 61 s" in (verdict.error_message or "")


# The pids limit -------------------------------------------------------------------


def test_a_fork_refused_by_the_pids_limit_names_the_limit() -> None:
    usage = ResourceUsage(source="supervisor", pids_limit_hits=3, peak_pids=64)
    execution = _execution(1, resources=usage, stderr_tail=["BlockingIOError: [Errno 11]"])
    verdict = judge(execution, _limits(pids_limit=64), ONE_OUTPUT)
    assert verdict.status is Status.FAIL
    assert verdict.error_message == (
        "the script hit the process limit (64 pids): exit code 1: BlockingIOError: [Errno 11]"
    )
    assert any("--pids-limit" in advice for advice in verdict.recommendations)


def test_a_failure_without_refused_forks_does_not_blame_the_pids_limit() -> None:
    usage = ResourceUsage(source="supervisor", pids_limit_hits=0, peak_pids=5)
    verdict = judge(_execution(1, resources=usage), _limits(pids_limit=64), ONE_OUTPUT)
    assert verdict.error_message == "exit code 1"
    assert verdict.recommendations == []


@pytest.mark.parametrize(
    "line",
    [
        "ValueError: Too few rows (12) for a stratified split",
        "RuntimeError: need at least 5000 samples per class, got 300",
        "ValueError: n_samples=3 should be >= n_splits=5.",
    ],
)
def test_a_failure_about_too_few_rows_recommends_a_larger_data_size(line: str) -> None:
    verdict = judge(_execution(1, stderr_tail=[*TRACEBACK[:3], line]), _limits(), {})
    assert verdict.status is Status.FAIL
    assert any("--data-size medium" in advice for advice in verdict.recommendations)


def test_other_failures_do_not_recommend_a_larger_data_size() -> None:
    verdict = judge(_execution(1, stderr_tail=TRACEBACK), _limits(), {})
    assert not any("--data-size" in advice for advice in verdict.recommendations)


@pytest.mark.parametrize("exit_code", [143, 137, 0])
def test_a_job_stopped_from_outside_is_an_error_whatever_its_exit_code(exit_code: int) -> None:
    verdict = judge(_execution(exit_code, signals_received=[15]), _limits(), ONE_OUTPUT)
    assert verdict.status is Status.ERROR
    assert (verdict.error_message or "").startswith("the engine stopped the container")


def test_our_own_sigterm_at_the_maximum_runtime_stays_a_timeout() -> None:
    execution = _execution(143, signals_received=[15], timed_out=True)
    assert judge(execution, _limits(max_runtime_s=5), {}).status is Status.TIMEOUT


def test_a_traceback_logged_to_stdout_names_the_failure_over_stderrs_last_log_line() -> None:
    execution = _execution(
        1,
        stderr_tail=["INFO:__main__:installing packages", "INFO:__main__:=========="],
        stdout_tail=[
            "Traceback (most recent call last):",
            '  File "x.py", line 3, in <module>',
            "RuntimeError: No processed data file found in /opt/ml/processing/input/train",
        ],
    )
    verdict = judge(execution, _limits(), {})
    assert verdict.error_message == (
        "exit code 1: RuntimeError: No processed data file found in /opt/ml/processing/input/train"
    )


def test_an_exception_on_stderr_wins_over_one_on_stdout() -> None:
    execution = _execution(1, stderr_tail=["ValueError: bad label"], stdout_tail=["KeyError: 'x'"])
    assert judge(execution, _limits(), {}).error_message == "exit code 1: ValueError: bad label"
