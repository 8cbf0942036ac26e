"""The docker-py seam (sandbox.container.engine): what every container is created with."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from sandbox.constants import DEFAULT_PIDS_LIMIT
from sandbox.container import engine as engine_module
from sandbox.container.engine import _create_kwargs
from sandbox.container.seam import ContainerRequest, Mount


def _request(**fields: object) -> ContainerRequest:
    return ContainerRequest(
        image="img",
        entrypoint=["python3"],
        command=None,
        environment={},
        mounts=[Mount(Path("/tmp"), "/data")],
        labels={"sandbox.tool": "sandbox"},
        **fields,  # type: ignore[arg-type]
    )


def test_every_container_has_a_pids_limit() -> None:
    assert _create_kwargs(_request())["pids_limit"] == DEFAULT_PIDS_LIMIT
    assert _create_kwargs(_request(pids_limit=64))["pids_limit"] == 64


def test_every_container_can_make_no_device_node_and_gain_no_privilege() -> None:
    kwargs = _create_kwargs(_request(user="0:0"))
    assert kwargs["cap_drop"] == ["MKNOD"]
    assert kwargs["security_opt"] == ["no-new-privileges"]


class _ProbedEngine(engine_module.DockerEngine):
    """A docker-py engine whose probe is counted instead of run."""

    def __init__(self, answer: bool) -> None:
        super().__init__(client=None)
        self.answer = answer
        self.probes = 0

    def _info(self) -> dict[str, Any]:
        return {"ID": "engine-1"}

    def _probe_shared_files(self, image: str) -> bool:
        self.probes += 1
        return self.answer


def test_the_probe_answer_is_kept_for_later_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(engine_module, "_SHARES_FILES", {})
    first = _ProbedEngine(answer=False)
    assert first.shares_files("img") is False and first.probes == 1
    monkeypatch.setattr(engine_module, "_SHARES_FILES", {})  # as a new process
    second = _ProbedEngine(answer=True)
    assert second.shares_files("img") is False and second.probes == 0
    assert oct((tmp_path / "sandbox").stat().st_mode & 0o777) == "0o700"


def test_a_linked_answers_file_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(engine_module, "_SHARES_FILES", {})
    planted = tmp_path / "planted.json"
    probe = _ProbedEngine(answer=True)
    key = probe._engine_key()
    planted.write_text(json.dumps({key: False}))
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "engine-files.json").symlink_to(planted)
    assert probe.shares_files("img") is True and probe.probes == 1


def test_a_cache_file_that_is_a_fifo_or_oversized_reads_as_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.container.usercache import read_cached, write_cached

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fifo = tmp_path / "answers.json"
    os.mkfifo(fifo)
    assert read_cached(fifo) is None  # returns at once: a FIFO is not read
    big = tmp_path / "big.json"
    big.write_text("[" + "0," * (9 * 1024 * 1024) + "0]")
    assert read_cached(big) is None
    write_cached(tmp_path / "ok.json", {"a": 1})
    assert read_cached(tmp_path / "ok.json") == {"a": 1}
