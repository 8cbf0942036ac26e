"""The runner end to end, on the real engine with the offline image."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_processes import SandboxProcesses, running_containers, wait_for

from sandbox.contract.resolve import Overrides
from sandbox.contract.spec import CallStyle
from sandbox.data.datagen import DataSize
from sandbox.results.models import Status, TestResult
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")


def run(engine: Any, tmp_path: Path, script: str, **kwargs: Any) -> TestResult:
    overrides = kwargs.pop("overrides", Overrides())
    request = RunRequest(
        script=str(Path(__file__).parent / "scripts" / f"{script}.py"),
        workspace=tmp_path / "ws",
        overrides=overrides,
        data_size=DataSize.SMALL,
        **kwargs,
    )
    return run_script(request, engine)


def output_tree(result: TestResult) -> dict[str, bytes]:
    root = Path(result.run_dir) / "outputs"
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_unseen_production_script_passes_in_both_call_styles_with_identical_outputs(
    engine: Any, tmp_path: Path
) -> None:
    common = {"arguments": {"job_type": "training"}, "environment": {"LABEL_FIELD": "label"}}
    by_entrypoint = run(engine, tmp_path, "prod_pattern", overrides=Overrides(**common))
    by_main = run(
        engine,
        tmp_path,
        "prod_pattern",
        overrides=Overrides(call_style=CallStyle.MAIN, **common),
    )
    assert by_entrypoint.status is Status.PASS, by_entrypoint.stderr_tail
    assert by_main.status is Status.PASS, by_main.stderr_tail
    entry_files, main_files = output_tree(by_entrypoint), output_tree(by_main)
    assert "data_output/train/part-00000.csv" in entry_files
    assert entry_files == main_files
    summary = json.loads(entry_files["data_output/summary.json"])
    assert summary["job_type"] == "training" and summary["rows"] > 0
    assert {f.path for f in by_main.outputs["data_output"]} >= {"summary.json"}


def test_failing_script_reports_fail_with_exit_code_and_traceback(
    engine: Any, tmp_path: Path
) -> None:
    result = run(engine, tmp_path, "fails")
    assert result.status is Status.FAIL
    assert result.exit_code == 1
    assert "ValueError: column 'price_usd' not found" in (result.error_message or "")
    assert any("Traceback" in line for line in result.stderr_tail)
    saved = json.loads((Path(result.run_dir) / "result.json").read_text())
    assert saved["status"] == "FAIL" and saved["schema_version"] == 2
    assert saved["execution"]["exit_code"] == 1 and "exit_code" not in saved


def test_container_sees_production_layout_isolated_and_as_the_invoking_user(
    engine: Any, tmp_path: Path
) -> None:
    os.environ["SANDBOX_TEST_HOST_ONLY"] = "secret"
    try:
        result = run(
            engine,
            tmp_path,
            "probes",
            overrides=Overrides(environment={"ONLY_THIS": "1"}),
            run_as=(4321, 4321),
        )
    finally:
        del os.environ["SANDBOX_TEST_HOST_ONLY"]
    assert result.status is Status.PASS, result.stderr_tail
    probe = json.loads((Path(result.run_dir) / "outputs/probe/probe.json").read_text())
    assert (probe["uid"], probe["gid"]) == (4321, 4321)
    assert probe["interfaces"] == ["lo"]
    assert probe["input_write"].startswith("refused")
    assert probe["home_writable"] is True
    assert probe["code_files"] == ["probes.py"]
    assert "SANDBOX_TEST_HOST_ONLY" not in probe["environ"] and "ONLY_THIS" in probe["environ"]
    assert probe["input_files"], "generated input data is mounted"
    assert probe["resource_config"] == {"current_host": "algo-1", "hosts": ["algo-1"]}
    inputs = {
        i["InputName"]: i["S3Input"]["LocalPath"] for i in probe["job_config"]["ProcessingInputs"]
    }
    assert inputs == {
        "data": "/opt/ml/processing/input/data",
        "code": "/opt/ml/processing/input/code",
    }
    for path in Path(result.run_dir).rglob("*"):
        assert path.stat().st_uid in (4321, os.getuid()), path


def test_network_can_be_enabled(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "probes", overrides=Overrides(network=True))
    probe = json.loads((Path(result.run_dir) / "outputs/probe/probe.json").read_text())
    assert len(probe["interfaces"]) > 1


def test_sys_exit_in_main_is_reported_with_its_code(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "main_exit", overrides=Overrides(call_style=CallStyle.MAIN))
    assert result.status is Status.FAIL
    assert result.exit_code == 3
    assert (result.error_message or "").startswith("main() called sys.exit(3)")


def test_multiprocessing_works_in_main_call_style(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "multiproc", overrides=Overrides(call_style=CallStyle.MAIN))
    assert result.status is Status.PASS, result.stderr_tail
    squares = json.loads((Path(result.run_dir) / "outputs/squares/squares.json").read_text())
    assert squares == [i * i for i in range(10)]


def test_real_data_folder_is_mounted_read_only_and_unmatched_folders_listed(
    engine: Any, tmp_path: Path
) -> None:
    source = tmp_path / "real"
    (source / "data").mkdir(parents=True)
    (source / "data" / "rows.csv").write_text("a,label\n1,0\n")
    (source / "unrelated").mkdir()
    before = sorted(p.name for p in (source / "data").iterdir())
    result = run(engine, tmp_path, "probes", data_source=source)
    assert result.status is Status.PASS, result.stderr_tail
    probe = json.loads((Path(result.run_dir) / "outputs/probe/probe.json").read_text())
    assert probe["input_files"] == ["rows.csv"]
    assert sorted(p.name for p in (source / "data").iterdir()) == before
    assert any("unrelated" in finding for finding in result.findings)


def test_as_root_runs_as_root_and_hands_outputs_back(engine: Any, tmp_path: Path) -> None:
    result = run(engine, tmp_path, "probes", as_root=True, run_as=(4321, 4321))
    assert result.status is Status.PASS, result.stderr_tail
    probe_file = Path(result.run_dir) / "outputs/probe/probe.json"
    assert json.loads(probe_file.read_text())["uid"] == 0
    assert (probe_file.stat().st_uid, probe_file.stat().st_gid) == (4321, 4321)


def test_ctrl_c_removes_the_container_and_exits_130(engine: Any, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    with SandboxProcesses() as processes:
        process = start_sleeper(engine, processes, workspace)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert running_containers(engine, workspace) == 0


def test_main_gets_the_job_args_and_defaults_argparse_would_give(
    engine: Any, tmp_path: Path
) -> None:
    arguments = {"n_trees": "7", "debug": "", "tags": "x y"}
    outputs = []
    for style in (CallStyle.ENTRYPOINT, CallStyle.MAIN):
        result = run(
            engine,
            tmp_path,
            "typed_args",
            overrides=Overrides(arguments=arguments, call_style=style),
        )
        assert result.status is Status.PASS, result.stderr_tail
        outputs.append(json.loads((Path(result.run_dir) / "outputs/args/args.json").read_text()))
    by_entrypoint, by_main = outputs
    assert by_entrypoint["n_trees"] == ["int", 7]
    assert by_entrypoint["debug"] == ["bool", True]
    assert by_main == by_entrypoint


def test_sigterm_leaves_an_error_result_for_the_interrupted_run(
    engine: Any, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    with SandboxProcesses() as processes:
        process = start_sleeper(engine, processes, workspace)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 130
    assert running_containers(engine, workspace) == 0
    (result_file,) = (workspace / "runs").glob("*/result.json")
    saved = json.loads(result_file.read_text())
    assert saved["status"] == "ERROR" and "interrupted" in saved["error_message"]


def start_sleeper(
    engine: Any, processes: SandboxProcesses, workspace: Path
) -> subprocess.Popen[str]:
    """``sandbox test-script sleeper.py`` in its own process, once its container runs."""
    script = Path(__file__).parent / "scripts" / "sleeper.py"
    process = processes.start("test-script", str(script), "--workspace-dir", str(workspace))
    wait_for(lambda: running_containers(engine, workspace) == 1, process)
    return process
