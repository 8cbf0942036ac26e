"""Many scripts at once: check them all, get each image once, then run them in parallel.

The steps are: resolve every script (a usage error in any stops the batch before a
container starts), make sure the workspace exists, get each distinct image serially
(building a profile is not safe to do twice at once), then run the scripts on up to
``jobs`` threads, each with its own engine connection. A run that hits an
infrastructure problem becomes an ERROR result, so the others still report.

The runs form one :class:`~sandbox.pipeline.group.RunGroup`: their containers carry
``sandbox.batch=<id>``, so that Ctrl-C stops this batch's runs and no one else's.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

from sandbox.constants import BATCH_LABEL, DEFAULT_IMAGE
from sandbox.container.engine import DockerEngine
from sandbox.container.limits import applied_limits, check_limit_options
from sandbox.container.seam import Engine
from sandbox.contract.resolve import ResolvedScript, find_script, resolve_script
from sandbox.errors import UsageError
from sandbox.pipeline.group import INTERRUPTED_REASON, RunGroup
from sandbox.pipeline.scheduler import prepare_images, run_graph
from sandbox.results.models import TestResult
from sandbox.results.workspace import Workspace
from sandbox.runner import RunRequest, run_to_result

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
    connect = connect or DockerEngine.connect
    for request in requests:
        check_limit_options(request.memory, request.cpus)
    planned = plan_runs(requests)
    with connect() as engine:
        for run in planned:  # limits beyond the engine's: a usage error before any run
            applied_limits(
                engine, run.resolved.spec, memory=run.request.memory, cpus=run.request.cpus
            )
        for workspace in {request.workspace for request in requests}:
            Workspace(workspace).ensure()
        prepare_images(
            engine,
            (run.image for run in planned),
            on_start=observer.image_started,
            on_line=observer.image_line,
            on_ready=lambda image, resolved: observer.image_ready(
                image, resolved.reference, resolved.built_now
            ),
        )
        return _run_all(engine, planned, jobs, observer, connect)


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


def _run_all(
    engine: Engine,
    planned: Sequence[PlannedRun],
    jobs: int,
    observer: BatchObserver,
    connect: Callable[[], Engine],
) -> list[TestResult]:
    """The runs as a graph without edges: all ready at once, up to ``jobs`` running."""
    group = RunGroup(BATCH_LABEL, jobs)
    results: dict[int, TestResult] = {}

    def start(index: int) -> Future[TestResult]:
        work = functools.partial(_run_one, index, planned[index], observer, connect, group)
        return group.submit(index, work)

    # On Ctrl-C only this batch's runs stop: their containers carry the batch label.
    run_graph(
        group, engine, {index: () for index in range(len(planned))}, start, results.__setitem__
    )
    return [results[index] for index in range(len(planned))]


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
    # Each run has its own engine connection, closed when the run ends.
    result = run_to_result(
        group.request(index, request), run.resolved, connect=connect, image=run.image
    )
    result = group.finish(index, result)
    observer.run_finished(index, result)
    return result
