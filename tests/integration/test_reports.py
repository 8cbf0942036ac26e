"""Many scripts at once, the results store and the reports, on the real engine.

One batch of three real runs (module fixture) feeds every test here: the JUnit file, the
JSON list, list-results, show-result, and the HTML report opened in a headless browser.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from cli_processes import SandboxProcesses, running_containers, wait_for
from click.testing import CliRunner, Result
from junitparser import Failure, JUnitXml
from PIL import Image

from sandbox.cli import cli
from sandbox.pipeline.batch import INTERRUPTED_REASON

SCRIPTS = Path(__file__).resolve().parent / "scripts"
BATCH = ["busy_loop", "fails", "report_timeline"]

pytestmark = pytest.mark.usefixtures("offline_image")


@dataclass(frozen=True)
class Batch:
    result: Result
    workspace: Path
    junit: Path
    runs: list[dict[str, Any]]

    def run(self, script: str) -> dict[str, Any]:
        return next(run for run in self.runs if run["script_name"] == script)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1", "COLUMNS": "200"})


@pytest.fixture(scope="module")
def batch(engine: object, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    root = tmp_path_factory.mktemp("batch")
    workspace, junit = root / "ws", root / "junit.xml"
    result = invoke(
        "test-script",
        str(SCRIPTS / "busy_loop.py"),
        str(SCRIPTS / "fails.py"),
        str(SCRIPTS / "report_t*.py"),  # a quoted glob, expanded by the tool
        "--jobs", "3",
        "--junit-xml", str(junit),
        "--output-format", "json",
        "--workspace-dir", str(workspace),
    )  # fmt: skip
    runs = json.loads(result.stdout)["results"]
    return Batch(result, workspace, junit, runs)


def test_batch_exits_1_with_a_json_list_in_the_order_given(batch: Batch) -> None:
    assert batch.result.exit_code == 1, batch.result.output
    assert json.loads(batch.result.stdout)["exit_code"] == 1
    assert [run["script_name"] for run in batch.runs] == BATCH
    assert [run["status"] for run in batch.runs] == ["PASS", "FAIL", "PASS"]


def test_batch_runs_overlap_in_time(batch: Batch) -> None:
    spans = [
        (
            datetime.fromisoformat(r["execution"]["started_at"]),
            datetime.fromisoformat(r["execution"]["finished_at"]),
        )
        for r in batch.runs
    ]
    assert max(start for start, _ in spans) < min(end for _, end in spans)


def test_junit_file_has_one_testcase_per_script(batch: Batch) -> None:
    (suite,) = list(JUnitXml.fromfile(str(batch.junit)))
    assert (suite.tests, suite.failures) == (3, 1)
    cases = {case.name: case for case in suite}
    assert set(cases) == set(BATCH)
    assert cases["busy_loop"].is_passed and cases["report_timeline"].is_passed
    assert cases["report_timeline"].time > 2.5
    (failure,) = cases["fails"].result
    assert isinstance(failure, Failure)
    assert failure.message.startswith("FAIL exit code 1: ValueError: column 'price_usd' not found")
    assert "Traceback (most recent call last):" in cases["fails"].system_err


def test_list_results_and_show_result_read_the_batch_back(batch: Batch) -> None:
    ws = ["--workspace-dir", str(batch.workspace)]
    listed = invoke("list-results", *ws, "--output-format", "json")
    assert sorted(r["run_id"] for r in json.loads(listed.stdout)["results"]) == sorted(
        r["run_id"] for r in batch.runs
    )
    failed = invoke("list-results", *ws, "--status", "FAIL", "--output-format", "json")
    assert [r["script_name"] for r in json.loads(failed.stdout)["results"]] == ["fails"]
    table = invoke("list-results", *ws)
    assert all(script in table.stdout for script in BATCH)
    fails_id = batch.run("fails")["run_id"]
    shown = invoke("show-result", fails_id[:26], *ws)
    assert shown.exit_code == 0, shown.output
    assert "ValueError: column 'price_usd' not found" in shown.stdout
    assert "output result: 0 file(s)" in shown.stdout


def test_verbose_streams_the_output_and_quiet_prints_the_verdict_only(
    engine: object, tmp_path: Path
) -> None:
    result = invoke(
        "test-script", str(SCRIPTS / "fails.py"), "-v", "-q", "--workspace-dir", str(tmp_path)
    )
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("FAIL fails (processing, entrypoint) in ")
    assert "ValueError: column 'price_usd' not found" in lines[0]  # the reason, on the line
    assert "Traceback (most recent call last):" in result.stderr  # streamed live


def test_ctrl_c_in_a_batch_removes_its_own_containers_only_and_exits_130(
    engine: Any, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    ws = ["--workspace-dir", str(workspace)]
    sleepers = [tmp_path / f"{name}.py" for name in ("sleeper_a", "sleeper_b", "theirs")]
    for copy in sleepers:  # runs that never end by themselves
        shutil.copy(SCRIPTS / "sleeper.py", copy)
    with SandboxProcesses() as processes:
        ours = processes.start("test-script", *map(str, sleepers[:2]), "--jobs", "2", *ws)
        wait_for(lambda: running_containers(engine, workspace) == 2, ours)
        # Another sandbox process starts a run on the same workspace after the batch did.
        theirs = processes.start("test-script", str(sleepers[2]), *ws)
        wait_for(lambda: running_containers(engine, workspace) == 3, theirs)
        (their_run,) = (p for p in (workspace / "runs").iterdir() if "-theirs-" in p.name)

        ours.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        _, stderr = ours.communicate(timeout=30)
        assert ours.returncode == 130, stderr
        assert time.monotonic() - interrupted < 5
        assert running_containers(engine, workspace) == 1
        assert engine.count_labelled(f"sandbox.run-id={their_run.name}") == 1  # still running
        assert not (their_run / "result.json").exists()
        stored = [
            json.loads(path.read_text())
            for path in workspace.glob("runs/*/result.json")
            if path.parent != their_run
        ]
        assert [run["status"] for run in stored] == ["ERROR", "ERROR"]
        assert all(run["error_message"] == INTERRUPTED_REASON for run in stored)

        theirs.send_signal(signal.SIGINT)
        _, stderr = theirs.communicate(timeout=30)
        assert theirs.returncode == 130, stderr
        assert running_containers(engine, workspace) == 0


def test_clean_workspace_keeps_the_folder_of_a_run_still_in_progress(
    engine: Any, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    ws = ["--workspace-dir", str(workspace)]
    with SandboxProcesses() as processes:
        running = processes.start("test-script", str(SCRIPTS / "sleeper.py"), *ws)
        wait_for(lambda: running_containers(engine, workspace) == 1, running)
        (run_dir,) = (workspace / "runs").iterdir()

        cleaned = invoke("clean-workspace", *ws)
        assert cleaned.exit_code == 0, cleaned.output
        assert f"skipped run {run_dir.name}: its container is still running" in (cleaned.stdout)
        assert (run_dir / "outputs").is_dir()
        assert running_containers(engine, workspace) == 1

        running.send_signal(signal.SIGINT)
        _, stderr = running.communicate(timeout=30)
        assert running.returncode == 130, stderr
    cleaned = invoke("clean-workspace", *ws)
    assert cleaned.exit_code == 0, cleaned.output
    assert f"removed run {run_dir.name}" in cleaned.stdout and not run_dir.exists()


# The HTML report in a real browser ---------------------------------------------


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    reason = "no chromium: run 'make browser' (bash .ci/ensure-chromium.sh)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI needs chromium for the HTML report test: {reason}")
    pytest.skip(reason)


def browse(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={profile}", "--window-size=1200,1600",
                *args, page.as_uri(),
            ],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip


class Polylines(HTMLParser):
    def __init__(self, dom: str) -> None:
        super().__init__()
        self.points: dict[str, list[str]] = {}
        self.feed(dom)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "polyline" and values.get("id"):
            self.points[str(values["id"])] = (values.get("points") or "").split()


@pytest.fixture(scope="module")
def html_report(batch: Batch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    run_id = batch.run("report_timeline")["run_id"]
    page = tmp_path_factory.mktemp("report") / "report.html"
    written = invoke("report", run_id, "-o", str(page), "--workspace-dir", str(batch.workspace))
    assert written.exit_code == 0, written.output
    yield page


def test_html_report_plot_is_in_the_browsers_dom(html_report: Path) -> None:
    dom = browse(html_report, "--dump-dom").stdout
    lines = Polylines(dom).points
    assert len(lines["memory-line"]) >= 2, lines
    assert len(lines["cpu-line"]) >= 1
    assert "PASS report_timeline" in dom and "summary.txt" in dom


def test_html_report_screenshot_is_a_real_page(html_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    browse(html_report, f"--screenshot={shot}")
    assert shot.stat().st_size > 20_000
    with Image.open(shot) as image:
        assert image.size == (1200, 1600)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50  # not a blank or single-colour page
    verdict_green = (0x1A, 0x7F, 0x37)
    assert sum(count for count, colour in colours if colour == verdict_green) > 10_000
