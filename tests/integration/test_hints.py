"""Every command the tool suggests runs when pasted into a shell: gen-data's feed-back
line, the header of a spec made from a contract, the batch summary's show-result lines."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).parent / "scripts"

pytestmark = pytest.mark.usefixtures("offline_image")


def sandbox(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def paste(hint: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a hint as a shell would split it: ``sandbox ...`` as ``python -m sandbox ...``."""
    words = shlex.split(hint)
    assert words[0] == "sandbox", hint
    return sandbox(*words[1:], cwd=cwd, env=env)


def test_the_gen_data_hint_runs_with_the_options_in_force(tmp_path: Path) -> None:
    env = {"SANDBOX_WORKSPACE_DIR": str(tmp_path / "ws")}
    out = tmp_path / "generated data"
    made = sandbox(
        "gen-data", "tabular_preprocessing", "--out", str(out),
        "--arg", "job_type=training", "--env", "LABEL_FIELD=label",
        cwd=REPO, env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    (hint,) = [line for line in made.stdout.splitlines() if line.startswith("feed them back")]
    command = hint.split(": ", 1)[1]
    assert "--env LABEL_FIELD=label" in command and "--arg job_type=training" in command
    pasted = paste(command, REPO, env)
    assert pasted.returncode == 0, pasted.stdout[-2000:] + pasted.stderr[-2000:]
    assert pasted.stdout.startswith("PASS tabular_preprocessing")


def test_the_header_of_a_spec_from_a_contract_runs(tmp_path: Path) -> None:
    env = {"SANDBOX_WORKSPACE_DIR": str(tmp_path / "ws")}
    spec = tmp_path / "spec.yaml"
    contract = "examples/contracts/tabular_preprocessing_contract.py"
    made = sandbox("spec", "from-contract", contract, "-o", str(spec), cwd=REPO, env=env)
    assert made.returncode == 0, made.stderr
    command = spec.read_text().splitlines()[1].removeprefix("#").strip()
    assert "--env LABEL_FIELD=" in command
    pasted = paste(command, REPO, env)
    assert pasted.returncode == 0, pasted.stdout[-2000:] + pasted.stderr[-2000:]


def test_the_show_result_hints_of_a_batch_name_the_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "my ws"
    ran = sandbox(
        "test-script", str(SCRIPTS / "fails.py"), str(SCRIPTS / "write_file.py"),
        "--workspace-dir", str(workspace),
        cwd=tmp_path, env={},
    )  # fmt: skip
    assert ran.returncode == 1, ran.stderr
    hints = [line.strip() for line in ran.stdout.splitlines() if "sandbox show-result" in line]
    assert len(hints) == 1 and "--workspace-dir" in hints[0]
    assert "ValueError: column 'price_usd' not found" in " ".join(ran.stdout.split())
    pasted = paste(hints[0], tmp_path, {})
    assert pasted.returncode == 0, pasted.stderr
    assert "FAIL fails" in pasted.stdout
