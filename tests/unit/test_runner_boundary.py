"""The runner's one error boundary (sandbox.runner): bad input stops a run before its
folder exists; any error after that leaves the folder a saved ERROR result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox import runner
from sandbox.container.images import ResolvedImage
from sandbox.contract.resolve import find_script, resolve_script
from sandbox.errors import EngineUnavailableError, UsageError
from sandbox.results.models import Status
from sandbox.runner import RunRequest, run_script, run_to_result
from tests.fakes import FakeEngine

SCRIPT = """\
OUTPUT = "/opt/ml/processing/output/result"
if __name__ == "__main__":
    open(OUTPUT + "/done.txt", "w").write("ok")
"""


@pytest.fixture
def scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "prep.py").write_text(SCRIPT)
    image = ResolvedImage("sandbox/fake:1", "sha256:fake", None, built_now=False)
    monkeypatch.setattr(runner, "ensure_image", lambda *_args, **_kwargs: image)
    monkeypatch.setattr(runner, "hand_over", lambda *_args, **_kwargs: None)
    return folder


def _engine_lost(_job: Any, _request: RunRequest) -> None:
    raise EngineUnavailableError("connection refused")


def _saved_results(workspace: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in workspace.glob("runs/*/result.json")]


def test_an_error_after_the_run_folder_exists_is_saved_there_and_raised_with_it(
    scripts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "_execute", _engine_lost)
    workspace = tmp_path / "ws"
    request = RunRequest(script="prep", scripts_dir=scripts, workspace=workspace)

    with pytest.raises(EngineUnavailableError) as caught:
        run_script(request, FakeEngine())

    (saved,) = _saved_results(workspace)
    assert saved["status"] == "ERROR"
    assert saved["error_message"].startswith("no Docker engine answers at ")
    assert "(connection refused)" in saved["error_message"]
    assert saved["image"] == "sandbox/fake:1" and saved["script_name"] == "prep"
    assert caught.value.result is not None
    assert caught.value.result.run_id == saved["run_id"] != ""


def test_run_to_result_returns_the_saved_result_and_closes_the_engine_it_opened(
    scripts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "_execute", _engine_lost)
    workspace = tmp_path / "ws"
    request = RunRequest(script="prep", scripts_dir=scripts, workspace=workspace)
    resolved = resolve_script(find_script("prep", scripts), None, request.overrides)
    engine = FakeEngine()

    result = run_to_result(request, resolved, connect=lambda: engine)

    (saved,) = _saved_results(workspace)
    assert (result.status, result.run_id) == (Status.ERROR, saved["run_id"])
    assert engine.closed


def test_an_unexpected_exception_also_leaves_a_saved_result(
    scripts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_job: Any, _request: RunRequest) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(runner, "_execute", broken)
    workspace = tmp_path / "ws"
    with pytest.raises(ValueError, match="a bug"):
        run_script(
            RunRequest(script="prep", scripts_dir=scripts, workspace=workspace), FakeEngine()
        )

    (saved,) = _saved_results(workspace)
    assert (saved["status"], saved["error_message"]) == ("ERROR", "ValueError: a bug")


def test_a_usage_error_is_raised_before_the_run_folder_exists(
    scripts: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    request = RunRequest(
        script="prep", scripts_dir=scripts, workspace=workspace, source_dir=elsewhere
    )

    with pytest.raises(UsageError, match="--source-dir"):
        run_script(request, FakeEngine())

    assert not list(workspace.glob("runs/*"))
