"""``python -m sandbox`` in processes of their own, as a user starts it, for the Ctrl-C tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any


class SandboxProcesses:
    """Starts ``python -m sandbox ARGS``; on leaving, interrupts any still running, so that
    a failed test leaves no process (and so no container) behind."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """``python -m sandbox ARGS``, with ``env`` added to this process's environment."""
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        self.started.append(process)
        return process

    def __enter__(self) -> SandboxProcesses:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.communicate()


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    """Until ``condition`` holds; fails at once if ``process`` ended, or after a minute."""
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def running_containers(engine: Any, workspace: Path) -> int:
    """Containers of the runs in ``workspace`` (by their ``sandbox.run-id`` label)."""
    runs = workspace / "runs"
    run_ids = [path.name for path in runs.iterdir()] if runs.is_dir() else []
    # The engine seam ignores containers removed while being listed: no retry needed.
    return sum(engine.count_labelled(f"sandbox.run-id={run_id}") for run_id in run_ids)
