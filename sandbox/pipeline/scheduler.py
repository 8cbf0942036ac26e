"""One scheduler for many runs: a pipeline is a graph of runs, a batch a graph without edges.

:func:`prepare_images` has each distinct image once, serially (building a profile is not
safe to do twice at once), before any run starts. :func:`run_graph` then walks the graph
with :class:`graphlib.TopologicalSorter` and runs each ready node on the threads of one
:class:`~sandbox.pipeline.group.RunGroup`; on any exception (Ctrl-C) the group's runs are
stopped before it is raised on.
"""

from __future__ import annotations

import functools
import graphlib
import logging
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import Future
from typing import TypeVar

from sandbox.container.images import ResolvedImage, ensure_image
from sandbox.container.seam import Engine
from sandbox.pipeline.group import RunGroup, wait_interruptibly
from sandbox.results.models import TestResult

__all__ = ["prepare_images", "run_graph"]

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
"""A node of the graph: a step name, a batch index."""


def prepare_images(
    engine: Engine,
    images: Iterable[str],
    *,
    on_start: Callable[[str], None] | None = None,
    on_line: Callable[[str, str], None] | None = None,
    on_ready: Callable[[str, ResolvedImage], None] | None = None,
) -> None:
    """Resolve or build each distinct image of ``images`` once, in the order given."""
    for image in dict.fromkeys(images):
        if on_start is not None:
            on_start(image)
        lines = logger.debug if on_line is None else functools.partial(on_line, image)
        resolved = ensure_image(engine, image, on_line=lines)
        if on_ready is not None:
            on_ready(image, resolved)


def run_graph(
    group: RunGroup,
    engine: Engine,
    predecessors: Mapping[K, Iterable[K]],
    start: Callable[[K], Future[TestResult] | None],
    finished: Callable[[K, TestResult], None],
    *,
    on_running: Callable[[list[K]], None] | None = None,
) -> None:
    """Run every node once its predecessors are done.

    ``start(node)`` submits the node's run to ``group`` and returns its future, or
    settles it at once (skipped, reused) and returns ``None``; ``finished(node, result)``
    receives each run's result. On any exception the runs not started never start, the
    group's containers are removed (so that the running ones return at once), and the
    exception is raised on.
    """
    try:
        _walk(predecessors, start, finished, on_running)
    except BaseException:
        # Runs not started yet never start. The running ones wait on containers that a
        # signal to this (main) thread does not reach: remove them (only this group's,
        # by its label), so that their threads finish at once.
        group.stop(engine)
        raise
    finally:
        group.shutdown()


def _walk(
    predecessors: Mapping[K, Iterable[K]],
    start: Callable[[K], Future[TestResult] | None],
    finished: Callable[[K, TestResult], None],
    on_running: Callable[[list[K]], None] | None,
) -> None:
    sorter: graphlib.TopologicalSorter[K] = graphlib.TopologicalSorter(predecessors)
    sorter.prepare()
    running: dict[Future[TestResult], K] = {}
    while sorter.is_active():
        for node in sorter.get_ready():
            future = start(node)
            if future is None:
                sorter.done(node)
            else:
                running[future] = node
        if not running:
            continue
        if on_running is not None:
            on_running(list(running.values()))
        done = wait_interruptibly(running, first=True)
        for future in done:
            node = running.pop(future)
            finished(node, future.result())
            sorter.done(node)
