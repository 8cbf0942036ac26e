"""What a finished container leaves behind, turned into a :class:`TestResult`.

Reads the exit message, the failure reason, the supervisor's report, the logs and the
output folders; applies the spec's output checks; never touches Docker.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sandbox.constants import JobKind
from sandbox.container import containerize
from sandbox.container.execute import ContainerOutcome
from sandbox.container.images import ResolvedImage
from sandbox.container.layout import JobLayout
from sandbox.container.logs import CapturedLog
from sandbox.container.monitor import usage_from_report
from sandbox.contract.resolve import ResolvedScript
from sandbox.results.checks import check_outputs
from sandbox.results.models import (
    AppliedLimits,
    ExecutionResult,
    LogFile,
    OutputFile,
    Status,
    TestResult,
)
from sandbox.results.verdict import judge
from sandbox.results.workspace import RunFolder

__all__ = [
    "MESSAGE_LIMIT_BYTES",
    "apply_output_checks",
    "build_result",
    "collect_outputs",
    "read_message",
]

MESSAGE_LIMIT_BYTES = 1024
"""The platform keeps the first 1 KB of /opt/ml/output/message (or failure)."""


def build_result(
    resolved: ResolvedScript,
    run: RunFolder,
    image: ResolvedImage,
    layout: JobLayout,
    limits: AppliedLimits,
    outcome: ContainerOutcome,
) -> TestResult:
    """The verdict and every figure of one finished run (its logs are already saved)."""
    execution = _execution(resolved, run, image, layout, outcome)
    outputs = collect_outputs(layout.outputs)
    verdict = judge(execution, limits, outputs, engine_error=outcome.error)
    return TestResult(
        run_id=run.run_id,
        script_name=resolved.script_path.stem,
        script_path=str(resolved.script_path),
        kind=resolved.spec.kind.value,
        kind_reason=resolved.kind_reason,
        call_style=resolved.spec.call_style.value,
        status=verdict.status,
        error_message=verdict.error_message,
        recommendations=verdict.recommendations,
        image=image.reference,
        image_id=image.image_id,
        outputs=outputs,
        limits=limits,
        findings=[
            *resolved.findings,
            *_symlink_findings(layout.outputs),
            *_special_file_findings(run),
        ],
        spec=resolved.spec.model_dump(mode="json"),
        run_dir=str(run.root),
        execution=execution,
    )


def _execution(
    resolved: ResolvedScript,
    run: RunFolder,
    image: ResolvedImage,
    layout: JobLayout,
    outcome: ContainerOutcome,
) -> ExecutionResult:
    training = resolved.spec.kind is JobKind.TRAINING
    # The exit message and its UTF-8 rule are Processing's; the failure file, Training's.
    message, valid = read_message(run.ml_output / "message")
    failure = read_message(run.ml_output / "failure")[0] if training else None
    return ExecutionResult(
        exit_code=outcome.exit_code,
        oom_killed=bool(outcome.state and outcome.state.oom_killed),
        timed_out=outcome.timed_out,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        wall_time_s=round(outcome.wall_time_s, 3),
        image=image.reference,
        image_id=image.image_id,
        command=[*layout.entrypoint, *layout.arguments],
        stderr_tail=outcome.stderr.tail,
        stdout_tail=outcome.stdout.tail,
        stderr_log=_log_file(outcome.stderr),
        stdout_log=_log_file(outcome.stdout),
        exit_message=message,
        exit_message_valid=valid or training,
        failure_reason=failure,
        main_sys_exit_code=containerize.main_exit_code(run),
        signals_received=containerize.received_signals(run),
        resources=usage_from_report(
            containerize.report_file(run),
            outcome.monitor,
            timeline_file=containerize.timeline_file(run),
        ),
    )


def read_message(path: Path) -> tuple[str | None, bool]:
    """The first 1 KB of a message file and whether the whole file is valid UTF-8;
    ``(None, True)`` when there is none."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None, True
    try:
        raw.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    # Cut at 1 KB without splitting a character: a valid message stays valid.
    head = raw[:MESSAGE_LIMIT_BYTES].decode("utf-8", errors="ignore" if valid else "replace")
    return head.strip() or None, valid


def _log_file(log: CapturedLog) -> LogFile:
    """Where a captured stream was saved, how long it was, and whether its tail was cut."""
    return LogFile(
        path=None if log.path is None else str(log.path),
        size_bytes=log.size_bytes,
        tail_cut=log.tail_cut,
        complete=log.write_error is None,
    )


def collect_outputs(outputs: Mapping[str, Path]) -> dict[str, list[OutputFile]]:
    """Every regular file under each output folder (symlinks are not uploaded)."""
    collected: dict[str, list[OutputFile]] = {}
    for channel, folder in outputs.items():
        collected[channel] = [
            OutputFile(
                channel=channel,
                path=path.relative_to(folder).as_posix(),
                size_bytes=path.stat().st_size,
            )
            for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.is_symlink()
        ]
    return collected


def _symlink_findings(outputs: Mapping[str, Path]) -> list[str]:
    links = [
        f"{channel}/{path.relative_to(folder).as_posix()}"
        for channel, folder in outputs.items()
        for path in sorted(folder.rglob("*"))
        if path.is_symlink()
    ]
    if not links:
        return []
    return [f"symlinks in outputs are not uploaded in production: {', '.join(links)}"]


def _special_file_findings(run: RunFolder) -> list[str]:
    removed = containerize.removed_special_files(run)
    if not removed:
        return []
    return [
        "device nodes, FIFOs and sockets are never handed back; removed from the outputs: "
        + ", ".join(removed)
    ]


def apply_output_checks(
    result: TestResult, resolved: ResolvedScript, layout: JobLayout, env: Mapping[str, str]
) -> TestResult:
    """A passing run whose outputs miss what the spec expects is a FAIL naming the file."""
    spec = resolved.spec
    checks = {
        name: channel.expect
        for name, channel in spec.outputs.items()
        if channel.expect is not None and name in layout.outputs
    }
    if not result.is_successful() or not checks:
        return result
    report = check_outputs(checks, {n: layout.outputs[n] for n in checks}, env)
    findings = [*result.findings, *report.skipped]
    if not report.problems:
        return result.model_copy(update={"findings": findings})
    return result.model_copy(
        update={
            "status": Status.FAIL,
            "error_message": "; ".join(report.problems),
            "findings": [*findings, *report.problems],
        }
    )
