"""A failure on what a local run does not bring along (a file of the script's source
tree, AWS credentials) is said in one line with what to pass."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from sandbox.results.models import Status
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")

SCRIPTS = Path(__file__).parent / "scripts"


def test_a_file_missing_beside_the_script_points_at_source_dir_which_then_passes(
    engine: Any, tmp_path: Path
) -> None:
    alone = run_script(
        RunRequest(script=str(SCRIPTS / "beside_reader.py"), workspace=tmp_path / "ws"), engine
    )

    assert alone.status is Status.FAIL
    assert alone.error_message is not None and "\n" not in alone.error_message
    assert alone.error_message.startswith(
        "the script looks for /opt/ml/processing/input/code/lookup/codes.json beside itself, "
        "but the code folder holds the script alone: pass --source-dir with the tree that "
        "holds lookup/codes.json"
    )

    tree = tmp_path / "tree"
    (tree / "lookup").mkdir(parents=True)
    shutil.copy(SCRIPTS / "beside_reader.py", tree)
    (tree / "lookup" / "codes.json").write_text('{"a": 1, "b": 2}')
    given = run_script(
        RunRequest(
            script=str(tree / "beside_reader.py"), source_dir=tree, workspace=tmp_path / "ws"
        ),
        engine,
    )

    assert given.status is Status.PASS, given.error_message


def test_a_script_calling_aws_without_credentials_is_told_so(engine: Any, tmp_path: Path) -> None:
    result = run_script(
        RunRequest(script=str(SCRIPTS / "aws_caller.py"), workspace=tmp_path / "ws"), engine
    )

    assert result.status is Status.FAIL
    assert result.error_message is not None
    assert result.error_message.startswith(
        "the script calls an AWS service and found no credentials"
    ), result.error_message
    assert "NoCredentialsError" in result.error_message
