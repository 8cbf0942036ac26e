"""The one scheduler of many runs (sandbox.pipeline.scheduler): a node runs once its
predecessors are done; a batch is a graph without edges; an error stops the group."""

from __future__ import annotations

from concurrent.futures import Future

import pytest
from results_factory import make_result

from sandbox.constants import BATCH_LABEL
from sandbox.pipeline.group import RunGroup
from sandbox.pipeline.scheduler import run_graph
from sandbox.results.models import TestResult
from tests.fakes import FakeEngine


def _graph_run(graph: dict[str, set[str]], jobs: int) -> list[str]:
    group = RunGroup(BATCH_LABEL, jobs)
    finished: list[str] = []

    def start(node: str) -> Future[TestResult]:
        return group.submit(node, lambda: make_result(node))

    run_graph(group, FakeEngine(), graph, start, lambda node, _result: finished.append(node))
    return finished


def test_a_node_starts_only_after_its_predecessors_are_done() -> None:
    finished = _graph_run({"train": {"prep"}, "calibrate": {"train"}, "prep": set()}, jobs=3)

    assert finished == ["prep", "train", "calibrate"]


def test_a_graph_without_edges_runs_every_node_once() -> None:
    finished = _graph_run({name: set() for name in ("a", "b", "c", "d")}, jobs=2)

    assert sorted(finished) == ["a", "b", "c", "d"]


def test_an_error_stops_the_group_by_its_label_and_is_raised_on() -> None:
    group = RunGroup(BATCH_LABEL, 1)
    engine = FakeEngine()

    def broken_finish(_node: str, _result: TestResult) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_graph(
            group,
            engine,
            {"a": set()},
            lambda node: group.submit(node, lambda: make_result(node)),
            broken_finish,
        )

    assert group.cancel.is_set() and engine.removed == [group.label]
