"""Every command line in the README's readme-commands block runs and succeeds."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(
    r"<!-- readme-commands.*?-->\s*```bash\n(.*?)```\s*<!-- end readme-commands -->", re.DOTALL
)


def readme_commands() -> list[str]:
    match = BLOCK.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md has no readme-commands block"
    return [line.strip() for line in match.group(1).splitlines() if line.strip()]


def test_readme_block_is_found_and_names_the_main_job() -> None:
    commands = readme_commands()
    assert any(c.startswith("sandbox test-script tabular_preprocessing") for c in commands)


@pytest.mark.usefixtures("offline_image")
@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_succeeds(command: str, tmp_path: Path) -> None:
    words = shlex.split(command)
    assert words[0] == "sandbox"
    env = {**os.environ, "SANDBOX_WORKSPACE_DIR": str(tmp_path / "ws"), "NO_COLOR": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "sandbox", *words[1:]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    if "--output-format json" in command:
        document = json.loads(completed.stdout)
        assert document["error"] is None and document["results"], document
    elif command.startswith(("sandbox spec schema", "sandbox spec result-schema")):
        json.loads(completed.stdout)
