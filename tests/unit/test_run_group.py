"""A controller's group of runs (sandbox.pipeline.group): label, start gate, stop, marking."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from results_factory import make_result

from sandbox.constants import BATCH_LABEL
from sandbox.errors import RunCancelled
from sandbox.pipeline.group import INTERRUPTED_REASON, RunGroup, wait_interruptibly
from sandbox.results.models import Status
from sandbox.results.workspace import write_json_atomic
from sandbox.runner import RunRequest
from tests.fakes import FakeEngine


class SweepingEngine(FakeEngine):
    """Records each sweep; the first ``interrupts`` sweeps raise a second Ctrl-C."""

    def __init__(self, on_sweep: threading.Event | None = None, interrupts: int = 0) -> None:
        super().__init__()
        self.sweeps: list[str] = []
        self.on_sweep = on_sweep
        self.interrupts = interrupts

    def remove_labelled(self, label: str, *, stopped_only: bool = False) -> int:
        self.sweeps.append(label)
        if self.interrupts:
            self.interrupts -= 1
            raise KeyboardInterrupt
        if self.on_sweep is not None:
            self.on_sweep.set()
        return 1


def gate(request: RunRequest) -> Callable[[], None]:
    """The start gate the group put on ``request`` (the runner calls it last)."""
    assert request.before_start is not None
    return request.before_start


def test_requests_carry_the_group_label_and_the_shared_cancel_event() -> None:
    group = RunGroup(BATCH_LABEL, jobs=1)
    first = group.request(0, RunRequest(script="a.py", labels={"team": "x"}))
    second = group.request(1, RunRequest(script="b.py"))
    assert re.fullmatch(r"sandbox\.batch=[0-9a-f]{12}", group.label)
    assert first.labels == {"team": "x", "sandbox.batch": group.group_id}
    assert first.cancel is group.cancel and second.cancel is group.cancel
    assert RunGroup(BATCH_LABEL, jobs=1).group_id != group.group_id


def test_after_stop_a_run_not_started_is_cancelled_at_its_gate() -> None:
    group = RunGroup(BATCH_LABEL, jobs=1)
    seen: list[str] = []
    request = group.request(0, RunRequest(script="dir/prep.py", on_progress=seen.append))
    assert request.on_progress is not None
    request.on_progress("inputs for prep")
    group.stop(SweepingEngine())
    with pytest.raises(RunCancelled, match="prep"):
        gate(request)()
    assert seen == ["inputs for prep"]


def test_stop_waits_for_started_runs_but_not_for_preparing_ones() -> None:
    group = RunGroup(BATCH_LABEL, jobs=2)
    swept, passed_gate, preparing_done = threading.Event(), threading.Event(), threading.Event()
    started = group.request("run", RunRequest(script="run.py"))
    group.request("prep", RunRequest(script="prep.py"))  # prepares; never reaches its gate

    def run() -> str:
        gate(started)()
        passed_gate.set()
        assert swept.wait(5)  # the container goes when the group sweeps
        return "returned"

    def prepare() -> str:
        preparing_done.wait(5)  # data generation outlasting the interrupt
        return "late"

    futures = [group.submit("run", run), group.submit("prep", prepare)]
    assert passed_gate.wait(5)
    began = time.monotonic()
    group.stop(SweepingEngine(on_sweep=swept))
    assert time.monotonic() - began < 2
    assert futures[0].result(timeout=0) == "returned"
    assert not futures[1].done()
    preparing_done.set()


def test_a_second_ctrl_c_does_not_cut_the_stop_short() -> None:
    group = RunGroup(BATCH_LABEL, jobs=1)
    engine = SweepingEngine(interrupts=2)
    group.stop(engine)
    assert engine.sweeps == [group.label] * 3 and group.cancel.is_set()


def test_queued_runs_never_start_after_stop() -> None:
    group = RunGroup(BATCH_LABEL, jobs=1)
    release = threading.Event()
    first = group.submit(0, lambda: release.wait(5))
    queued = group.submit(1, lambda: pytest.fail("a queued run started after stop"))
    group.stop(SweepingEngine())
    release.set()
    assert first.result(timeout=5) is True
    assert queued.cancelled()
    group.shutdown()


def test_finish_marks_only_runs_stopped_while_their_container_ran(tmp_path: Path) -> None:
    group = RunGroup(BATCH_LABEL, jobs=1)
    results = {}
    cases = (
        ("killed", Status.FAIL, 137),  # its container was removed by the stop
        ("passed", Status.PASS, 0),
        ("earlier", Status.FAIL, 1),
        ("failed-alone", Status.FAIL, 1),  # ended on its own; still finishing at Ctrl-C
    )
    for key, status, code in cases:
        run_dir = tmp_path / key
        result = make_result(key, status, run_dir=str(run_dir), exit_code=code)
        write_json_atomic(run_dir / "result.json", result.to_json_dict())
        results[key] = result
        gate(group.request(key, RunRequest(script=f"{key}.py")))()
    assert group.finish("earlier", results["earlier"]) == results["earlier"]  # before Ctrl-C
    group.stop(SweepingEngine())

    killed = group.finish("killed", results["killed"])
    assert (killed.status, killed.error_message) == (Status.ERROR, INTERRUPTED_REASON)
    stored = json.loads((tmp_path / "killed" / "result.json").read_text())
    assert (stored["status"], stored["error_message"]) == ("ERROR", INTERRUPTED_REASON)
    assert group.finish("passed", results["passed"]).status is Status.PASS
    assert group.finish("failed-alone", results["failed-alone"]) == results["failed-alone"]
    assert json.loads((tmp_path / "earlier" / "result.json").read_text())["status"] == "FAIL"


def test_a_ctrl_c_the_kernel_gave_another_thread_still_ends_the_wait() -> None:
    group = RunGroup(BATCH_LABEL, jobs=1)
    release = threading.Event()

    def run() -> None:
        time.sleep(0.3)  # the main thread is waiting by now
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)  # caught by this thread
        release.wait(10)

    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        wait_interruptibly([group.submit(0, run)])
    release.set()
    assert time.monotonic() - began < 2
