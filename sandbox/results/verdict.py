"""Turn what the container did into a status, a reason and recommendations."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sandbox.results.models import AppliedLimits, ExecutionResult, OutputFile, Status

__all__ = ["ENGINE_STOPPED", "Verdict", "judge", "last_error_line"]

_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*)?(?:Error|Exception|Exit|Interrupt)\b.*")
_MAX_SIGNAL = 64
_MEMORY_NEAR_LIMIT = 0.8
_SIGKILL_EXIT = 137
ENGINE_STOPPED = "the engine stopped the container"
_TOO_FEW_ROWS = re.compile(
    r"\b(too (few|small)|not enough|insufficient|fewer than|less than|at least|minimum|"
    r"only \d+)\b[^\n]{0,40}?\b(rows?|samples?|records?|observations|data points?|examples?)\b"
    r"|\bn_samples=\d+",
    re.IGNORECASE,
)
MORE_ROWS_ADVICE = (
    "the script wanted more rows than the generated data holds: run with --data-size medium "
    "(100k rows) or large (1M)"
)


@dataclass(frozen=True)
class Verdict:
    status: Status
    error_message: str | None
    recommendations: list[str]


def judge(
    execution: ExecutionResult,
    limits: AppliedLimits,
    outputs: dict[str, list[OutputFile]],
    *,
    engine_error: str | None = None,
) -> Verdict:
    """Decide the status of one run and explain it."""
    status, message = _status(execution, limits, engine_error)
    return Verdict(status, message, _recommendations(execution, limits, outputs, status))


def _status(
    execution: ExecutionResult, limits: AppliedLimits, engine_error: str | None
) -> tuple[Status, str | None]:
    if execution.signals_received and not execution.timed_out:
        # Not our SIGTERM (that one is a timeout): the job did not end by itself.
        return Status.ERROR, (
            f"{ENGINE_STOPPED} (signal {execution.signals_received[0]} from outside the run: "
            "the Docker engine stopped or restarted, or docker stop)"
        )
    if engine_error is not None:
        return Status.ERROR, engine_error
    abandoned = execution.resources.abandoned_after_s if execution.resources else None
    if abandoned is not None:
        return Status.ERROR, (
            f"stopped by the supervisor: the controller's heartbeat was silent for "
            f"{abandoned:.0f} s (the controller was stopped, or lost the engine)"
        )
    if execution.timed_out:
        return Status.TIMEOUT, (
            f"stopped after the maximum runtime of {limits.max_runtime_s} s "
            "(SIGTERM, then SIGKILL); outputs written so far are kept"
        )
    if _is_oom(execution):
        return Status.OOM, _oom_message(execution, limits)
    if execution.exit_code != 0:
        pids_limit = _pids_limit_hit(execution, limits)
        if pids_limit is not None:
            return Status.FAIL, (
                f"the script hit the process limit ({pids_limit} pids): "
                f"{_failure_message(execution)}"
            )
        return Status.FAIL, _failure_message(execution)
    if not execution.exit_message_valid:
        return Status.FAIL, "/opt/ml/output/message is not valid UTF-8 (production fails the job)"
    return Status.PASS, None


def _pids_limit_hit(execution: ExecutionResult, limits: AppliedLimits) -> int | None:
    """The pids limit when it refused a fork during the run, else ``None``."""
    hits = execution.resources.pids_limit_hits if execution.resources else None
    return limits.pids_limit if hits and limits.pids_limit else None


def _is_oom(execution: ExecutionResult) -> bool:
    kills = execution.resources.oom_kill_count if execution.resources else None
    return execution.exit_code == _SIGKILL_EXIT and (execution.oom_killed or bool(kills))


def _oom_message(execution: ExecutionResult, limits: AppliedLimits) -> str:
    limit = f"the {limits.memory_mb:.0f} MiB memory limit" if limits.memory_mb else "the memory"
    if limits.instance_type:
        limit += f" of {limits.instance_type}"
    peak = execution.resources.peak_memory_mb if execution.resources else None
    before = f" (peak before the kill: {peak:.0f} MiB)" if peak else ""
    return f"killed: exceeded {limit}{before}"


def _failure_message(execution: ExecutionResult) -> str:
    code = execution.exit_code
    if execution.main_sys_exit_code is not None:
        head = f"main() called sys.exit({execution.main_sys_exit_code})"
    elif code is not None and 128 < code <= 128 + _MAX_SIGNAL:
        head = f"exit code {code} (killed by signal {code - 128})"
    else:
        head = f"exit code {code}"
    detail = (
        execution.failure_reason
        or execution.exit_message
        # Scripts whose logger writes to stdout leave their traceback there.
        or exception_line(execution.stderr_tail)
        or exception_line(execution.stdout_tail)
        or last_error_line(execution.stderr_tail)
    )
    return f"{head}: {detail}" if detail else head


def exception_line(lines: list[str]) -> str | None:
    """The last line that looks like ``SomeError: message``."""
    for line in reversed(lines):
        if _EXCEPTION_LINE.match(line.strip()):
            return line.strip()
    return None


def last_error_line(lines: list[str]) -> str | None:
    """The last line that looks like ``SomeError: message``, else the last non-blank line."""
    found = exception_line(lines)
    if found is not None:
        return found
    stripped = [line.strip() for line in lines if line.strip()]
    return stripped[-1] if stripped else None


def _recommendations(
    execution: ExecutionResult,
    limits: AppliedLimits,
    outputs: dict[str, list[OutputFile]],
    status: Status,
) -> list[str]:
    advice: list[str] = []
    usage = execution.resources
    if status is Status.OOM:
        advice.append("use an instance type with more memory, or process the data in chunks")
    if usage and usage.peak_memory_mb and limits.memory_mb and status is not Status.OOM:
        share = usage.peak_memory_mb / limits.memory_mb
        if share >= _MEMORY_NEAR_LIMIT:
            advice.append(
                f"peak memory is {share:.0%} of the {limits.memory_mb:.0f} MiB limit: "
                "larger production data may not fit"
            )
    if usage and _single_core_bound(usage.cpu_user_s, usage.wall_time_s, limits.cpus):
        advice.append(
            f"CPU-bound on one core while {limits.cpus:g} are available: "
            "consider n_jobs=-1 or multiprocessing"
        )
    if status is Status.PASS and not any(outputs.values()):
        advice.append("the script wrote no output files: production would upload nothing")
    if status is Status.TIMEOUT:
        advice.append("raise MaxRuntimeInSeconds or make the script faster")
    pids_limit = _pids_limit_hit(execution, limits)
    if pids_limit is not None and status is not Status.PASS:
        advice.append(
            f"the script tried to run more than {pids_limit} processes and threads at once: "
            "bound its workers (n_jobs, Pool(processes=...)), or raise --pids-limit"
        )
    if status is Status.FAIL and any(_TOO_FEW_ROWS.search(line) for line in execution.stderr_tail):
        advice.append(MORE_ROWS_ADVICE)
    return advice


def _single_core_bound(cpu_user_s: float | None, wall_s: float | None, cpus: float | None) -> bool:
    if not cpu_user_s or not wall_s or not cpus or cpus < 2 or wall_s < 1.0:
        return False
    return 0.85 <= cpu_user_s / wall_s <= 1.15
