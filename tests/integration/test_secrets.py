"""Secret environment values on the real engine: the script gets them, nothing the tool
writes or prints keeps them, and run folders are private."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sandbox.cli import cli

SCRIPTS = Path(__file__).resolve().parent / "scripts"
KEY = "s3cr3tvalue"
DB_URL = "postgres://app:pw-9f2c@db.internal/prod"

pytestmark = pytest.mark.usefixtures("offline_image")


def invoke(*args: str) -> Result:
    env = {"NO_COLOR": "1", "COLUMNS": "200", "DB_URL": DB_URL}
    return CliRunner().invoke(cli, list(args), env=env)


def _printed(result: Result) -> str:
    return result.stdout + (result.stderr if result.stderr_bytes is not None else "")


def _run_folders(workspace: Path) -> list[Path]:
    return sorted(path for path in (workspace / "runs").iterdir() if path.is_dir())


def _tool_files(workspace: Path) -> list[Path]:
    """Every file under the workspace but the script's own outputs."""
    return [
        path
        for path in workspace.rglob("*")
        if path.is_file() and "outputs" not in path.relative_to(workspace).parts[2:3]
    ]


@pytest.mark.parametrize("call_style", ["entrypoint", "main"])
def test_secrets_reach_the_script_and_nothing_the_tool_writes_or_prints(
    engine: object, tmp_path: Path, call_style: str
) -> None:
    workspace, junit = tmp_path / "ws", tmp_path / "junit.xml"
    common = ["--workspace-dir", str(workspace)]
    run = invoke(
        "test-script",
        str(SCRIPTS / "secret_echo.py"),
        *common,
        "--call-style",
        call_style,
        "--env",
        f"AWS_SECRET_ACCESS_KEY={KEY}",
        "--secret-env",
        "DB_URL",
        "--junit-xml",
        str(junit),
        "--verbose",
    )
    assert run.exit_code == 1, _printed(run)
    (run_dir,) = _run_folders(workspace)
    seen = json.loads((run_dir / "outputs" / "result" / "seen.json").read_text())
    assert seen == {"key_sha256": hashlib.sha256(KEY.encode()).hexdigest(), "db_url": DB_URL}

    run_id = run_dir.name
    printed = [
        run,
        invoke(
            "test-script",
            str(SCRIPTS / "secret_echo.py"),
            *common,
            "--output-format",
            "json",
            "--env",
            f"AWS_SECRET_ACCESS_KEY={KEY}",
            "--secret-env",
            "DB_URL",
            "--call-style",
            call_style,
        ),
        invoke("show-result", run_id, *common),
        invoke("show-result", run_id, *common, "--output-format", "json"),
        invoke("list-results", *common),
        invoke("list-results", *common, "--output-format", "json"),
    ]
    for report_format in ("html", "junit", "json"):
        report = invoke(
            "report",
            run_id,
            "--format",
            report_format,
            "-o",
            str(run_dir / f"report.{report_format}"),
            *common,
        )
        assert report.exit_code == 0, _printed(report)
    texts = {f"output {i}": _printed(result) for i, result in enumerate(printed)}
    texts.update({str(path): path.read_text(errors="replace") for path in _tool_files(workspace)})
    texts[str(junit)] = junit.read_text()
    assert len(_tool_files(workspace)) >= 12
    leaks = [where for where, text in texts.items() if KEY in text or "pw-9f2c" in text]
    assert leaks == []
    (detail,) = json.loads(printed[3].stdout)["results"]
    assert detail["spec"]["environment"] == {"AWS_SECRET_ACCESS_KEY": "***", "DB_URL": "***"}
    assert "cannot connect to *** with key ***" in detail["error_message"]


def test_run_folders_are_private(engine: object, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    run = invoke("test-script", str(SCRIPTS / "pids_probe.py"), "--workspace-dir", str(workspace))
    assert run.exit_code == 0, _printed(run)
    (run_dir,) = _run_folders(workspace)
    folders = ["", "outputs", "outputs/probe", "config", "ml-output", "sandbox"]
    folder_modes = {name: oct(stat.S_IMODE((run_dir / name).stat().st_mode)) for name in folders}
    assert folder_modes == {name: "0o700" for name in folders}
    files = [
        "result.json",
        "spec.json",
        "stdout.log",
        "stderr.log",
        "config/processingjobconfig.json",
        "config/resourceconfig.json",
        "sandbox/supervisor.json",
        "sandbox/heartbeat",
    ]
    file_modes = {name: oct(stat.S_IMODE((run_dir / name).stat().st_mode)) for name in files}
    assert file_modes == {name: "0o600" for name in files}
