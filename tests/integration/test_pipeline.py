"""Pipelines end to end, on the real engine with the offline image."""

from __future__ import annotations

import json
import signal
import socket
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml
from cli_processes import SandboxProcesses, running_containers, wait_for

from sandbox.pipeline.run import PipelineRequest, run_pipeline
from sandbox.results.models import Status
from sandbox.results.pipeline import PipelineResult

pytestmark = pytest.mark.usefixtures("offline_image")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pipelines" / "preprocess_train_calibrate.yaml"
SCRIPTS = Path(__file__).resolve().parent / "scripts"
PIPELINES = SCRIPTS / "pipeline"


def run(engine: Any, tmp_path: Path, pipeline: Path, **kwargs: Any) -> PipelineResult:
    request = PipelineRequest(pipeline_file=pipeline, workspace=tmp_path / "ws", **kwargs)
    return run_pipeline(request, engine)


def test_example_pipeline_passes_with_each_output_feeding_the_next_step(
    engine: Any, tmp_path: Path
) -> None:
    result = run(engine, tmp_path, EXAMPLE)
    assert result.status is Status.PASS, [(s.name, s.reason) for s in result.steps]
    assert [s.name for s in result.steps] == ["preprocess", "training", "calibration"]
    assert all(edge.status is Status.PASS for edge in result.edges)
    preprocess, training, calibration = result.steps
    fed = Path(preprocess.run_dir) / "outputs" / "data_output" / "train"
    assert training.result.inputs["train"] == f"from {fed}"
    metrics = Path(calibration.run_dir) / "outputs" / "metrics_output"
    assert json.loads((metrics / "calibration_metrics.json").read_text())["num_samples"] > 0
    assert result.critical_path == ["preprocess", "training", "calibration"]
    assert result.critical_path_s == pytest.approx(sum(s.wall_time_s for s in result.steps))
    assert all(step.peak_memory_mb for step in result.steps)
    saved = json.loads((Path(result.run_dir) / "pipeline_result.json").read_text())
    assert saved["status"] == "PASS" and saved["edges"][0]["from"] == "preprocess.data_output/train"
    saved_file = Path(result.run_dir) / "pipeline_result.json"
    assert stat.S_IMODE(saved_file.stat().st_mode) == 0o600  # private, as run folders
    assert stat.S_IMODE(Path(result.run_dir).stat().st_mode) == 0o700

    # --only reruns one step on the outputs of the latest run, and says so.
    again = run(engine, tmp_path, EXAMPLE, only_step="calibration")
    assert again.status is Status.PASS
    assert again.step("training").reused_from == result.pipeline_run_id
    assert again.step("training").run_dir == training.run_dir
    rerun = again.step("calibration")
    assert rerun.selected and rerun.run_dir != calibration.run_dir
    fed_model = Path(training.run_dir) / "outputs" / "output_data"
    assert rerun.result.inputs["eval_data"] == f"from {fed_model}"


def test_broken_edge_is_caught_before_the_downstream_step_runs(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, PIPELINES / "broken_edge.yaml")
    assert result.status is Status.FAIL
    assert result.step("produce").status is Status.PASS
    consume = result.step("consume")
    assert consume.status is Status.SKIPPED and consume.run_dir == ""
    edge = result.edge("produce.table -> consume.table")
    assert edge.status is Status.FAIL
    assert edge.message == "no *.parquet file (found: part.csv)"
    assert "produce.table -> consume.table: no *.parquet file" in (consume.reason or "")
    assert not list((tmp_path / "ws" / "runs").glob("*read_parquet*"))


def test_upstream_failure_skips_its_descendants_but_not_an_independent_branch(
    engine: Any, tmp_path: Path
) -> None:
    result = run(engine, tmp_path, PIPELINES / "upstream_failure.yaml", jobs=2)
    assert result.status is Status.FAIL
    assert result.step("broken").status is Status.FAIL
    assert result.step("broken").result.exit_code == 3
    for name in ("relay", "last"):
        step = result.step(name)
        assert step.status is Status.SKIPPED
        assert "upstream step broken ended FAIL" in (step.reason or "")
    assert result.step("independent").status is Status.PASS
    assert {edge.status for edge in result.edges} == {Status.SKIPPED}


def test_independent_steps_overlap_in_time_with_two_jobs(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, PIPELINES / "parallel.yaml", jobs=2)
    assert result.status is Status.PASS
    left, right = (result.step(name).result.execution for name in ("left", "right"))
    assert left is not None and right is not None
    assert left.started_at < right.finished_at and right.started_at < left.finished_at
    assert result.wall_time_s < left.wall_time_s + right.wall_time_s
    assert result.critical_path_s == pytest.approx(max(left.wall_time_s, right.wall_time_s), 0.01)


def test_cli_writes_json_junit_and_html_and_exits_1_on_a_broken_edge(
    engine: Any, tmp_path: Path
) -> None:
    from click.testing import CliRunner
    from junitparser import Failure, JUnitXml, Skipped

    from sandbox.cli import cli

    junit, page = tmp_path / "pipeline.xml", tmp_path / "pipeline.html"
    args = ["test-pipeline", str(PIPELINES / "broken_edge.yaml"), "--output-format", "json"]
    args += ["--workspace-dir", str(tmp_path / "ws"), "--junit-xml", str(junit)]
    args += ["--html", str(page)]
    outcome = CliRunner().invoke(cli, args)
    assert outcome.exit_code == 1, outcome.output
    document = json.loads(outcome.stdout)
    assert (document["exit_code"], document["results"], document["error"]) == (1, [], None)
    pipeline = document["pipeline"]
    assert pipeline["status"] == "FAIL" and pipeline["edges"][0]["status"] == "FAIL"
    cases = {case.name: case for suite in JUnitXml.fromfile(str(junit)) for case in suite}
    assert cases["produce"].is_passed
    assert isinstance(cases["consume"].result[0], Skipped)
    assert isinstance(cases["produce.table -> consume.table"].result[0], Failure)
    assert "data-status='SKIPPED'" in page.read_text(encoding="utf-8")


SLOW_DATA_SCRIPT = '''\
"""Lists its input; its input is a table that takes long to generate."""
import os

INPUT_PATH = "/opt/ml/processing/input/table"
OUTPUT_PATH = "/opt/ml/processing/output/summary"

if __name__ == "__main__":
    with open(os.path.join(OUTPUT_PATH, "files.txt"), "w") as handle:
        handle.write("\\n".join(sorted(os.listdir(INPUT_PATH))))
'''
SLOW_DATA_SPEC = {  # ~20 s of data generation: far longer than the 5 s allowed below
    "script": "slow_data.py",
    "inputs": {
        "table": {
            "path": "/opt/ml/processing/input/table",
            "data": {"rows": 100_000_000, "columns": [{"name": "a", "type": "float"}]},
        }
    },
    "outputs": {"summary": {"path": "/opt/ml/processing/output/summary"}},
}


def test_ctrl_c_removes_the_steps_containers_and_exits_at_once_mid_data_preparation(
    engine: Any, tmp_path: Path, stalled_s3: StalledS3
) -> None:
    (tmp_path / "slow_data.py").write_text(SLOW_DATA_SCRIPT, encoding="utf-8")
    (tmp_path / "slow_data.yaml").write_text(yaml.safe_dump(SLOW_DATA_SPEC), encoding="utf-8")
    steps = [
        {"name": "sleep", "script": str(SCRIPTS / "sleeper.py")},
        {"name": "generate", "script": "slow_data.py", "spec": "slow_data.yaml"},
        {
            "name": "download",
            "script": str(PIPELINES / "relay.py"),
            "inputs": {"table": "s3://stalled/table/"},
        },
    ]
    pipeline = tmp_path / "interrupted.yaml"
    pipeline.write_text(yaml.safe_dump({"steps": steps}), encoding="utf-8")
    workspace = tmp_path / "ws"
    args = ["test-pipeline", str(pipeline), "--jobs", "3", "--workspace-dir", str(workspace)]
    with SandboxProcesses() as processes:
        process = processes.start(*args, env=stalled_s3.env)
        wait_for(lambda: running_containers(engine, workspace) == 1, process)
        label = f"sandbox.pipeline-run={pipeline_run_label(workspace, 'sleeper')}"
        wait_for(lambda: any((workspace / "data").glob(".staging-*")), process)  # generating
        wait_for(lambda: bool(stalled_s3.connections), process)  # downloading

        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 130, stderr
        assert time.monotonic() - interrupted < 5
    assert engine.count_labelled(label) == 0
    assert running_containers(engine, workspace) == 0


@dataclass
class StalledS3:
    """An S3 endpoint that accepts connections and never answers: each request waits out
    boto's 60 s read timeout."""

    env: dict[str, str]
    connections: list[socket.socket] = field(default_factory=list)


@pytest.fixture
def stalled_s3(tmp_path: Path) -> Iterator[StalledS3]:
    server = socket.create_server(("127.0.0.1", 0))
    host, port = server.getsockname()[:2]
    stalled = StalledS3(
        env={
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        }
    )

    def hold() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:  # closed at the end of the test
                return
            stalled.connections.append(connection)

    threading.Thread(target=hold, daemon=True).start()
    yield stalled
    server.close()
    for connection in stalled.connections:
        connection.close()


def pipeline_run_label(workspace: Path, script: str) -> str:
    """The ``sandbox.pipeline-run`` label on the container of ``script``'s run."""
    (run,) = (path.name for path in (workspace / "runs").iterdir() if f"-{script}-" in path.name)
    client = docker.from_env()
    try:
        (container,) = client.containers.list(all=True, filters={"label": f"sandbox.run-id={run}"})
        return str(container.labels["sandbox.pipeline-run"])
    finally:
        client.close()
