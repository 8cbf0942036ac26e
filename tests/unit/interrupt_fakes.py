"""Fakes for Ctrl-C tests of a batch or a pipeline: containers as label sets, and a
``run_script`` whose runs either run until their container is removed or are still
generating their data when the controller's wait gets Ctrl-C."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from results_factory import make_result

from sandbox import runner
from sandbox.errors import RunCancelled
from sandbox.results.models import Status, TestResult
from sandbox.results.workspace import write_json_atomic
from sandbox.runner import RunRequest
from tests import fakes


def patch_runs(monkeypatch: pytest.MonkeyPatch, run_script: Callable[..., TestResult]) -> None:
    """Make ``run_script(request, engine)`` the runner's one run, behind the runner's own
    error boundary (:func:`sandbox.runner.run_to_result`); a connected engine is closed."""

    def run_resolved(
        request: RunRequest, resolved: Any, engine: Any, connect: Callable[[], Any]
    ) -> TestResult:
        if engine is not None:
            return run_script(request, engine)
        engine = connect()
        try:
            return run_script(request, engine)
        finally:
            engine.close()

    monkeypatch.setattr(runner, "_run_resolved", run_resolved)


class FakeDocker:
    """Containers as label sets shared by every fake engine; removing ends them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.containers: list[tuple[dict[str, str], threading.Event]] = []

    def start(self, labels: Mapping[str, str]) -> threading.Event:
        gone = threading.Event()
        with self.lock:
            self.containers.append((dict(labels), gone))
        return gone

    def running(self, key: str) -> list[str]:
        with self.lock:
            return [
                tags[key] for tags, gone in self.containers if key in tags and not gone.is_set()
            ]


class FakeEngine(fakes.FakeEngine):
    """An engine whose containers are those of a :class:`FakeDocker`."""

    def __init__(self, docker: FakeDocker) -> None:
        super().__init__()
        self.docker = docker

    def remove_labelled(self, label: str, *, stopped_only: bool = False) -> int:
        key, _, value = label.partition("=")
        self.removed.append(label)
        with self.docker.lock:
            hits = [gone for tags, gone in self.docker.containers if tags.get(key) == value]
        for gone in hits:
            gone.set()
        return len(hits)


class Interrupt:
    """A fake ``run_script``: ``sleeper*`` runs until its container goes, ``prep*`` is
    still generating data; the batch's wait gets Ctrl-C once both are there."""

    def __init__(self, docker: FakeDocker, workspace: Path) -> None:
        self.docker, self.workspace = docker, workspace
        self.started, self.preparing = threading.Event(), threading.Event()
        self.release = threading.Event()
        self.cancelled: list[str] = []
        self.meanwhile: Callable[[], None] = lambda: None

    def run_script(self, request: RunRequest, engine: object) -> TestResult:
        name = Path(request.script).stem
        run_dir = self.workspace / "runs" / f"run-{name}"
        run_dir.mkdir(parents=True)
        assert request.before_start is not None and request.cancel is not None
        if request.on_progress is not None:
            request.on_progress(f"inputs for {name}")
        if name.startswith("prep"):
            self.preparing.set()
            self.release.wait(10)
        try:
            if request.cancel.is_set():  # the runner's own check
                raise RunCancelled(name)
            request.before_start()
        except RunCancelled:
            self.cancelled.append(name)
            raise
        gone = self.docker.start(request.labels)
        self.started.set()
        assert gone.wait(10)
        # The container was removed under it: SIGKILL, exit 137.
        result = make_result(
            name, Status.FAIL, run_id=run_dir.name, run_dir=str(run_dir), exit_code=137
        )
        write_json_atomic(run_dir / "result.json", result.to_json_dict())
        return result

    def wait(self, futures: object, **_options: object) -> None:
        assert self.started.wait(5) and self.preparing.wait(5)
        self.meanwhile()
        raise KeyboardInterrupt
