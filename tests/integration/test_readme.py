"""Every command line in the README's readme-commands blocks runs and succeeds from the
clone's root."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from readme_blocks import REPO, readme_commands


def test_readme_blocks_are_found_and_say_where_they_run() -> None:
    clone, anywhere = readme_commands("clone"), readme_commands("anywhere")
    assert any(c.startswith("sandbox test-script tabular_preprocessing") for c in clone)
    assert "sandbox images list" in anywhere and "sandbox spec result-schema" in anywhere
    assert sorted(readme_commands()) == sorted(clone + anywhere)
    assert not any("examples/" in command for command in anywhere)


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
