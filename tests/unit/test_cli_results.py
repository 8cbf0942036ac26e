"""The result commands of the CLI (list-results, show-result, clean-workspace, report) and
test-script's usage errors with several scripts; no Docker engine is asked for."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from junitparser import JUnitXml
from results_factory import at, make_result, new_workspace, run_id_at, store

from sandbox.cli import cli
from sandbox.cli.results import STATUS_CHOICES
from sandbox.constants import WORKSPACE_LABEL
from sandbox.container.engine import DockerEngine
from sandbox.container.seam import ContainerInfo
from sandbox.errors import EngineUnavailableError
from sandbox.results.controller import Controller
from sandbox.results.models import Status
from sandbox.results.workspace import Workspace
from tests import fakes

COLOUR_SGR = re.compile(r"\x1b\[[0-9;]*(3[0-9]|9[0-7])[0-9;]*m")


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """These commands work without an engine; cleaning says it could not check containers."""

    def unavailable(cls: type[DockerEngine]) -> DockerEngine:
        raise EngineUnavailableError("no socket in unit tests")

    monkeypatch.setattr(DockerEngine, "connect", classmethod(unavailable))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("SANDBOX_WORKSPACE_DIR", raising=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = new_workspace(tmp_path / "ws")
    store(root, make_result("prep", when=at(30)))
    store(root, make_result("train", Status.FAIL, when=at(20)))
    store(root, make_result("calib", Status.OOM, when=at(10), peak_memory_mb=None))
    return root


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def ids(workspace: Path) -> dict[str, str]:
    return {path.name.split("-")[3]: path.name for path in (workspace / "runs").iterdir()}


def test_status_choices_are_the_status_values() -> None:
    assert tuple(status.value for status in Status) == STATUS_CHOICES


def test_list_results_shows_a_table_oldest_first(workspace: Path) -> None:
    result = invoke("list-results", "--workspace-dir", str(workspace))
    assert result.exit_code == 0, result.output
    out = result.stdout
    for header in ("run id", "when", "script", "status", "wall time", "peak memory", "image"):
        assert header in out
    assert out.index("prep") < out.index("train") < out.index("calib")
    for run_id in ids(workspace).values():
        assert run_id in out  # whole ids, ready to copy into show-result
    assert "120.0 MiB" in out and "sklearn-1.2:0123456789ab" in out


def test_list_results_filters_and_json(workspace: Path) -> None:
    args = ["--workspace-dir", str(workspace), "--output-format", "json"]
    failed = json.loads(invoke("list-results", *args, "--status", "fail").stdout)["results"]
    assert [r["script_name"] for r in failed] == ["train"]
    both = invoke("list-results", *args, "--status", "FAIL", "--status", "OOM", "--last", "1")
    assert [r["script_name"] for r in json.loads(both.stdout)["results"]] == ["calib"]
    by_name = json.loads(invoke("list-results", *args, "--script", "pr*").stdout)["results"]
    assert [r["status"] for r in by_name] == ["PASS"]
    assert invoke("list-results", *args, "--status", "MAYBE").exit_code == 2


def test_list_results_counts_unreadable_runs_on_stderr(workspace: Path) -> None:
    broken = store(workspace, make_result("broken", when=at(5)))
    (broken / "result.json").write_text("{")
    result = invoke("list-results", "--workspace-dir", str(workspace), "--output-format", "json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["results"]) == 3
    assert "1 run folder(s) skipped" in result.stderr and broken.name in result.stderr


def test_list_results_of_an_empty_or_missing_workspace(tmp_path: Path) -> None:
    result = invoke("list-results", "--workspace-dir", str(tmp_path / "none"))
    assert result.exit_code == 0 and "no results" in result.stdout
    as_json = invoke("list-results", "--workspace-dir", str(tmp_path), "--output-format", "json")
    assert json.loads(as_json.stdout)["results"] == []


def test_workspace_comes_from_the_environment(workspace: Path) -> None:
    result = invoke(
        "list-results", "--output-format", "json", env={"SANDBOX_WORKSPACE_DIR": str(workspace)}
    )
    assert len(json.loads(result.stdout)["results"]) == 3


def test_show_result_by_prefix_text_and_json(workspace: Path) -> None:
    run_id = ids(workspace)["train"]
    text = invoke("show-result", run_id[:24], "--workspace-dir", str(workspace))
    assert text.exit_code == 0, text.output
    assert f"run {run_id}" in text.stdout
    assert "FAIL train" in text.stdout and "ValueError: boom" in text.stdout
    assert "a.csv" in text.stdout
    as_json = invoke(
        "show-result", run_id, "--workspace-dir", str(workspace), "--output-format", "json"
    )
    (shown,) = json.loads(as_json.stdout)["results"]
    assert shown["run_id"] == run_id


def test_show_result_of_a_passing_run_shows_its_stderr_too(workspace: Path) -> None:
    passing = store(workspace, make_result("noisy", stderr_tail=["warning: deprecated thing"]))
    result = invoke("show-result", passing.name, "--workspace-dir", str(workspace))
    assert "warning: deprecated thing" in result.stdout


def test_show_result_of_an_unknown_id_exits_2_naming_it(workspace: Path) -> None:
    result = invoke("show-result", "nope-123", "--workspace-dir", str(workspace))
    assert result.exit_code == 2
    assert "'nope-123'" in result.stderr and "no such run" in result.stderr
    ambiguous = invoke("show-result", "2", "--workspace-dir", str(workspace))
    assert ambiguous.exit_code == 2 and "ambiguous" in ambiguous.stderr


def test_report_writes_each_format(workspace: Path, tmp_path: Path) -> None:
    run_id = ids(workspace)["train"]
    for report_format, name in (("html", "r.html"), ("junit", "r.xml"), ("json", "r.json")):
        target = tmp_path / "reports" / name
        result = invoke(
            "report", run_id[:24], "--format", report_format, "-o", str(target),
            "--workspace-dir", str(workspace),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert str(target) in result.stdout
    assert "<!DOCTYPE html>" in (tmp_path / "reports" / "r.html").read_text()
    (suite,) = list(JUnitXml.fromfile(str(tmp_path / "reports" / "r.xml")))
    assert suite.failures == 1
    assert json.loads((tmp_path / "reports" / "r.json").read_text())["run_id"] == run_id
    assert not list((tmp_path / "reports").glob(".*.tmp"))  # written atomically


def test_report_of_an_unknown_run_exits_2(workspace: Path, tmp_path: Path) -> None:
    result = invoke(
        "report", "zzz", "-o", str(tmp_path / "r.html"), "--workspace-dir", str(workspace)
    )
    assert result.exit_code == 2 and "'zzz'" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_clean_workspace_refuses_a_folder_that_is_not_one(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep")
    result = invoke("clean-workspace", "--workspace-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "not a sandbox workspace" in result.stderr
    assert (tmp_path / "precious.txt").exists()


def test_clean_workspace_dry_run_then_keep(workspace: Path) -> None:
    run_ids = ids(workspace)
    dry = invoke("clean-workspace", "--workspace-dir", str(workspace), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"would remove run {run_ids['prep']}" in dry.stdout
    assert "no Docker engine answered" in dry.stdout
    assert len(ids(workspace)) == 3
    kept = invoke("clean-workspace", "--workspace-dir", str(workspace), "--keep", "1")
    assert kept.exit_code == 0
    assert f"removed run {run_ids['prep']}" in kept.stdout
    assert set(ids(workspace)) == {"calib"}


def test_clean_workspace_says_which_runs_it_skipped(workspace: Path) -> None:
    unfinished = workspace / "runs" / run_id_at(at(5), "going")
    unfinished.mkdir()
    result = invoke("clean-workspace", "--workspace-dir", str(workspace), env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert f"skipped run {unfinished.name}: no result yet, started 5 min ago" in result.stdout
    assert "removed 3 run folder(s)" in result.stdout
    assert "skipped 1 that may still be running" in result.stdout
    assert unfinished.is_dir()


def test_clean_workspace_with_an_engine_removes_labelled_containers(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace_id = Workspace(workspace).identity()
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    stopped = [
        ContainerInfo(name, "exited", {WORKSPACE_LABEL: ws_id}, an_hour_ago, an_hour_ago)
        for name, ws_id in (("c1", workspace_id), ("c2", workspace_id), ("other", "elsewhere"))
    ]
    engine = fakes.FakeEngine(listed=stopped)

    monkeypatch.setattr(DockerEngine, "connect", classmethod(lambda cls: engine))
    result = invoke("clean-workspace", "--workspace-dir", str(workspace), "--older-than", "15m")
    assert result.exit_code == 0, result.output
    assert engine.removed_ids == ["c1", "c2"] and [c.id for c in engine.listed] == ["other"]
    assert "removed 2 leftover container(s) of this workspace" in result.stdout
    assert set(ids(workspace)) == {"calib"}


def test_clean_workspace_rejects_a_bad_age(workspace: Path) -> None:
    result = invoke("clean-workspace", "--workspace-dir", str(workspace), "--older-than", "soon")
    assert result.exit_code == 2 and "'soon'" in result.stderr


def test_test_script_without_scripts_is_a_usage_error() -> None:
    result = invoke("test-script")
    assert result.exit_code == 2 and "no script given" in result.stderr


def test_a_glob_matching_nothing_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("test-script", str(tmp_path / "*.py"), "--scripts-dir", str(tmp_path))
    assert result.exit_code == 2 and "matches no script" in result.stderr


def test_all_in_an_empty_scripts_dir_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("test-script", "--all", "--scripts-dir", str(tmp_path))
    assert result.exit_code == 2 and "no *.py script" in result.stderr


def test_spec_with_several_scripts_is_a_usage_error(tmp_path: Path) -> None:
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("print(1)\n")
    (tmp_path / "spec.yaml").write_text("script: a.py\n")
    result = invoke("test-script", str(tmp_path / "*.py"), "--spec", str(tmp_path / "spec.yaml"))
    assert result.exit_code == 2 and "--spec" in result.stderr


def test_several_scripts_with_a_problem_name_each_before_any_engine(tmp_path: Path) -> None:
    result = invoke("test-script", "missing_one", "missing_two", "--scripts-dir", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert "'missing_one'" in result.stderr and "'missing_two'" in result.stderr
    assert "2 script(s) cannot run" in result.stderr


def colour_run(workspace: Path, env: dict[str, Any]) -> str:
    return invoke("list-results", "--workspace-dir", str(workspace), env=env).stdout


def test_colours_only_on_a_terminal_and_never_with_no_color(workspace: Path) -> None:
    assert "\x1b[" not in colour_run(workspace, {})  # CliRunner's stdout is not a terminal
    assert COLOUR_SGR.search(colour_run(workspace, {"FORCE_COLOR": "1"}))  # the check can fail
    assert not COLOUR_SGR.search(colour_run(workspace, {"FORCE_COLOR": "1", "NO_COLOR": "1"}))


def test_clean_workspace_through_a_symlinked_runs_folder_exits_2_and_deletes_nothing(
    tmp_path: Path,
) -> None:
    workspace = new_workspace(tmp_path / "ws")
    elsewhere = tmp_path / "elsewhere"
    victim = store(new_workspace(elsewhere), make_result("precious", when=at(90)))
    (workspace / "runs").rmdir()
    (workspace / "runs").symlink_to(elsewhere / "runs", target_is_directory=True)

    result = invoke("clean-workspace", "--workspace-dir", str(workspace), env={"NO_COLOR": "1"})

    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert "runs/ is a symbolic link" in result.stderr
    assert (victim / "result.json").is_file()


def test_list_results_shows_a_run_whose_controller_died_as_interrupted(workspace: Path) -> None:
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    orphan = workspace / "runs" / run_id_at(at(1), "orphan")
    orphan.mkdir()
    here = Controller.current()
    (orphan / "controller.json").write_text(
        json.dumps({"host": here.host, "pid": gone.pid, "started": "1"})
    )

    result = invoke("list-results", "--workspace-dir", str(workspace), "--output-format", "json")

    assert result.exit_code == 0, result.output
    listed = {run["run_id"]: run for run in json.loads(result.stdout)["results"]}
    assert listed[orphan.name]["status"] == "ERROR"
    assert listed[orphan.name]["error_message"] == (
        f"interrupted: its controller (pid {gone.pid}) died before it ended"
    )
