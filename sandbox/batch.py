"""Many scripts at once: check them all, get each image once, then run them in parallel.

The steps are: resolve every script (a usage error in any stops the batch before a
container starts), make sure the workspace exists, get each distinct image serially
(building a profile is not safe to do twice at once), then run the scripts on up to
``jobs`` threads, each with its own engine connection. A run that hits an
infrastructure problem becomes an ERROR result, so the others still report.

The runs form one :class:`~sandbox.run_group.RunGroup`: their containers carry
``sandbox.batch=<id>``, so that Ctrl-C stops this batch's runs and no one else's.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from sandbox.engine import Engine
from sandbox.errors import SandboxError, UsageError
from sandbox.images import ensure_image
from sandbox.limits import applied_limits, check_limit_options
from sandbox.masking import Masker
from sandbox.resolve import ResolvedScript, find_script, resolve_script
from sandbox.results import Status, TestResult
from sandbox.run_group import BATCH_LABEL, INTERRUPTED_REASON, RunGroup, wait_interruptibly
from sandbox.runner import DEFAULT_IMAGE, RunRequest, run_script
from sandbox.workspace import Workspace

__all__ = [
    "INTERRUPTED_REASON",
    "BatchObserver",
    "PlannedRun",
    "expand_scripts",
    "names_one_script",
    "plan_runs",
    "run_batch",
]

logger = logging.getLogger(__name__)

_GLOB_CHARS = frozenset("*?[")


class BatchObserver:
    """Told what a batch does; the base class ignores it all.

    Methods are called from worker threads, so implementations must be thread-safe.
    """

    wants_output = False
    """Set to True to receive the containers' output through :meth:`run_output`."""

    def image_started(self, image: str) -> None:
        """Getting (or building) ``image`` starts."""

    def image_line(self, image: str, line: str) -> None:
        """A progress line of the build or pull of ``image``."""

    def image_ready(self, image: str, reference: str, built_now: bool) -> None:
        """``image`` is present locally as ``reference``."""

    def run_started(self, index: int, script: str) -> None:
        """Run number ``index`` (of the request list) starts."""

    def run_progress(self, index: int, message: str) -> None:
        """A step of run ``index`` starts (``image ...``, ``inputs for ...``, ``running ...``)."""

    def run_output(self, index: int, chunk: bytes) -> None:
        """Output of run ``index``'s container, as it comes (only with ``wants_output``)."""

    def run_finished(self, index: int, result: TestResult) -> None:
        """Run ``index`` has its verdict."""


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """A request whose script and spec were resolved before anything started."""

    request: RunRequest
    resolved: ResolvedScript

    @property
    def image(self) -> str:
        return self.resolved.spec.image or DEFAULT_IMAGE

    @property
    def name(self) -> str:
        return self.resolved.script_path.stem


def expand_scripts(patterns: Sequence[str], scripts_dir: Path, *, all_scripts: bool) -> list[str]:
    """Script names, paths and globs (expanded here, so quoted globs work) -> a list.

    Args:
        patterns: names, paths or globs such as ``examples/scripts/*.py``.
        scripts_dir: where ``all_scripts`` looks, and where a glob that matches nothing
            from the current folder is tried again.
        all_scripts: add every ``*.py`` in ``scripts_dir``.

    Raises:
        UsageError: nothing to run, or a glob that matches no file.
    """
    found: list[str] = []
    if all_scripts:
        found += _python_files(sorted(scripts_dir.glob("*.py")))
        if not found:
            raise UsageError(f"--all: no *.py script in {scripts_dir}")
    for pattern in patterns:
        found += _expand_one(pattern, scripts_dir)
    if not found:
        raise UsageError("no script given: name one or more scripts, a glob, or --all")
    return _unique(found)


def names_one_script(patterns: Sequence[str], *, all_scripts: bool) -> bool:
    """True when the command line names exactly one script, with no glob and no ``--all``:
    then the output keeps the one-script shape (one JSON document, the full text)."""
    return not all_scripts and len(patterns) == 1 and not _GLOB_CHARS & set(patterns[0])


def _expand_one(pattern: str, scripts_dir: Path) -> list[str]:
    if not _GLOB_CHARS & set(pattern):
        return [pattern]
    matches = sorted(glob.glob(pattern)) or sorted(glob.glob(str(scripts_dir / pattern)))
    files = _python_files([Path(m) for m in matches])
    if not files:
        raise UsageError(f"{pattern!r} matches no script (also tried in {scripts_dir})")
    return files


def _python_files(paths: Sequence[Path]) -> list[str]:
    return [str(p) for p in paths if p.is_file() and p.name != "__init__.py"]


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for name in names:
        key = str(Path(name).resolve()) if Path(name).is_file() else name
        if key not in seen:
            seen.add(key)
            unique.append(name)
    return unique


def run_batch(
    requests: Sequence[RunRequest],
    *,
    jobs: int = 1,
    observer: BatchObserver | None = None,
    connect: Callable[[], Engine] | None = None,
) -> list[TestResult]:
    """Run every request, up to ``jobs`` at once; results come back in request order.

    Raises:
        UsageError: ``jobs`` < 1, any script cannot be found or resolved (all named), or
            ``--memory``/``--cpus`` cannot be had on this engine.
        InfrastructureError: no engine, or an image cannot be built or pulled.
        KeyboardInterrupt: after the containers of this batch's runs were removed (a run
            still preparing its inputs starts none).
    """
    if jobs < 1:
        raise UsageError(f"--jobs {jobs}: must be 1 or more")
    observer = observer or BatchObserver()
    connect = connect or Engine.connect
    for request in requests:
        check_limit_options(request.memory, request.cpus)
    planned = plan_runs(requests)
    engine = connect()
    try:
        for run in planned:  # limits beyond the engine's: a usage error before any run
            applied_limits(
                engine, run.resolved.spec, memory=run.request.memory, cpus=run.request.cpus
            )
        for workspace in {request.workspace for request in requests}:
            Workspace(workspace).ensure()
        _ensure_images(engine, planned, observer)
        return _run_all(engine, planned, jobs, observer, connect)
    finally:
        engine.close()


def plan_runs(requests: Sequence[RunRequest]) -> list[PlannedRun]:
    """Resolve every request up front; one usage error names every script that has one."""
    planned, problems = [], []
    for request in requests:
        try:
            path = find_script(request.script, request.scripts_dir)
            resolved = resolve_script(path, request.spec_path, request.overrides)
        except UsageError as exc:
            problems.append(str(exc))
            continue
        planned.append(PlannedRun(request, resolved))
    if problems:
        raise UsageError(f"{len(problems)} script(s) cannot run: " + "; ".join(problems))
    return planned


def _ensure_images(engine: Engine, planned: Sequence[PlannedRun], observer: BatchObserver) -> None:
    for image in dict.fromkeys(run.image for run in planned):
        observer.image_started(image)
        resolved = ensure_image(
            engine, image, on_line=functools.partial(observer.image_line, image)
        )
        observer.image_ready(image, resolved.reference, resolved.built_now)


def _run_all(
    engine: Engine,
    planned: Sequence[PlannedRun],
    jobs: int,
    observer: BatchObserver,
    connect: Callable[[], Engine],
) -> list[TestResult]:
    group = RunGroup(BATCH_LABEL, jobs)
    futures = [
        group.submit(index, functools.partial(_run_one, index, run, observer, connect, group))
        for index, run in enumerate(planned)
    ]
    try:
        wait_interruptibly(futures)
    except KeyboardInterrupt:
        # Only this batch's runs: their containers carry the batch label.
        group.stop(engine)
        raise
    finally:
        group.shutdown()
    return [future.result() for future in futures]


def _run_one(
    index: int,
    run: PlannedRun,
    observer: BatchObserver,
    connect: Callable[[], Engine],
    group: RunGroup,
) -> TestResult:
    observer.run_started(index, run.name)
    request = dataclasses.replace(
        run.request,
        on_progress=lambda message: observer.run_progress(index, message),
        on_output=(lambda chunk: observer.run_output(index, chunk))
        if observer.wants_output
        else None,
    )
    try:
        engine = connect()
        try:
            result = run_script(group.request(index, request), engine)
        finally:
            engine.close()
    except SandboxError as exc:
        logger.debug("run of %s failed to run: %s", run.name, exc)
        result = _error_result(run, exc)
    result = group.finish(index, result)
    observer.run_finished(index, result)
    return result


def _error_result(run: PlannedRun, error: SandboxError) -> TestResult:
    """An ERROR verdict for a run that the infrastructure stopped (it has no run folder)."""
    spec = run.resolved.spec
    return Masker.for_spec(spec).result(
        TestResult(
            run_id="",
            script_name=run.name,
            script_path=str(run.resolved.script_path),
            kind=spec.kind.value,
            call_style=spec.call_style.value,
            status=Status.ERROR,
            execution_time=0.0,
            memory_usage=None,
            error_message=str(error),
            image=run.image,
            spec=spec.model_dump(mode="json"),
        )
    )
