"""Which process controls a run (sandbox.results.controller): labels, and telling a dead one."""

from __future__ import annotations

import subprocess
import sys

from sandbox.results.controller import Controller


def test_label_round_trip_and_garbage() -> None:
    current = Controller.current()
    assert Controller.parse(current.label()) == current
    assert Controller.parse("") is None and Controller.parse("host@pid") is None


def test_only_a_provably_gone_controller_is_dead() -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    here = Controller.current()
    assert not here.is_dead()
    assert Controller(here.host, finished.pid, "").is_dead()
    assert Controller(here.host, here.pid, "1").is_dead()  # the pid was reused
    assert not Controller("another-host/1", finished.pid, "").is_dead()
