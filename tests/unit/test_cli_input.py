"""Bad option values on the command line: one line naming the option and the value, exit 2,
before a Docker engine is asked for anything and before a run folder exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sandbox.cli import cli
from sandbox.container.engine import DockerEngine

SCRIPT = """\
import os
os.makedirs("/opt/ml/processing/output/train", exist_ok=True)
"""


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every error here must come before the tool asks for a Docker engine."""

    def refuse(cls: type[DockerEngine]) -> DockerEngine:
        raise AssertionError("Engine.connect() was called")

    monkeypatch.setattr(DockerEngine, "connect", classmethod(refuse))
    monkeypatch.setenv("NO_COLOR", "1")


def _run(tmp_path: Path, *options: str, script: str = "") -> Result:
    path = tmp_path / "train.py"
    path.write_text(SCRIPT, encoding="utf-8")
    workspace = tmp_path / "ws"
    args = ["test-script", script or str(path), "--workspace-dir", str(workspace), *options]
    return CliRunner().invoke(cli, args)


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("sandbox: error: ")
    assert "internal error" not in lines[0]
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--cpus", "nan"], "--cpus 'nan': give a number of CPUs of at least 0.01"),
        (["--cpus", "-1"], "--cpus '-1': give a number of CPUs of at least 0.01"),
        (["--cpus", "0"], "--cpus '0': give a number of CPUs of at least 0.01"),
        (["--memory", "4"], "--memory '4': below Docker's minimum of 6 MiB"),
        (["--memory", "1k"], "--memory '1k': below Docker's minimum of 6 MiB"),
        (["--memory", "0"], "--memory '0': below Docker's minimum of 6 MiB (0 is no limit"),
        (["--memory", "lots"], "--memory 'lots': invalid memory size"),
        (["--image", "../../etc"], "--image '../../etc': not an image reference"),
        (["--image", ""], "--image '': empty: give an image profile or an image reference"),
        (["--image", "Bad:Ref:x"], "--image 'Bad:Ref:x': not an image reference"),
        (["--env", "PATH=nonexist"], "--env 'PATH=nonexist': PATH='nonexist' replaces the image"),
        (["--env", "1X=a"], "--env '1X=a': invalid variable name '1X'"),
        (["--env", "A-B=1"], "--env 'A-B=1': invalid variable name 'A-B'"),
        (["--arg", "a\nb=1"], "--arg 'a\\nb=1': invalid argument name 'a\\nb'"),
        (["--arg", "a b=1"], "--arg 'a b=1': invalid argument name 'a b'"),
        (["--arg", "a=x\x00y"], "--arg 'a=x\\x00y': contains a NUL byte"),
        (
            ["--data-source", "s3://Bad_Bucket!/x"],
            "--data-source: invalid S3 bucket name 'Bad_Bucket!'",
        ),
    ],
)
def test_bad_option_values_are_one_line_naming_option_and_value(
    tmp_path: Path, options: list[str], expected: str
) -> None:
    line = _one_line_error(_run(tmp_path, *options))
    assert expected in line
    assert not (tmp_path / "ws" / "runs").exists()


def test_a_script_path_that_is_a_folder_is_said_to_be_one(tmp_path: Path) -> None:
    folder = tmp_path / "model.py"
    folder.mkdir()
    line = _one_line_error(_run(tmp_path, script=str(folder)))
    assert f"script {str(folder)!r}: {folder} is a folder, not a script file" in line
    assert "not found" not in line


def test_a_folder_does_not_hide_a_script_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder in the current folder named like a script in --scripts-dir: the script
    is still found."""
    from sandbox.contract.resolve import find_script

    monkeypatch.chdir(tmp_path)
    (tmp_path / "train").mkdir()
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "train.py").write_text(SCRIPT, encoding="utf-8")
    assert find_script("train", Path("scripts")) == (tmp_path / "scripts" / "train.py").resolve()


def test_a_bad_spec_image_names_the_field(tmp_path: Path) -> None:
    spec = tmp_path / "train.yaml"
    spec.write_text("script: train.py\nimage: ../../etc\n", encoding="utf-8")
    line = _one_line_error(_run(tmp_path, "--spec", str(spec)))
    assert "field 'image'" in line
    assert "not an image reference" in line
