"""What a newcomer sees in a terminal: tables that fit 80 and 120 columns with run ids and
tags whole, a reason on every -q line that is not PASS, hints that run when pasted, logs
at one level, and completion of script, profile and run names (no Docker engine)."""

from __future__ import annotations

import io
import logging
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from results_factory import at, make_result, new_workspace, store
from rich.console import Console

from sandbox.cli import cli
from sandbox.cli.completion import complete_profiles, complete_run_ids, complete_scripts
from sandbox.container.engine import DockerEngine
from sandbox.container.images import ProfileStatus
from sandbox.errors import EngineUnavailableError
from sandbox.report.tables import render_batch_summary
from sandbox.report.text import render_verdict
from sandbox.results.models import Status

WIDTHS = (80, 120)
LONG_REASON = "exit code 1: KeyError: 'label' is not among the columns read from train.csv"


def console(width: int) -> tuple[Console, io.StringIO]:
    stream = io.StringIO()
    return Console(file=stream, width=width, no_color=True, soft_wrap=True), stream


def widest(text: str) -> int:
    return max(len(line.rstrip()) for line in text.splitlines())


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = new_workspace(tmp_path / "ws")
    store(root, make_result("tabular_preprocessing_with_a_long_name", when=at(30)))
    store(root, make_result("train", Status.FAIL, when=at(20), error_message=LONG_REASON))
    return root


# 1. tables ---------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_list_results_keeps_each_run_id_whole_on_one_line(workspace: Path, width: int) -> None:
    listed = CliRunner().invoke(
        cli,
        ["list-results", "--workspace-dir", str(workspace)],
        env={"COLUMNS": str(width), "NO_COLOR": "1"},
    )
    assert listed.exit_code == 0, listed.output
    run_ids = [p.name for p in (workspace / "runs").iterdir()]
    lines = listed.stdout.splitlines()
    assert all(any(run_id in line for line in lines) for run_id in run_ids)
    assert widest(listed.stdout) <= width
    assert "\x1b[" not in listed.stdout


def test_list_results_shows_more_columns_when_they_fit(workspace: Path) -> None:
    narrow, wide = (
        CliRunner().invoke(
            cli, ["list-results", "--workspace-dir", str(workspace)], env={"COLUMNS": w}
        )
        for w in ("80", "200")
    )
    assert "image" not in narrow.stdout and "sklearn-1.2:0123456789ab" in wide.stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_the_batch_summary_shows_the_whole_reason(width: int) -> None:
    results = [make_result("prep"), make_result("train", Status.FAIL, error_message=LONG_REASON)]
    out, stream = console(width)
    render_batch_summary(results, out)
    text = stream.getvalue()
    assert LONG_REASON in " ".join(line.strip() for line in text.splitlines())
    assert f"sandbox show-result {results[1].run_id}" in text
    assert widest(text) <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_the_pipeline_table_keeps_run_ids_whole(width: int) -> None:
    from test_pipeline_report import _result

    from sandbox.report.pipeline import render_text

    pipeline = _result()
    for step in pipeline.steps:
        step.result.run_id = f"20260102-030405-123456-{step.name}_script-ab12"
    out, stream = console(width)
    render_text(pipeline, out)
    text = stream.getvalue()
    assert all(step.result.run_id in text for step in pipeline.steps)
    assert "train: script exited with code 1" in text
    steps_table = text.split("critical path")[0].split("┏")[0]  # the edges' table wraps
    assert widest(steps_table) <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_images_list_keeps_tags_whole(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    statuses = [
        ProfileStatus(
            "sklearn-1.2",
            "sandbox/sklearn-1.2:3f2a9c0d1e4b",
            True,
            "sha256:1",
            "Debian bookworm with the versions of SageMaker's sklearn 1.2-1 container, offline",
            True,
            "3.11",
            {"pandas": "1.5.3"},
        )
    ]
    monkeypatch.setattr(DockerEngine, "connect", classmethod(lambda cls: _NoEngine()))
    monkeypatch.setattr("sandbox.container.images.list_profiles", lambda engine: statuses)
    listed = CliRunner().invoke(
        cli, ["images", "list"], env={"COLUMNS": str(width), "NO_COLOR": "1"}
    )
    assert listed.exit_code == 0, listed.output
    assert "sandbox/sklearn-1.2:3f2a9c0d1e4b" in listed.stdout
    assert "SageMaker's sklearn 1.2-1 container, offline" in " ".join(listed.stdout.split())
    assert widest(listed.stdout) <= width


class _NoEngine:
    def __enter__(self) -> _NoEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


# 2. hints that run when pasted -------------------------------------------------------


def test_the_show_result_hint_of_a_batch_runs_when_pasted(tmp_path: Path) -> None:
    from sandbox.cli.hints import show_result_hint

    workspace = new_workspace(tmp_path / "my workspace")
    failed = make_result("train", Status.FAIL)
    store(workspace, failed)
    hint = show_result_hint(failed.run_id, workspace)
    assert "--workspace-dir" in hint
    words = shlex.split(hint)
    assert words[0] == "sandbox"
    pasted = subprocess.run(
        [sys.executable, "-m", "sandbox", *words[1:]],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        cwd=tmp_path,
        check=False,
    )
    assert pasted.returncode == 0, pasted.stderr
    assert failed.run_id in pasted.stdout


def test_the_show_result_hint_leaves_out_the_default_workspace() -> None:
    from sandbox.cli.hints import show_result_hint

    assert show_result_hint("abc", Path(".sandbox")) == "sandbox show-result abc"


def test_the_gen_data_hint_carries_the_options_in_force() -> None:
    from sandbox.cli.hints import test_script_hint

    options = {"args": ("job_type=training",), "envs": ("LABEL_FIELD=my label",)}
    hint = test_script_hint("prep", options, data_source="out dir")
    assert shlex.split(hint) == [
        "sandbox", "test-script", "prep", "--arg", "job_type=training",
        "--env", "LABEL_FIELD=my label", "--data-source", "out dir",
    ]  # fmt: skip


# 3. -q ---------------------------------------------------------------------------------


def test_the_quiet_line_carries_the_reason_of_anything_but_pass() -> None:
    out, stream = console(80)
    render_verdict(make_result("prep"), out, with_reason=True)
    render_verdict(make_result("train", Status.FAIL), out, with_reason=True)
    passed, failed = stream.getvalue().splitlines()
    assert passed.startswith("PASS prep") and passed.endswith(" s")
    assert failed.startswith("FAIL train") and failed.endswith(": exit code 1: ValueError: boom")


# 5. logging ----------------------------------------------------------------------------


def test_debug_logs_the_level_once_and_keeps_the_docker_library_quiet() -> None:
    from sandbox.cli.logs import configure_logging

    try:
        configure_logging("debug")
        stream = io.StringIO()
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
        logging.getLogger("sandbox.test").debug("one %s", "step")
        logging.getLogger("urllib3.connectionpool").debug("noise")
        logging.getLogger("docker.api").debug("noise")
        assert stream.getvalue() == "sandbox: DEBUG: one step\n"
        configure_logging("debug", libraries=True)
        assert logging.getLogger("docker").level == logging.DEBUG
    finally:
        configure_logging("warning")


def test_the_logging_and_streaming_options_have_distinct_names() -> None:
    top = CliRunner().invoke(cli, ["--help"]).stdout
    run = CliRunner().invoke(cli, ["test-script", "--help"]).stdout
    assert "--log-level" in top and "--debug" in top
    assert "--stream" in run


# 9. errors that point home -------------------------------------------------------------


def test_no_engine_says_what_to_start_and_where_it_looked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    message = str(EngineUnavailableError("connection refused"))
    assert "DOCKER_HOST=tcp://127.0.0.1:1" in message
    for advice in ("docker.io", "systemctl start docker", "Docker Desktop", "colima start"):
        assert advice in message
    assert ".ci/" not in message
    monkeypatch.delenv("DOCKER_HOST")
    assert "unix:///var/run/docker.sock" in str(EngineUnavailableError("no socket"))


# 10. completion ------------------------------------------------------------------------


def test_completion_offers_scripts_profiles_and_run_ids(workspace: Path, tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "my_prep.py").write_text("print(1)\n")
    ctx = cli.make_context("sandbox", ["test-script"], resilient_parsing=True)
    ctx.params = {"scripts_dir": scripts, "workspace_dir": workspace}
    param = cli.commands["test-script"].params[0]
    assert [item.value for item in complete_scripts(ctx, param, "my_")] == ["my_prep"]
    assert "tabular_preprocessing" in [i.value for i in complete_scripts(ctx, param, "tab")]
    assert "sklearn-1.2" in [item.value for item in complete_profiles(ctx, param, "skl")]
    run_ids = [item.value for item in complete_run_ids(ctx, param, "")]
    assert run_ids[0] == "latest" and len(run_ids) == 3


def test_completion_runs_through_the_shell_protocol() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "sandbox"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "_SANDBOX_COMPLETE": "bash_complete",
            "COMP_WORDS": "sandbox test-script x --image skl",
            "COMP_CWORD": "4",
        },
        check=False,
    )
    assert "plain,sklearn-1.2" in completed.stdout.splitlines()


def test_an_internal_error_says_how_to_see_its_traceback(
    monkeypatch: pytest.MonkeyPatch, workspace: Path
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("sandbox.results.store.find_result", broken)
    quiet = CliRunner().invoke(cli, ["show-result", "latest", "--workspace-dir", str(workspace)])
    assert quiet.exit_code == 3
    assert "RuntimeError: a bug" in quiet.stderr and "--debug" in quiet.stderr
    assert "Traceback" not in quiet.stderr
    try:
        loud = CliRunner().invoke(
            cli, ["--debug", "show-result", "latest", "--workspace-dir", str(workspace)]
        )
    finally:
        from sandbox.cli.logs import configure_logging

        configure_logging("warning")
    assert loud.exit_code == 3 and "Traceback" in loud.stderr
