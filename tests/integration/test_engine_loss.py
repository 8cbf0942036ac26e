"""The engine goes away mid-run: the run ends with ERROR, and the job stops by itself.

The controller talks to the engine through a socket proxy that the test cuts. The
supervisor in the container then sees the controller's heartbeat go silent and stops
the job, so no container keeps running for a controller that can no longer stop it.
"""

from __future__ import annotations

import contextlib
import gc
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from sandbox.container.engine import DockerEngine
from sandbox.contract.resolve import Overrides
from sandbox.results.models import Status, TestResult
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")

ENGINE_SOCKET = "/var/run/docker.sock"
HEARTBEAT_TIMEOUT_S = 6


class SocketProxy:
    """Forwards a unix socket to the engine's until :meth:`cut`, which is at once total:
    nothing is forwarded after it, on old connections or new ones."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._open = True
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(32)
        self._connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._open:
                client.close()
                continue
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(ENGINE_SOCKET)
            self._connections += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while (chunk := source.recv(65536)) and self._open:
                target.sendall(chunk)

    def cut(self) -> None:
        self._open = False
        self._server.close()
        for connection in self._connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


@pytest.fixture
def proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SocketProxy]:
    if not Path(ENGINE_SOCKET).exists():
        pytest.skip("the engine is not on a local unix socket")
    proxy = SocketProxy(tmp_path / "engine.sock")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{proxy.path}")
    monkeypatch.setenv("SANDBOX_HEARTBEAT_TIMEOUT_S", str(HEARTBEAT_TIMEOUT_S))
    yield proxy
    proxy.cut()


def test_losing_the_engine_mid_run_is_an_error_and_the_job_stops_itself(
    proxy: SocketProxy, tmp_path: Path
) -> None:
    # docker-py leaves the socket of a refused connection unclosed, and the lost engine
    # refuses every call of the run's last steps: those sockets are expected here, and
    # only here. They are all collected before the test ends.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            _lose_the_engine_mid_run(proxy, tmp_path)
        finally:
            _wait_for_threads("sandbox-")
            gc.collect()


def _lose_the_engine_mid_run(proxy: SocketProxy, tmp_path: Path) -> None:
    direct = docker.DockerClient(base_url=f"unix://{ENGINE_SOCKET}")
    script = Path(__file__).parent / "scripts" / "graceful.py"
    request = RunRequest(
        script=str(script), workspace=tmp_path / "ws", overrides=Overrides(max_runtime_s=300)
    )
    outcome: list[TestResult] = []
    engine = DockerEngine.connect()
    runner = threading.Thread(target=lambda: outcome.append(run_script(request, engine)))
    runner.start()
    label = {"label": "sandbox.script=graceful"}
    container = _wait_for(lambda: next(iter(direct.containers.list(filters=label)), None))
    proxy.cut()
    cut_at = time.monotonic()
    runner.join(timeout=60)
    try:
        assert not runner.is_alive(), "the run did not end after the engine went away"
        result = outcome[0]
        assert result.status is Status.ERROR
        assert "engine" in (result.error_message or "")
        container.wait(timeout=HEARTBEAT_TIMEOUT_S + 30)
        stopped_after_s = time.monotonic() - cut_at
        container.reload()
        assert container.status == "exited"
        assert stopped_after_s < HEARTBEAT_TIMEOUT_S + 15
        marker = Path(result.run_dir) / "outputs" / "result" / "sigterm.marker"
        assert marker.read_text() == "got SIGTERM\n"
    finally:
        engine.close()
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)
        direct.close()


def _wait_for_threads(prefix: str, timeout_s: float = 10) -> None:
    """The run's stats, log and heartbeat threads end once their sockets are gone."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not [t for t in threading.enumerate() if t.name.startswith(prefix)]:
            return
        time.sleep(0.1)


def _wait_for(find: Any, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = find()
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError("the container did not start")
