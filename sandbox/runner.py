"""Test one script: resolve its spec, prepare inputs, run it as production would, judge.

A run is a visible sequence of small steps; a script that fails is a result (FAIL,
TIMEOUT, OOM), and only infrastructure problems raise :class:`~sandbox.errors.SandboxError`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sandbox import containerize
from sandbox.checks import check_outputs
from sandbox.datagen import DataSize
from sandbox.engine import Engine
from sandbox.errors import RunCancelled, UsageError
from sandbox.execute import ContainerOutcome, run_container
from sandbox.images import ResolvedImage, ensure_image
from sandbox.inference import JobKind
from sandbox.inputs import bind_inputs
from sandbox.layout import InputBinding, JobLayout, nested_mountpoints, processing_layout
from sandbox.limits import applied_limits
from sandbox.monitor import usage_from_report
from sandbox.resolve import Overrides, ResolvedScript, find_script, resolve_script
from sandbox.results import (
    STDERR_TAIL_LINES,
    AppliedLimits,
    ExecutionResult,
    OutputFile,
    Status,
    TestResult,
)
from sandbox.s3source import S3_CACHE_DIR, S3Cache
from sandbox.spec import ScriptSpec
from sandbox.training import pack_artifacts, training_layout
from sandbox.verdict import judge
from sandbox.workspace import RunFolder, Workspace, write_json_atomic, write_text_atomic

__all__ = ["DEFAULT_IMAGE", "RunRequest", "run_script"]

logger = logging.getLogger(__name__)

DEFAULT_IMAGE = "sklearn-1.2"
"""The offline profile: it builds with no registry."""


@dataclass(frozen=True)
class RunRequest:
    """One ``sandbox test-script`` call, as plain data."""

    script: str
    scripts_dir: Path = Path("scripts")
    spec_path: Path | None = None
    overrides: Overrides = field(default_factory=Overrides)
    data_source: Path | str | None = None
    """A folder, or an ``s3://`` URI, holding one folder (sub-prefix) per input channel."""
    inputs: Mapping[str, Path | str] = field(default_factory=dict)
    """Channel -> folder or ``s3://`` URI."""
    data_size: DataSize = DataSize.SMALL
    workspace: Path = Path(".sandbox")
    as_root: bool = False
    memory: str | None = None
    cpus: float | None = None
    source_dir: Path | None = None
    run_as: tuple[int, int] | None = None
    on_progress: Callable[[str], None] | None = None
    on_output: Callable[[bytes], None] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels on the run's container, e.g. the batch or pipeline it belongs to."""
    cancel: threading.Event | None = None
    """Set by an interrupted controller: a run whose container has not started yet
    raises :class:`~sandbox.errors.RunCancelled` instead of starting it."""


def run_script(request: RunRequest, engine: Engine | None = None) -> TestResult:
    """Run one script in a production-shaped container and return the verdict.

    Raises:
        SandboxError: bad input (unknown script, invalid spec, missing variable) or an
            infrastructure problem (no engine, image cannot be had).
    """
    notify = request.on_progress or (lambda _message: None)
    script_path = find_script(request.script, request.scripts_dir)
    resolved = resolve_script(script_path, request.spec_path, request.overrides)
    engine = engine or Engine.connect()
    spec = resolved.spec
    notify(f"image {spec.image or DEFAULT_IMAGE}")
    image = ensure_image(engine, spec.image or DEFAULT_IMAGE, on_line=logger.debug)
    workspace = Workspace(request.workspace).ensure()
    run = workspace.new_run(script_path.stem)
    notify(f"inputs for {script_path.stem}")
    plan = bind_inputs(
        spec,
        resolved.contract,
        data_source=request.data_source,
        explicit=request.inputs,
        cache_root=workspace.data_cache,
        size=request.data_size,
        s3=S3Cache(workspace.root / S3_CACHE_DIR),
    )
    limits = applied_limits(engine, spec, memory=request.memory, cpus=request.cpus)
    layout = _job_layout(resolved, request, plan.bindings, run, image, limits, engine)
    owner = request.run_as or invoking_user()
    _prepare_run_folder(run, resolved, layout, owner)
    container = containerize.build_request(
        resolved, layout, run, image, limits, owner=owner, as_root=request.as_root
    )
    container = dataclasses.replace(container, labels={**request.labels, **container.labels})
    if request.cancel is not None and request.cancel.is_set():
        raise RunCancelled(script_path.stem)
    notify(f"running {script_path.stem}")
    outcome = run_container(
        engine, container, max_runtime_s=limits.max_runtime_s, on_output=request.on_output
    )
    result = _result(resolved, run, image, layout, limits, outcome, container.entrypoint or [])
    result = _apply_output_checks(result, spec, layout)
    artifacts = []
    if result.is_successful() and spec.kind is JobKind.TRAINING:
        artifacts = pack_artifacts(layout.outputs, run.root)
    result = result.model_copy(
        update={
            "inputs": {b.channel: b.source for b in plan.bindings},
            "findings": [*result.findings, *_ignored(plan.ignored_folders)],
            "artifacts": artifacts,
            "error_message": _with_import_hint(result, resolved, request.source_dir),
        }
    )
    write_json_atomic(run.result_file, result.to_json_dict())
    return result


def _job_layout(
    resolved: ResolvedScript,
    request: RunRequest,
    bindings: list[InputBinding],
    run: RunFolder,
    image: ResolvedImage,
    limits: AppliedLimits,
    engine: Engine,
) -> JobLayout:
    source_dir = _checked_source_dir(resolved.script_path, request.source_dir)
    as_module = source_dir is not None and bool(resolved.contract.relative_imports)
    if resolved.spec.kind is JobKind.TRAINING:
        num_cpus = int(limits.cpus or engine.host_resources()[0] or 1)
        return training_layout(
            resolved.spec,
            resolved.script_path,
            bindings,
            run,
            num_cpus=max(num_cpus, 1),
            source_dir=source_dir,
            run_as_module=as_module,
        )
    return processing_layout(
        resolved.spec,
        resolved.script_path,
        bindings,
        run,
        image=image.reference,
        job_name=_job_name(run),
        source_dir=source_dir,
        run_as_module=as_module,
    )


def _checked_source_dir(script_path: Path, source_dir: Path | None) -> Path | None:
    if source_dir is None:
        return None
    if not script_path.resolve().is_relative_to(source_dir.resolve()):
        raise UsageError(f"--source-dir {source_dir}: script {script_path} is not inside it")
    return source_dir.resolve()


def _job_name(run: RunFolder) -> str:
    return f"sandbox-{run.run_id}"[:63]


def invoking_user() -> tuple[int, int]:
    """The user who asked for the run: under ``sudo``, the user behind it."""
    if os.getuid() == 0 and "SUDO_UID" in os.environ:
        return int(os.environ["SUDO_UID"]), int(os.environ.get("SUDO_GID", os.environ["SUDO_UID"]))
    return os.getuid(), os.getgid()


def _prepare_run_folder(
    run: RunFolder, resolved: ResolvedScript, layout: JobLayout, owner: tuple[int, int]
) -> None:
    for name, payload in layout.config_files.items():
        write_json_atomic(run.config / name, payload)
    writable = [*layout.outputs.values(), *nested_mountpoints(layout.mounts)]
    for folder in writable:
        folder.mkdir(parents=True, exist_ok=True)
    # JSON is YAML too: `--spec runs/<run-id>/spec.json` runs exactly this spec again.
    write_json_atomic(run.root / "spec.json", resolved.spec.model_dump(mode="json"))
    if (os.getuid(), os.getgid()) != owner:
        # Only root gets here (under sudo, or tests that run as another user): the
        # folders the container writes must belong to the user it runs as.
        for folder in [*writable, run.ml_output, run.supervisor]:
            os.chown(folder, *owner)


def _apply_output_checks(result: TestResult, spec: ScriptSpec, layout: JobLayout) -> TestResult:
    """A passing run whose outputs miss what the spec expects is a FAIL naming the file."""
    checks = {name: ch.expect for name, ch in spec.outputs.items() if ch.expect is not None}
    if not result.is_successful() or not checks:
        return result
    folders = {name: layout.outputs[name] for name in checks if name in layout.outputs}
    problems = check_outputs({n: checks[n] for n in folders}, folders, spec.environment)
    if not problems:
        return result
    return result.model_copy(
        update={
            "status": Status.FAIL,
            "error_message": "; ".join(problems),
            "findings": [*result.findings, *problems],
        }
    )


def _with_import_hint(
    result: TestResult, resolved: ResolvedScript, source_dir: Path | None
) -> str | None:
    imports = resolved.contract.relative_imports
    if result.is_successful() or not imports or source_dir is not None:
        return result.error_message
    hint = (
        f"the script uses package-relative imports ({', '.join(imports)}) and cannot run "
        "as a lone file; pass --source-dir with the root of its package"
    )
    return f"{hint}. {result.error_message}" if result.error_message else hint


def _ignored(folders: list[str]) -> list[str]:
    if not folders:
        return []
    return [f"data source folders that match no channel were ignored: {', '.join(folders)}"]


def _result(
    resolved: ResolvedScript,
    run: RunFolder,
    image: ResolvedImage,
    layout: JobLayout,
    limits: AppliedLimits,
    outcome: ContainerOutcome,
    command: list[str],
) -> TestResult:
    execution = _execution(run, image, layout, outcome)
    outputs = collect_outputs(layout.outputs)
    verdict = judge(execution, limits, outputs, engine_error=outcome.error)
    write_text_atomic(run.root / "stdout.log", outcome.stdout)
    write_text_atomic(run.root / "stderr.log", outcome.stderr)
    usage = execution.resources
    peak = usage.peak_memory_mb if usage else None
    return TestResult(
        run_id=run.run_id,
        script_name=resolved.script_path.stem,
        script_path=str(resolved.script_path),
        kind=resolved.spec.kind.value,
        kind_reason=resolved.contract.kind_reason,
        call_style=resolved.spec.call_style.value,
        status=verdict.status,
        execution_time=round(outcome.wall_time_s, 3),
        memory_usage=peak,
        peak_memory_mb=peak,
        peak_rss_mb=usage.peak_rss_mb if usage else None,
        cpu_user_s=usage.cpu_user_s if usage else None,
        cpu_system_s=usage.cpu_system_s if usage else None,
        wall_time_s=usage.wall_time_s
        if usage and usage.wall_time_s
        else round(outcome.wall_time_s, 3),
        max_cpu_percent=usage.max_cpu_percent if usage else None,
        timeline=usage.timeline if usage else [],
        error_message=verdict.error_message,
        recommendations=verdict.recommendations,
        exit_code=outcome.exit_code,
        image=image.reference,
        image_id=image.image_id,
        outputs=outputs,
        stderr_tail=execution.stderr_tail,
        exit_message=execution.exit_message,
        limits=limits,
        findings=[*resolved.findings, *_symlink_findings(layout.outputs)],
        spec=resolved.spec.model_dump(mode="json"),
        run_dir=str(run.root),
        execution=execution,
    )


def _execution(
    run: RunFolder, image: ResolvedImage, layout: JobLayout, outcome: ContainerOutcome
) -> ExecutionResult:
    message, valid = _read_message(run.ml_output / "message")
    failure, _ = _read_message(run.ml_output / "failure")
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
        stderr_tail=_tail(outcome.stderr),
        stdout_tail=_tail(outcome.stdout),
        exit_message=message,
        exit_message_valid=valid,
        failure_reason=failure,
        main_sys_exit_code=containerize.main_exit_code(run),
        resources=usage_from_report(containerize.report_file(run), outcome.monitor),
    )


def _read_message(path: Path) -> tuple[str | None, bool]:
    """First 1 KB of an exit message file; ``(None, True)`` when there is none."""
    try:
        raw = path.read_bytes()[:1024]
    except OSError:
        return None, True
    try:
        return raw.decode("utf-8").strip() or None, True
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace").strip(), False


def _tail(text: str) -> list[str]:
    return text.splitlines()[-STDERR_TAIL_LINES:]


def collect_outputs(outputs: dict[str, Path]) -> dict[str, list[OutputFile]]:
    """Every regular file under each output folder (symlinks are not uploaded)."""
    collected: dict[str, list[OutputFile]] = {}
    for channel, folder in outputs.items():
        files = [
            OutputFile(
                channel=channel,
                path=path.relative_to(folder).as_posix(),
                size_bytes=path.stat().st_size,
            )
            for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.is_symlink()
        ]
        collected[channel] = files
    return collected


def _symlink_findings(outputs: dict[str, Path]) -> list[str]:
    links = [
        f"{channel}/{path.relative_to(folder).as_posix()}"
        for channel, folder in outputs.items()
        for path in sorted(folder.rglob("*"))
        if path.is_symlink()
    ]
    if not links:
        return []
    return [f"symlinks in outputs are not uploaded in production: {', '.join(links)}"]


__all__ += ["collect_outputs"]
