"""Test one script: resolve its spec, prepare inputs, run it as production would, judge.

A run is a visible sequence of small steps; a script that fails is a result (FAIL,
TIMEOUT, OOM), and only infrastructure problems raise :class:`~sandbox.errors.SandboxError`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox import containerize
from sandbox.collect import apply_output_checks, build_result, collect_outputs
from sandbox.datagen import DataSize
from sandbox.engine import Engine
from sandbox.errors import ExecutableNotFoundError, RunCancelled, SandboxError, UsageError
from sandbox.execute import ContainerOutcome, run_container
from sandbox.images import ResolvedImage, ensure_image
from sandbox.inference import JobKind
from sandbox.inputs import InputPlan, bind_inputs
from sandbox.layout import (
    DEFAULT_INSTANCE_TYPE,
    InputBinding,
    JobLayout,
    nested_mountpoints,
    processing_layout,
)
from sandbox.limits import applied_limits
from sandbox.ownership import chown_folders, hand_over, invoking_user
from sandbox.resolve import (
    Overrides,
    ResolvedScript,
    find_script,
    resolve_script,
    script_environment,
)
from sandbox.results import AppliedLimits, Status, TestResult
from sandbox.s3source import S3_CACHE_DIR, S3Cache
from sandbox.spec import CallStyle
from sandbox.storage import (
    SpaceReserve,
    disk_full_error,
    is_disk_full,
    save_result,
    with_write_failure,
)
from sandbox.training import pack_artifacts, training_layout
from sandbox.workspace import RunFolder, Workspace, write_json_atomic

__all__ = ["DEFAULT_IMAGE", "RunRequest", "collect_outputs", "invoking_user", "run_script"]

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
    before_start: Callable[[], None] | None = None
    """Called right before the container starts (after the cancel check); it may raise
    :class:`~sandbox.errors.RunCancelled` to stop the run there."""


def run_script(request: RunRequest, engine: Engine | None = None) -> TestResult:
    """Run one script in a production-shaped container and return the verdict.

    Raises:
        SandboxError: bad input (unknown script, invalid spec, missing variable) or an
            infrastructure problem (no engine, image cannot be had).
        RunCancelled: ``request.cancel`` was set before the container started.
    """
    # Bad input is reported before the engine is asked for anything.
    containerize.heartbeat_timeout_s()
    script_path = find_script(request.script, request.scripts_dir)
    resolved = resolve_script(script_path, request.spec_path, request.overrides)
    try:
        job = _prepare(request, resolved, engine or Engine.connect())
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        raise disk_full_error(exc, request.workspace) from exc
    try:
        outcome = _execute(job, request)
        return _finish(job, outcome, request)
    except KeyboardInterrupt:
        # Interrupted even mid-create, when the container's id never reached us: its
        # run-id label still finds it.
        _remove_run_containers(job)
        _save_interrupted(job)
        raise
    finally:
        SpaceReserve(job.run.root).release()
        # Also after Ctrl-C or a failure: no file of the run may stay root's.
        hand_over(job.engine, job.run, job.workspace, owner=job.owner, image=job.image.reference)


@dataclass(frozen=True)
class _Job:
    """Everything decided before the container starts."""

    resolved: ResolvedScript
    engine: Engine
    image: ResolvedImage
    workspace: Workspace
    run: RunFolder
    plan: InputPlan
    limits: AppliedLimits
    layout: JobLayout
    owner: tuple[int, int]
    labels: dict[str, str]


def _prepare(request: RunRequest, resolved: ResolvedScript, engine: Engine) -> _Job:
    """Have the image, bind inputs and lay the job out."""
    notify = request.on_progress or (lambda _message: None)
    script_path = resolved.script_path
    notify(f"image {resolved.spec.image or DEFAULT_IMAGE}")
    image = ensure_image(engine, resolved.spec.image or DEFAULT_IMAGE, on_line=logger.debug)
    workspace = Workspace(request.workspace).ensure()
    run = workspace.new_run(script_path.stem)
    notify(f"inputs for {script_path.stem}")
    plan = bind_inputs(
        resolved.spec,
        resolved.contract,
        data_source=request.data_source,
        explicit=request.inputs,
        cache_root=workspace.data_cache,
        size=request.data_size,
        s3=S3Cache(workspace.root / S3_CACHE_DIR),
    )
    limits = applied_limits(engine, resolved.spec, memory=request.memory, cpus=request.cpus)
    layout = _job_layout(resolved, request, plan.bindings, run, image, limits, engine)
    owner = request.run_as or invoking_user()
    _prepare_run_folder(run, resolved, layout, owner)
    labels = {**request.labels, **containerize.run_labels(run.run_id, script_path.stem)}
    return _Job(resolved, engine, image, workspace, run, plan, limits, layout, owner, labels)


def _execute(job: _Job, request: RunRequest) -> ContainerOutcome:
    """Run the container: under the supervisor, or without it where the image has no
    python3 (figures then come from the stats stream alone)."""
    if request.cancel is not None and request.cancel.is_set():
        raise RunCancelled(job.run.run_id)
    if request.before_start is not None:
        request.before_start()
    if request.on_progress:
        request.on_progress(f"running {job.resolved.script_path.stem}")
    try:
        return _run_container(job, request, supervised=True)
    except ExecutableNotFoundError as exc:
        if exc.executable != containerize.SUPERVISOR_PYTHON:
            raise
        if job.resolved.spec.call_style is CallStyle.MAIN:
            raise UsageError(
                f"script {job.resolved.script_path.stem}: the main call style needs "
                f"python3 in the image {job.image.reference}"
            ) from exc
        logger.info("no python3 in %s: running without the supervisor", job.image.reference)
        return _run_container(job, request, supervised=False)


def _run_container(job: _Job, request: RunRequest, *, supervised: bool) -> ContainerOutcome:
    container = containerize.build_request(
        job.resolved,
        job.layout,
        job.run,
        job.image,
        job.limits,
        owner=job.owner,
        as_root=request.as_root,
        labels=job.labels,
        supervised=supervised,
    )
    return run_container(
        job.engine,
        container,
        max_runtime_s=job.limits.max_runtime_s,
        on_output=request.on_output,
        heartbeat=containerize.heartbeat_file(job.run) if supervised else None,
        log_dir=job.run.root,
    )


def _finish(job: _Job, outcome: ContainerOutcome, request: RunRequest) -> TestResult:
    """Judge, check outputs, pack artifacts, hand files back, and save the result."""
    resolved, layout = job.resolved, job.layout
    result = build_result(resolved, job.run, job.image, layout, job.limits, outcome)
    env = script_environment(resolved.spec, resolved.contract)
    result = apply_output_checks(result, resolved, layout, env)
    artifacts, packing = [], []
    if result.is_successful() and resolved.spec.kind is JobKind.TRAINING:
        try:
            artifacts = pack_artifacts(layout, job.run.root)
        except OSError as exc:  # e.g. a full disk: the verdict stands, the archive does not
            packing = [f"model.tar.gz / output.tar.gz could not be packed: {exc.strerror}"]
    result = result.model_copy(
        update={
            "inputs": {b.channel: b.source for b in job.plan.bindings},
            "findings": [*result.findings, *_run_findings(job), *packing],
            "artifacts": artifacts,
            "error_message": _with_import_hint(result, resolved, request.source_dir),
        }
    )
    unwritten = outcome.stdout.write_error or outcome.stderr.write_error
    if unwritten is not None:
        result = with_write_failure(result, unwritten)
    return save_result(job.run.result_file, result, SpaceReserve(job.run.root))


def _remove_run_containers(job: _Job) -> None:
    try:
        job.engine.remove_labelled(f"sandbox.run-id={job.run.run_id}")
    except SandboxError as exc:
        logger.warning("could not remove the containers of run %s: %s", job.run.run_id, str(exc))


def _save_interrupted(job: _Job) -> None:
    """An interrupted run still leaves a result: the folder is complete, and listed."""
    result = TestResult(
        run_id=job.run.run_id,
        script_name=job.resolved.script_path.stem,
        script_path=str(job.resolved.script_path),
        kind=job.resolved.spec.kind.value,
        kind_reason=job.resolved.kind_reason,
        call_style=job.resolved.spec.call_style.value,
        status=Status.ERROR,
        execution_time=0.0,
        error_message="interrupted (Ctrl-C or SIGTERM): the container was removed",
        image=job.image.reference,
        image_id=job.image.image_id,
        limits=job.limits,
        spec=job.resolved.spec.model_dump(mode="json"),
        run_dir=str(job.run.root),
    )
    save_result(job.run.result_file, result, SpaceReserve(job.run.root))


def _run_findings(job: _Job) -> list[str]:
    findings = _ignored(job.plan.ignored_folders)
    if job.limits.instance_type is None and job.resolved.spec.kind is JobKind.PROCESSING:
        findings.append(
            f"no instance type given: the job config names {DEFAULT_INSTANCE_TYPE}, "
            "but no CPU or memory limit applied"
        )
    return findings


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
    common: dict[str, Any] = {
        "source_dir": source_dir,
        "run_as_module": as_module,
        "image_entrypoint": image.entrypoint,
        "multi_valued": frozenset(
            name
            for name, argument in resolved.contract.arguments.items()
            if argument.nargs not in (None, "?")
        ),
    }
    if resolved.spec.kind is JobKind.TRAINING:
        num_cpus = int(limits.cpus or engine.host_resources()[0] or 1)
        return training_layout(
            resolved.spec, resolved.script_path, bindings, run, num_cpus=max(num_cpus, 1), **common
        )
    return processing_layout(
        resolved.spec,
        resolved.script_path,
        bindings,
        run,
        image=image.reference,
        job_name=_job_name(run),
        **common,
    )


def _checked_source_dir(script_path: Path, source_dir: Path | None) -> Path | None:
    if source_dir is None:
        return None
    if not script_path.resolve().is_relative_to(source_dir.resolve()):
        raise UsageError(f"--source-dir {source_dir}: script {script_path} is not inside it")
    return source_dir.resolve()


def _job_name(run: RunFolder) -> str:
    return f"sandbox-{run.run_id}"[:63]


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
    # The folders the container writes must belong to the user it runs as.
    chown_folders([*writable, run.ml_output, run.supervisor], owner)
    # Room for the verdict, even if the script fills the disk.
    SpaceReserve(run.root).take()


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
