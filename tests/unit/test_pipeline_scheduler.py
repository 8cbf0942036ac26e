"""The pipeline scheduler (sandbox.pipeline) with a fake runner: skips, reuse, errors, Ctrl-C."""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from interrupt_fakes import FakeDocker, FakeEngine, Interrupt, patch_runs

from sandbox.container.seam import Engine
from sandbox.errors import ImageNotFoundError, UsageError
from sandbox.pipeline import scheduler
from sandbox.pipeline.group import INTERRUPTED_REASON
from sandbox.pipeline.run import PipelineRequest, latest_pipeline_run, run_pipeline
from sandbox.results.models import Status, TestResult
from sandbox.results.workspace import Workspace
from sandbox.runner import RunRequest

SCRIPT = """\
INPUT_PATH = "/opt/ml/processing/input/data"
OUTPUT_PATH = "/opt/ml/processing/output/data"
"""
_COUNTER = itertools.count()


def fake_run_script(request: RunRequest, engine: Any) -> TestResult:
    """Writes outputs/data/part.csv in a new run folder; fail.py fails, error.py cannot start."""
    name = Path(request.script).stem
    if name == "error":
        raise ImageNotFoundError("nope:1", "no registry")
    run_dir = Path(request.workspace) / "runs" / f"run-{next(_COUNTER):04d}-{name}"
    (run_dir / "outputs" / "data").mkdir(parents=True)
    if name != "fail":
        (run_dir / "outputs" / "data" / "part.csv").write_text("a,label\n1,0\n")
    return TestResult(
        run_id=run_dir.name,
        script_name=name,
        script_path=request.script,
        kind="processing",
        call_style="entrypoint",
        status=Status.FAIL if name == "fail" else Status.PASS,
        execution_time=1.0,
        memory_usage=None,
        inputs={channel: str(path) for channel, path in request.inputs.items()},
        run_dir=str(run_dir),
    )


@pytest.fixture(autouse=True)
def fake_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_runs(monkeypatch, fake_run_script)
    monkeypatch.setattr(scheduler, "ensure_image", lambda engine, image, on_line=None: None)


def _pipeline(tmp_path: Path, steps: dict[str, str], edges: list[tuple[str, str]]) -> Path:
    for script in set(steps.values()):
        (tmp_path / f"{script}.py").write_text(SCRIPT, encoding="utf-8")
    document = {
        "steps": [{"name": name, "script": script} for name, script in steps.items()],
        "edges": [{"from": source, "to": target} for source, target in edges],
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _run(path: Path, **kwargs: Any) -> Any:
    return _run_on(path, FakeEngine(FakeDocker()), **kwargs)


def _run_on(path: Path, engine: Engine, **kwargs: Any) -> Any:
    request = PipelineRequest(pipeline_file=path, workspace=path.parent / "ws", **kwargs)
    return run_pipeline(request, engine=engine)


CHAIN = [("a.data", "b.data"), ("b.data", "c.data")]


def test_a_failure_skips_every_descendant_naming_the_failed_step(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, {"a": "fail", "b": "ok", "c": "ok", "side": "ok"}, CHAIN)
    result = _run(path, jobs=3)
    assert [s.status for s in result.steps] == [
        Status.FAIL,
        Status.SKIPPED,
        Status.SKIPPED,
        Status.PASS,
    ]
    assert result.step("b").reason == "upstream step a ended FAIL"
    assert result.step("c").reason == "upstream step a ended FAIL"
    assert result.status is Status.FAIL
    assert [e.message for e in result.edges] == ["not checked: upstream step a ended FAIL"] * 2


def test_a_skipped_step_shows_no_secret_value(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, {"a": "fail", "b": "ok"}, [("a.data", "b.data")])
    document = yaml.safe_load(path.read_text())
    document["steps"][1]["environment"] = {"DB_PASSWORD": "hunter22", "MODE": "x"}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    result = _run(path)
    skipped = result.step("b")
    assert skipped.status is Status.SKIPPED
    assert skipped.result.spec["environment"] == {"DB_PASSWORD": "***", "MODE": "x"}
    assert "hunter22" not in json.dumps(result.to_json_dict())


def test_a_step_that_cannot_start_is_an_error_result(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, {"a": "error", "b": "ok"}, [("a.data", "b.data")])
    result = _run(path)
    assert result.step("a").status is Status.ERROR
    assert "nope:1" in (result.step("a").reason or "")
    assert result.step("b").reason == "upstream step a ended ERROR"


def test_each_fed_input_is_the_upstream_output_folder(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, {"a": "ok", "b": "ok", "c": "ok"}, CHAIN)
    result = _run(path)
    assert result.status is Status.PASS
    fed = Path(result.step("a").run_dir) / "outputs" / "data"
    assert result.step("b").result.inputs == {"data": str(fed)}
    assert result.critical_path == ["a", "b", "c"] and result.critical_path_s == 3.0
    saved = json.loads((Path(result.run_dir) / "pipeline_result.json").read_text())
    assert [step["run_dir"] for step in saved["steps"]] == [s.run_dir for s in result.steps]


def test_from_reuses_the_latest_run_of_the_same_file(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, {"a": "ok", "b": "ok", "c": "ok"}, CHAIN)
    first = _run(path)
    second = _run(path, from_step="b")
    assert latest_pipeline_run(Workspace(tmp_path / "ws"), path) == second
    assert second.step("a").reused_from == first.pipeline_run_id
    assert second.step("a").run_dir == first.step("a").run_dir
    assert not second.step("a").selected and second.step("b").selected
    assert second.step("c").run_dir != first.step("c").run_dir
    assert second.critical_path == ["b", "c"]
    third = _run(path, only_step="c")
    assert third.step("a").reused_from == first.pipeline_run_id
    assert third.step("b").reused_from == second.pipeline_run_id


def test_from_without_an_earlier_run_is_a_clear_error(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, {"a": "ok", "b": "ok"}, [("a.data", "b.data")])
    with pytest.raises(UsageError) as caught:
        _run(path, from_step="b")
    assert str(caught.value).startswith(f"--from b: no earlier run of {path}")
    assert str(caught.value).endswith("run the whole pipeline first")


def test_from_after_a_failed_upstream_is_a_clear_error(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, {"a": "fail", "b": "ok"}, [("a.data", "b.data")])
    first = _run(path)
    with pytest.raises(UsageError) as caught:
        _run(path, only_step="b")
    assert str(caught.value) == (
        f"--only b: step a is FAIL in the latest pipeline run {first.pipeline_run_id}; "
        "its outputs cannot be reused (run it again)"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"from_step": "a", "only_step": "b"}, "--from and --only cannot be used together"),
        ({"only_step": "zz"}, "--only zz: no such step (steps: a, b)"),
    ],
)
def test_bad_selections(tmp_path: Path, options: dict[str, str], message: str) -> None:
    path = _pipeline(tmp_path, {"a": "ok", "b": "ok"}, [("a.data", "b.data")])
    with pytest.raises(UsageError) as caught:
        _run(path, **options)
    assert str(caught.value) == message


def test_only_a_source_step_without_an_earlier_run_leaves_the_rest_unselected(
    tmp_path: Path,
) -> None:
    path = _pipeline(tmp_path, {"a": "ok", "b": "ok"}, [("a.data", "b.data")])
    result = _run(path, only_step="a")
    assert result.status is Status.PASS
    assert result.step("b").status is Status.SKIPPED and not result.step("b").selected
    assert result.step("b").reason == "not selected by --only"


def test_a_real_input_folder_feeds_a_channel_no_edge_feeds(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, {"a": "ok"}, [])
    (tmp_path / "real").mkdir()
    document = yaml.safe_load(path.read_text())
    document["steps"][0]["inputs"] = {"data": "real"}
    path.write_text(yaml.safe_dump(document))
    result = _run(path)
    assert result.step("a").result.inputs == {"data": str((tmp_path / "real").resolve())}


def test_ctrl_c_removes_only_this_runs_containers_and_returns_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _pipeline(tmp_path, {"sleep": "sleeper", "data": "prep"}, [])
    workspace = Workspace(tmp_path / "ws").ensure().root
    docker = FakeDocker()
    others = docker.start({"sandbox.pipeline-run": "0123456789ab", "sandbox.run-id": "theirs"})
    fake = Interrupt(docker, workspace)
    engine = FakeEngine(docker)
    patch_runs(monkeypatch, fake.run_script)
    monkeypatch.setattr(scheduler, "wait_interruptibly", fake.wait)

    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _run_on(path, engine, jobs=2)
    assert time.monotonic() - began < 3  # step data is still generating its data

    (label,) = set(engine.removed)
    assert re.fullmatch(r"sandbox\.pipeline-run=[0-9a-f]{12}", label)
    assert docker.running("sandbox.pipeline-run") == ["0123456789ab"] and not others.is_set()
    stored = json.loads((workspace / "runs" / "run-sleeper" / "result.json").read_text())
    assert (stored["status"], stored["error_message"]) == ("ERROR", INTERRUPTED_REASON)
    fake.release.set()
    deadline = time.monotonic() + 5
    while not fake.cancelled and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.cancelled == ["prep"] and len(docker.containers) == 2
