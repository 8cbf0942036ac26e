"""A run through an engine that does not see this machine's files: copies, not mounts.

The second engine (see ``second_engine.py``) runs in its own mount namespace with a
private ``/tmp``, where this session's workspaces live: bind mounts cannot work there.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from second_engine import SecondEngine, SecondEngineUnavailable, second_engine

from sandbox.container.engine import DockerEngine
from sandbox.contract.resolve import Overrides
from sandbox.results.models import Status, TestResult
from sandbox.runner import RunRequest, run_script

if TYPE_CHECKING:
    from sandbox.container.images import ResolvedImage

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "tabular_preprocessing"
OVERRIDES = Overrides(
    image="sklearn-1.2", arguments={"job_type": "training"}, environment={"LABEL_FIELD": "label"}
)


@pytest.fixture(scope="module")
def remote(offline_image: ResolvedImage) -> Iterator[SecondEngine]:
    """The second engine, holding the offline image; skipped locally when this machine
    cannot start one, never in CI."""
    try:
        with second_engine(offline_image.reference, offline_image.image_id) as started:
            yield started
    except SecondEngineUnavailable as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI needs the second Docker engine: {exc}")
        pytest.skip(f"cannot start a second dockerd here: {exc}")


def _run(workspace: Path, engine: DockerEngine | None = None) -> TestResult:
    request = RunRequest(
        script=SCRIPT,
        scripts_dir=REPO_ROOT / "examples" / "scripts",
        overrides=OVERRIDES,
        workspace=workspace,
    )
    return run_script(request, engine)


def _hashes(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_the_second_engine_does_not_see_this_machines_files(
    remote: SecondEngine, engine: DockerEngine, offline_image: ResolvedImage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    assert engine.shares_files(offline_image.reference) is True
    monkeypatch.setenv("DOCKER_HOST", remote.host)
    with DockerEngine.connect() as other:
        assert other.endpoint is not None and other.endpoint.host == remote.host
        assert other.shares_files(offline_image.reference) is False


def test_a_run_through_it_copies_and_gives_the_same_outputs_as_a_local_run(
    remote: SecondEngine, engine: DockerEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SANDBOX_COPY_MODE", raising=False)
    local = _run(tmp_path / "local", engine)
    monkeypatch.setenv("DOCKER_HOST", remote.host)
    copied = _run(tmp_path / "remote")

    assert (local.status, copied.status) == (Status.PASS, Status.PASS), copied.error_message
    copy_lines = [line for line in copied.findings if "copied in" in line]
    assert len(copy_lines) == 1 and "copied back" in copy_lines[0]
    assert not any("copied in" in line for line in local.findings)
    assert copied.run_dir is not None and local.run_dir is not None
    local_outputs = _hashes(Path(local.run_dir) / "outputs")
    assert local_outputs, "the script wrote no output"
    assert _hashes(Path(copied.run_dir) / "outputs") == local_outputs
    # The supervisor's exact figures came back too.
    assert local.execution is not None and copied.execution is not None
    assert local.execution.resources is not None and copied.execution.resources is not None
    assert copied.execution.resources.peak_memory_mb is not None
    with DockerEngine.connect() as other:
        # Every container of the session carries the session's label (see conftest).
        assert other.count_labelled(os.environ["SANDBOX_EXTRA_LABELS"]) == 0


def test_forced_copy_mode_brings_back_the_exit_message_and_the_same_verdict(
    engine: DockerEngine, offline_image: ResolvedImage, tmp_path: Path
) -> None:
    results = {}
    for mode in ("bind", "copy"):
        request = RunRequest(
            script="exit_message",
            scripts_dir=Path(__file__).parent / "scripts",
            workspace=tmp_path / mode,
            copy_mode=mode,
        )
        results[mode] = run_script(request, engine)
    bind, copy = results["bind"], results["copy"]
    assert (bind.status, copy.status) == (Status.FAIL, Status.FAIL)
    assert copy.exit_code == bind.exit_code == 2
    assert copy.exit_message is not None and copy.exit_message == bind.exit_message
    assert copy.error_message == bind.error_message
    assert any("copied back" in line for line in copy.findings)
    assert not any("copied back" in line for line in bind.findings)
