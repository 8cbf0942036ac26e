"""Test one script: resolve its spec, prepare inputs, run it as production would, judge.

A run is a visible sequence of small steps; a script that fails is a result (FAIL,
TIMEOUT, OOM), and only bad input and infrastructure problems raise
:class:`~sandbox.errors.SandboxError`. Bad input is found before the run folder exists;
from then on, :func:`_run_in_folder` is the one place where an exception becomes a saved
ERROR result (and is raised on, carrying it). :func:`run_to_result` is the form for
controllers of many runs: every error is the run's result.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.constants import (
    DEFAULT_IMAGE,
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_SCRIPTS_DIR,
    DEFAULT_WORKSPACE,
    RUN_ID_LABEL,
    SPEC_FILE,
    JobKind,
)
from sandbox.container import containerize
from sandbox.container.dependencies import (
    JobDependencies,
    dependency_mounts,
    explain_failure,
    prepare_dependencies,
)
from sandbox.container.engine import DockerEngine, engine_or_connect
from sandbox.container.execute import ContainerOutcome, run_container
from sandbox.container.images import ResolvedImage, ensure_image
from sandbox.container.instances import cpu_only_finding
from sandbox.container.layout import InputBinding, JobLayout, nested_mountpoints, processing_layout
from sandbox.container.limits import applied_limits, check_limit_options
from sandbox.container.ownership import chown_folders, hand_over, invoking_user
from sandbox.container.seam import Engine
from sandbox.container.training import pack_artifacts, training_layout
from sandbox.container.transfer import copy_mode_setting
from sandbox.contract.resolve import (
    Overrides,
    ResolvedScript,
    find_script,
    resolve_script,
    script_environment,
)
from sandbox.contract.spec import CallStyle
from sandbox.data.datagen import DataSize
from sandbox.data.inputs import InputPlan, bind_inputs, check_inputs
from sandbox.data.location import DataLocation, S3Uri, as_location
from sandbox.data.model_artifacts import image_trainer
from sandbox.data.s3source import S3_CACHE_DIR, S3Cache
from sandbox.errors import (
    ExecutableNotFoundError,
    OptionError,
    RunCancelled,
    SandboxError,
    UsageError,
)
from sandbox.results.abandoned import remove_orphaned_containers, save_abandoned_runs
from sandbox.results.collect import apply_output_checks, build_result, collect_outputs
from sandbox.results.hollow import judge_hollow
from sandbox.results.masking import Masker
from sandbox.results.missing_context import with_context_hint, with_import_hint
from sandbox.results.models import AppliedLimits, Status, TestResult
from sandbox.results.storage import (
    SpaceReserve,
    disk_full_error,
    is_disk_full,
    with_write_failure,
)
from sandbox.results.store import save_result
from sandbox.results.workspace import (
    RunFolder,
    Workspace,
    make_private_folder,
    new_run_id,
)

__all__ = [
    "DEFAULT_IMAGE",
    "INTERRUPTED_MESSAGE",
    "RunRequest",
    "collect_outputs",
    "invoking_user",
    "run_script",
    "run_to_result",
]

logger = logging.getLogger(__name__)

INTERRUPTED_MESSAGE = "interrupted (Ctrl-C, SIGTERM or SIGHUP): the container was removed"


@dataclass(frozen=True)
class RunRequest:
    """One ``sandbox test-script`` call, as plain data."""

    script: str
    scripts_dir: Path = DEFAULT_SCRIPTS_DIR
    spec_path: Path | None = None
    overrides: Overrides = field(default_factory=Overrides)
    data_source: DataLocation | None = None
    """A folder, or an S3 prefix, holding one folder (sub-prefix) per input channel; text
    (``s3://...`` or a path) is parsed when the request is made."""
    inputs: Mapping[str, DataLocation] = field(default_factory=dict)
    """Channel -> folder or S3 prefix (text is parsed as for ``data_source``)."""
    data_size: DataSize = DataSize.SMALL
    workspace: Path = DEFAULT_WORKSPACE
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
    requirements_file: Path | None = None
    """pip requirements installed before the script, from the local wheelhouse."""
    bake_requirements: bool = False
    """Bake the requirements into a derived image instead of installing them each run."""
    strict: bool = False
    """A module the script imports and the image lacks stops the run before it starts."""
    copy_mode: str | None = None
    """``auto``, ``bind`` or ``copy``: how the job's folders reach the container; ``None``:
    ``SANDBOX_COPY_MODE``, else ``auto`` (copies when the engine does not see this
    machine's files)."""

    def __post_init__(self) -> None:
        # Parsed once here, at the edge: behind it a location is a Path or an S3Uri.
        source = self.data_source
        parsed = None if source is None else _location("data_source", source)
        inputs = {name: _location(f"inputs[{name}]", value) for name, value in self.inputs.items()}
        object.__setattr__(self, "data_source", parsed)
        object.__setattr__(self, "inputs", inputs)


def _location(field_name: str, value: str | Path | S3Uri) -> DataLocation:
    try:
        return as_location(value)
    except ValueError as exc:
        raise UsageError(f"{field_name}: {exc}") from exc


def run_script(request: RunRequest, engine: Engine | None = None) -> TestResult:
    """Run one script in a production-shaped container and return the verdict.

    Raises:
        SandboxError: bad input (unknown script, invalid spec, missing variable) or an
            infrastructure problem (no engine, image cannot be had).
        RunCancelled: ``request.cancel`` was set before the container started.
    """
    # Bad input is reported before the engine is asked for anything.
    containerize.heartbeat_timeout_s()
    copy_mode_setting(request.copy_mode)
    check_limit_options(request.memory, request.cpus)
    script_path = find_script(request.script, request.scripts_dir)
    resolved = resolve_script(script_path, request.spec_path, request.overrides)
    check_inputs(
        resolved.spec,
        resolved.contract,
        data_source=request.data_source,
        explicit=request.inputs,
        script_path=script_path,
        workspace_dir=request.workspace,
    )
    return _run_resolved(request, resolved, engine, DockerEngine.connect)


def run_to_result(
    request: RunRequest,
    resolved: ResolvedScript,
    engine: Engine | None = None,
    *,
    connect: Callable[[], Engine] | None = None,
    **fields: Any,
) -> TestResult:
    """Run an already resolved script; an error that stops it is its ERROR result.

    The result saved in the run folder when the error came after it existed, else one
    without a folder (no engine, no image) completed by ``fields`` (e.g. the image).
    With no ``engine``, one is connected (``connect``, else :meth:`DockerEngine.connect`)
    for this run and closed after it.

    Raises:
        KeyboardInterrupt: after the run's container was removed and its result saved.
    """
    try:
        return _run_resolved(request, resolved, engine, connect or DockerEngine.connect)
    except SandboxError as exc:
        logger.debug("run of %s stopped: %s", resolved.script_path.stem, exc)
        if exc.result is not None:
            return exc.result
        result = TestResult.not_run(resolved, Status.ERROR, str(exc), **fields)
        return Masker.for_spec(resolved.spec).result(result)


def _run_resolved(
    request: RunRequest,
    resolved: ResolvedScript,
    engine: Engine | None,
    connect: Callable[[], Engine],
) -> TestResult:
    containerize.heartbeat_timeout_s()
    copy_mode_setting(request.copy_mode)
    source_dir = _checked_source_dir(resolved.script_path, request.source_dir)
    with engine_or_connect(engine, connect) as connected:
        return _run_in_folder(_prepared(request, resolved, source_dir, connected), request)


def _prepared(
    request: RunRequest, resolved: ResolvedScript, source_dir: Path | None, engine: Engine
) -> _Job:
    """:func:`_prepare`, a full disk while preparing being one line (exit 3)."""
    try:
        return _prepare(request, resolved, source_dir, engine)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        raise disk_full_error(exc, request.workspace) from exc


def _run_in_folder(job: _Job, request: RunRequest) -> TestResult:
    """Run the prepared job; every exception from here on leaves a saved result."""
    try:
        outcome = _execute(job, request)
        return _finish(job, outcome, request)
    except KeyboardInterrupt:
        # Interrupted even mid-create, when the container's id never reached us: its
        # run-id label still finds it.
        _remove_run_containers(job)
        _save_error(job, INTERRUPTED_MESSAGE)
        raise
    except SandboxError as exc:
        exc.result = _save_error(job, str(exc))
        raise
    except Exception as exc:
        _save_error(job, f"{type(exc).__name__}: {exc}")
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
    masker: Masker
    deps: JobDependencies


def _prepare(
    request: RunRequest, resolved: ResolvedScript, source_dir: Path | None, engine: Engine
) -> _Job:
    """Have the image, bind inputs, make the run folder and lay the job out.

    Everything that can be wrong with the input is found before the run folder exists.
    """
    notify = request.on_progress or (lambda _message: None)
    script_path = resolved.script_path
    # Limits the engine cannot give are a usage error: before an image or a run folder.
    limits = applied_limits(engine, resolved.spec, memory=request.memory, cpus=request.cpus)
    notify(f"image {resolved.spec.image or DEFAULT_IMAGE}")
    image = ensure_image(engine, resolved.spec.image or DEFAULT_IMAGE, on_line=logger.debug)
    workspace = Workspace(request.workspace).ensure()
    # Runs of this workspace whose controller was killed: settled before a new one starts.
    save_abandoned_runs(workspace)
    remove_orphaned_containers(engine, workspace)
    deps = _dependencies(request, resolved, engine, image, workspace, notify)
    image = deps.image
    owner = request.run_as or invoking_user()
    # The run folder is made only once the inputs are bound; its id labels the helper
    # container that may train a model for an input.
    run_id = new_run_id(script_path.stem)
    notify(f"inputs for {script_path.stem}")
    plan = bind_inputs(
        resolved.spec,
        resolved.contract,
        data_source=request.data_source,
        explicit=request.inputs,
        cache_root=workspace.data_cache,
        size=request.data_size,
        s3=S3Cache(workspace.root / S3_CACHE_DIR),
        script_path=resolved.script_path,
        trainer=image_trainer(
            engine,
            image.reference,
            user=owner,
            run_id=run_id,
            workspace_id=workspace.identity(),
        ),
        image=image.reference,
    )
    run = workspace.run(run_id).create()
    layout = _job_layout(resolved, source_dir, plan.bindings, run, image, limits, engine)
    layout = dataclasses.replace(
        layout,
        mounts=[*layout.mounts, *dependency_mounts(deps, run, network=resolved.spec.network)],
        install_first=deps.install_first,
    )
    masker = Masker.for_spec(resolved.spec)
    _prepare_run_folder(run, resolved, layout, owner, masker)
    labels = {
        **request.labels,
        **containerize.run_labels(run.run_id, script_path.stem, workspace.identity()),
    }
    return _Job(
        resolved, engine, image, workspace, run, plan, limits, layout, owner, labels, masker, deps
    )


def _dependencies(
    request: RunRequest,
    resolved: ResolvedScript,
    engine: Engine,
    image: ResolvedImage,
    workspace: Workspace,
    notify: Callable[[str], None],
) -> JobDependencies:
    """Wheelhouse, pre-flight import check (its findings are logged before the run) and,
    with ``bake``, the derived image."""
    notify(f"dependencies of {resolved.script_path.stem}")
    deps = prepare_dependencies(
        engine,
        image,
        resolved.script_path,
        spec_requirements=resolved.spec.requirements,
        requirements_file=request.requirements_file,
        source_dir=request.source_dir.resolve() if request.source_dir else None,
        bake=resolved.spec.bake or request.bake_requirements,
        strict=request.strict,
        cache_root=workspace.root,
        on_line=logger.debug,
    )
    for finding in deps.findings:
        logger.warning("%s", finding)
    return deps


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
        _blame_path_override(job, exc)
        if exc.executable != containerize.SUPERVISOR_PYTHON:
            raise
        if job.resolved.spec.call_style is CallStyle.MAIN:
            raise UsageError(
                f"script {job.resolved.script_path.stem}: the main call style needs "
                f"python3 in the image {job.image.reference}"
            ) from exc
        logger.info("no python3 in %s: running without the supervisor", job.image.reference)
        return _run_container(job, request, supervised=False)


def _blame_path_override(job: _Job, exc: ExecutableNotFoundError) -> None:
    """A PATH given in the environment replaces the image's: when the program is then
    not found, that PATH is the reason, not the image."""
    path = job.resolved.spec.environment.get("PATH")
    if path is None:
        return
    raise OptionError(
        "--env",
        f"PATH={path}",
        f"the container finds no {exc.executable!r} on this PATH, which replaces the "
        f"image's; add the folder holding {exc.executable} (e.g. /usr/local/bin:/usr/bin) "
        "or leave PATH out",
    ) from exc


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
    container = dataclasses.replace(container, copy_mode=copy_mode_setting(request.copy_mode))
    return run_container(
        job.engine,
        container,
        max_runtime_s=job.limits.max_runtime_s,
        on_output=job.masker.stream(request.on_output) if request.on_output else None,
        heartbeat=containerize.heartbeat_file(job.run) if supervised else None,
        log_dir=job.run.root,
        # Logs and tails are stored without the secret values the script printed.
        mask=job.masker.chunks,
    )


def _finish(job: _Job, outcome: ContainerOutcome, request: RunRequest) -> TestResult:
    """Judge, check outputs, pack artifacts, hand files back, and save the result."""
    resolved, layout = job.resolved, job.layout
    result = build_result(resolved, job.run, job.image, layout, job.limits, outcome)
    env = script_environment(resolved.spec, resolved.contract)
    result = judge_hollow(
        apply_output_checks(result, resolved, layout, env),
        resolved,
        layout,
        unread_inputs=containerize.unread_inputs(job.run),
    )
    artifacts, packing = [], []
    if result.is_successful() and resolved.spec.kind is JobKind.TRAINING:
        try:
            artifacts = pack_artifacts(layout, job.run.root)
        except OSError as exc:  # e.g. a full disk: the verdict stands, the archive does not
            packing = [f"model.tar.gz / output.tar.gz could not be packed: {exc.strerror}"]
    result = result.model_copy(
        update={
            "inputs": {b.channel: b.source for b in job.plan.bindings},
            "findings": [
                *result.findings,
                *job.deps.findings,
                *_run_findings(job),
                *packing,
                *([outcome.transfer.summary()] if outcome.transfer is not None else []),
            ],
            "artifacts": artifacts,
            "error_message": with_import_hint(result, resolved, request.source_dir),
        }
    )
    if not result.is_successful():
        reason = with_context_hint(result, resolved, request.source_dir)
        reason = explain_failure(
            job.deps, result.stderr_tail, reason, network=resolved.spec.network
        )
        result = result.model_copy(update={"error_message": reason})
    unwritten = outcome.stdout.write_error or outcome.stderr.write_error
    if unwritten is not None:
        result = with_write_failure(result, unwritten)
    return save_result(job.masker.result(result))


def _remove_run_containers(job: _Job) -> None:
    try:
        job.engine.remove_labelled(f"{RUN_ID_LABEL}={job.run.run_id}")
    except SandboxError as exc:
        logger.warning("could not remove the containers of run %s: %s", job.run.run_id, str(exc))


def _save_error(job: _Job, reason: str) -> TestResult | None:
    """A run stopped by an error still leaves a result: the folder is complete, and listed."""
    result = TestResult.not_run(
        job.resolved,
        Status.ERROR,
        reason,
        run_id=job.run.run_id,
        kind_reason=job.resolved.kind_reason,
        image=job.image.reference,
        image_id=job.image.image_id,
        limits=job.limits,
        spec=job.masker.spec(job.resolved.spec),
        run_dir=str(job.run.root),
    )
    try:
        return save_result(result)
    except OSError as exc:  # the error being raised says more than this one
        logger.warning("result of run %s not saved: %s", job.run.run_id, exc.strerror)
        return None


def _run_findings(job: _Job) -> list[str]:
    findings = _ignored(job.plan.ignored_folders)
    if job.limits.instance_type is None and job.resolved.spec.kind is JobKind.PROCESSING:
        findings.append(
            f"no instance type given: the job config names {DEFAULT_INSTANCE_TYPE}, "
            "but no CPU or memory limit applied"
        )
    if job.limits.instance_type is not None:
        findings.extend(filter(None, [cpu_only_finding(job.limits.instance_type)]))
    return findings


def _job_layout(
    resolved: ResolvedScript,
    source_dir: Path | None,
    bindings: list[InputBinding],
    run: RunFolder,
    image: ResolvedImage,
    limits: AppliedLimits,
    engine: Engine,
) -> JobLayout:
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
    run: RunFolder,
    resolved: ResolvedScript,
    layout: JobLayout,
    owner: tuple[int, int],
    masker: Masker,
) -> None:
    config_files = [
        run.write_json(run.config.relative_to(run.root) / name, payload)
        for name, payload in layout.config_files.items()
    ]
    writable = [*layout.outputs.values(), *nested_mountpoints(layout.mounts)]
    for folder in writable:
        make_private_folder(folder)
    # JSON is YAML too: `--spec runs/<run-id>/spec.json` runs this spec again (secret
    # values are masked: give them again, with --env or --secret-env).
    run.write_json(SPEC_FILE, masker.spec(resolved.spec))
    # What the container writes, or reads, must belong to the user it runs as: the run
    # folder is private.
    chown_folders([*writable, run.ml_output, run.supervisor, run.config, *config_files], owner)
    # Room for the verdict, even if the script fills the disk.
    SpaceReserve(run.root).take()


def _ignored(folders: list[str]) -> list[str]:
    if not folders:
        return []
    return [f"data source folders that match no channel were ignored: {', '.join(folders)}"]
