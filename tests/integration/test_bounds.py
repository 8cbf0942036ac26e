"""Bounded whatever a script prints or writes: logs, tails, output checks, a full disk.

Hostile scripts on the real engine: a log flood, 2 MiB lines, links to a user's file, an
8 GiB sparse output, a script that fills the workspace's disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.container.logs import TAIL_TOTAL_BYTES
from sandbox.results.models import Status
from sandbox.runner import RunRequest, run_script

SCRIPTS = Path(__file__).resolve().parent / "scripts"
MIB = 1024 * 1024

pytestmark = pytest.mark.usefixtures("offline_image")


def sandbox_cli(tmp_path: Path, *args: str) -> tuple[int, str, str, int]:
    """``python -m sandbox ARGS``: exit code, stdout, stderr, and its peak RSS in bytes."""
    out, err = tmp_path / "cli.out", tmp_path / "cli.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", *args],
            stdout=stdout, stderr=stderr, env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        # wait4, not getrusage(RUSAGE_CHILDREN): the peak of this one process.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, out.read_text(), err.read_text(), usage.ru_maxrss * 1024


def test_links_and_sparse_files_the_script_made_never_pass_an_output_check(
    engine: Any, tmp_path: Path
) -> None:
    secret = tmp_path / "home" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("amount,label\n1.0,0\n")
    secret.chmod(0o600)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"""
script: link_outputs.py
environment: {{LINK_TARGET: "{secret}"}}
outputs:
  linked:
    path: /opt/ml/processing/output/linked
    expect: {{files: [a.csv], columns: [amount, label]}}
  sparse:
    path: /opt/ml/processing/output/sparse
    expect: {{files: [big.csv], columns: [amount]}}
"""
    )
    request = RunRequest(
        script=str(SCRIPTS / "link_outputs.py"), spec_path=spec, workspace=tmp_path / "ws"
    )
    result = run_script(request, engine)  # type: ignore[arg-type]
    assert result.status is Status.FAIL
    assert "output linked: no file matches 'a.csv'" in (result.error_message or "")
    assert (
        "output sparse: big.csv: cannot be read as a table (no line end in the first 64 KiB)"
        in (result.error_message or "")
    )
    assert "output linked: a.csv is a symlink: not checked" in result.findings
    assert [f.path for f in result.outputs["sparse"]] == ["big.csv"]
    assert result.outputs["linked"] == []


def test_a_large_log_is_streamed_to_a_file_in_memory_that_does_not_grow_with_it(
    engine: object, tmp_path: Path
) -> None:
    peaks = {}
    for flood_mib in (1, 96):
        workspace = tmp_path / f"ws-{flood_mib}"
        code, stdout, stderr, peaks[flood_mib] = sandbox_cli(
            tmp_path,
            "test-script", str(SCRIPTS / "log_flood.py"), "--env", f"FLOOD_MIB={flood_mib}",
            "--workspace-dir", str(workspace), "--output-format", "json",
        )  # fmt: skip
        assert code == 0, stderr
        (result,) = json.loads(stdout)["results"]
        assert result["status"] == "PASS"
        log = Path(result["execution"]["stdout_log"]["path"])
        expected = flood_mib * MIB + len(b"flood done\n")
        assert log == Path(result["run_dir"]) / "stdout.log"
        assert log.stat().st_size == result["execution"]["stdout_log"]["size_bytes"] == expected
        assert result["execution"]["stdout_tail"][-1] == "flood done"
    assert peaks[96] / peaks[1] < 1.5, peaks


def test_fifty_lines_of_two_mebibytes_leave_small_results_and_reports(
    engine: object, tmp_path: Path
) -> None:
    workspace, junit = tmp_path / "ws", tmp_path / "junit.xml"
    code, stdout, stderr, _ = sandbox_cli(
        tmp_path,
        "test-script", str(SCRIPTS / "long_lines.py"),
        "--workspace-dir", str(workspace), "--junit-xml", str(junit),
    )  # fmt: skip
    assert code == 1, stderr
    (run_dir,) = (workspace / "runs").iterdir()
    html = tmp_path / "report.html"
    report = subprocess.run(
        [sys.executable, "-m", "sandbox", "report", run_dir.name, "--format", "html",
         "-o", str(html), "--workspace-dir", str(workspace)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    # The tail is stored once in result.json (under execution); it, the reason and each
    # report's copies of the tail are bounded by the tail's caps.
    bound = 3 * TAIL_TOTAL_BYTES + 64 * 1024
    result_file = run_dir / "result.json"
    for path in (result_file, junit, html):
        assert path.stat().st_size < bound, (path, path.stat().st_size)
    assert len(stdout.encode()) + len(stderr.encode()) < bound
    result = json.loads(result_file.read_text())
    assert result["status"] == "FAIL"
    assert "stderr_tail" not in result
    assert result["execution"]["stderr_tail"][-1].endswith(" … [cut: 2.0 MiB line]")
    stderr_log = result["execution"]["stderr_log"]
    assert stderr_log["tail_cut"] is True
    assert stderr_log["path"] == str(run_dir / "stderr.log")
    assert (run_dir / "stderr.log").stat().st_size == 50 * (2 * MIB + 1)
    assert f"the whole stderr: {run_dir / 'stderr.log'}" in junit.read_text()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        done = subprocess.run(["umount", str(mountpoint)], check=False)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def test_a_full_disk_ends_as_an_error_with_a_one_line_reason(
    engine: object, small_disk: Path, tmp_path: Path
) -> None:
    workspace = small_disk / "ws"
    code, stdout, stderr, _ = sandbox_cli(
        tmp_path,
        "test-script", str(SCRIPTS / "fill_disk.py"),
        "--workspace-dir", str(workspace), "--output-format", "json",
    )  # fmt: skip
    assert code == 1, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr
    (result,) = json.loads(stdout)["results"]
    run_dir = Path(result["run_dir"])
    assert result["status"] == "ERROR"
    assert result["error_message"] == f"no space left on device while writing {run_dir}/stderr.log"
    assert "the script's own verdict: PASS" in result["findings"]
    saved = json.loads((run_dir / "result.json").read_text())
    assert (saved["status"], saved["error_message"]) == ("ERROR", result["error_message"])
    assert not (run_dir / ".result-space").exists()


def test_a_disk_full_before_the_container_starts_is_one_line(
    engine: object, small_disk: Path, tmp_path: Path
) -> None:
    workspace = small_disk / "ws"
    code, stdout, stderr, _ = sandbox_cli(
        tmp_path,
        "test-script", "tabular_preprocessing", "--arg", "job_type=training",
        "--env", "LABEL_FIELD=label", "--data-size", "large", "--workspace-dir", str(workspace),
    )  # fmt: skip
    assert (code, stdout) == (3, "")
    assert stderr.strip().splitlines() == [
        f"sandbox: error: no space left on device while writing {workspace}"
    ]
