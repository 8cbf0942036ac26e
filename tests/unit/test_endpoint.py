"""Which engine the tool connects to: DOCKER_HOST, then Docker contexts, as the CLI does."""

from __future__ import annotations

import gc
import hashlib
import json
from pathlib import Path

import pytest

from sandbox.container.endpoint import DEFAULT_SOCKET, resolve_endpoint
from sandbox.errors import EngineUnavailableError


def _context(config_dir: Path, name: str, host: str, *, tls: bool = False) -> None:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config_dir / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    endpoints = {"docker": {"Host": host, "SkipTLSVerify": False}}
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": endpoints}))
    if tls:
        material = config_dir / "contexts" / "tls" / digest / "docker"
        material.mkdir(parents=True)
        for file in ("ca.pem", "cert.pem", "key.pem"):
            (material / file).write_text("pem")


def test_docker_host_wins_over_every_context(tmp_path: Path) -> None:
    _context(tmp_path / ".docker", "remote", "tcp://10.0.0.1:2376")
    env = {"DOCKER_HOST": "tcp://127.0.0.1:2375", "DOCKER_CONTEXT": "remote"}
    endpoint = resolve_endpoint(env, home=tmp_path)
    assert (endpoint.host, endpoint.source) == ("tcp://127.0.0.1:2375", "DOCKER_HOST")
    assert endpoint.from_environment and not endpoint.is_local_socket


def test_docker_context_names_the_context(tmp_path: Path) -> None:
    _context(tmp_path / ".docker", "colima", "unix:///home/u/.colima/docker.sock")
    endpoint = resolve_endpoint({"DOCKER_CONTEXT": "colima"}, home=tmp_path)
    assert endpoint.host == "unix:///home/u/.colima/docker.sock"
    assert endpoint.context == "colima" and "DOCKER_CONTEXT" in endpoint.source
    assert endpoint.is_local_socket and endpoint.tls is None


def test_current_context_of_the_config_in_docker_config(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    _context(config, "ci", "tcp://docker:2376", tls=True)
    config.joinpath("config.json").write_text(json.dumps({"currentContext": "ci"}))
    endpoint = resolve_endpoint({"DOCKER_CONFIG": str(config)}, home=tmp_path / "nohome")
    assert endpoint.host == "tcp://docker:2376"
    assert endpoint.source == f"context 'ci' from currentContext in {config / 'config.json'}"
    assert endpoint.tls is not None and endpoint.tls.verify
    assert (
        endpoint.tls.ca_cert
        == config
        / "contexts"
        / "tls"
        / endpoint.tls.ca_cert.parent.parent.name
        / "docker"
        / "ca.pem"
    )


def test_the_default_context_and_no_config_mean_the_default_socket(tmp_path: Path) -> None:
    assert resolve_endpoint({}, home=tmp_path).host == DEFAULT_SOCKET
    endpoint = resolve_endpoint({"DOCKER_CONTEXT": "default"}, home=tmp_path)
    assert (endpoint.host, endpoint.source) == (DEFAULT_SOCKET, "the default socket")


def test_an_unknown_context_is_named(tmp_path: Path) -> None:
    with pytest.raises(
        EngineUnavailableError, match=r"context 'gone' \(from DOCKER_CONTEXT\) does not exist"
    ):
        resolve_endpoint({"DOCKER_CONTEXT": "gone"}, home=tmp_path)


# docker-py leaves the socket of a refused connection to the garbage collector.
_REFUSED_SOCKET = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@_REFUSED_SOCKET
def test_the_no_engine_message_names_the_endpoint_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.container.engine import DockerEngine

    socket = tmp_path / "nothing.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    with pytest.raises(EngineUnavailableError) as caught:
        DockerEngine.connect()
    message = str(caught.value)
    del caught
    gc.collect()
    assert f"no Docker engine answers at unix://{socket} (from DOCKER_HOST)" in message


@_REFUSED_SOCKET
def test_a_context_endpoint_is_connected_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.container.engine import DockerEngine

    socket = tmp_path / "ctx.sock"
    _context(tmp_path / "cfg", "elsewhere", f"unix://{socket}")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    monkeypatch.setenv("DOCKER_CONTEXT", "elsewhere")
    with pytest.raises(EngineUnavailableError) as caught:
        DockerEngine.connect()
    message = str(caught.value)
    del caught
    gc.collect()
    assert f"at unix://{socket} (from context 'elsewhere' from DOCKER_CONTEXT)" in message
