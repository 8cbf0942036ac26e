"""The command line (sandbox.cli): help, usage errors before any Docker call, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from sandbox.cli import cli
from sandbox.container.engine import DockerEngine

SCRIPT = """\
import pandas as pd

if __name__ == "__main__":
    df = pd.read_csv("/opt/ml/processing/input/data/part.csv")
    df.to_csv("/opt/ml/processing/output/train/part.csv")
"""


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Usage errors must be raised before the tool asks for a Docker engine."""

    def refuse(cls: type[DockerEngine]) -> DockerEngine:
        raise AssertionError("DockerEngine.connect() was called")

    monkeypatch.setattr(DockerEngine, "connect", classmethod(refuse))
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _command_paths(command, (*prefix, name))


COMMANDS = [(), *_command_paths(cli)]


def test_the_command_tree_has_the_documented_commands() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {"test-script", "images", "images list", "images build", "spec", "spec schema"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "sandbox")
def test_help_of_every_command_exits_0(path: tuple[str, ...]) -> None:
    result = _invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ")
    assert "-h, --help" in result.stdout


def test_arg_without_equals_is_a_one_line_usage_error() -> None:
    result = _invoke("test-script", "anything", "--arg", "noequals")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "--arg" in lines[0]
    assert "'noequals'" in lines[0]
    assert "Traceback" not in result.output


def test_env_without_name_is_a_usage_error() -> None:
    result = _invoke("test-script", "anything", "--env", "=value")
    assert result.exit_code == 2
    assert "--env" in result.stderr


def test_unknown_script_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    result = _invoke(
        "test-script", "no_such_script", "--scripts-dir", str(tmp_path / "my" / "scripts")
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert "'no_such_script'" in lines[0]
    assert len(lines) == 1, lines


def test_spec_schema_prints_json() -> None:
    result = _invoke("spec", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"inputs", "outputs", "image"} <= set(schema["properties"])


def test_spec_with_a_typo_exits_2_naming_the_field(tmp_path: Path) -> None:
    script = tmp_path / "tabular.py"
    script.write_text(SCRIPT, encoding="utf-8")
    spec = tmp_path / "tabular.yaml"
    spec.write_text(
        "script: tabular.py\ninptus:\n  data: {path: /opt/ml/processing/input/data}\n",
        encoding="utf-8",
    )
    result = _invoke("test-script", str(script), "--spec", str(spec))
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert "inptus" in message
    assert "unknown field" in message
    assert "Traceback" not in result.output


def test_spec_naming_another_script_exits_2(tmp_path: Path) -> None:
    script = tmp_path / "tabular.py"
    script.write_text(SCRIPT, encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text("script: other.py\n", encoding="utf-8")
    result = _invoke("test-script", str(script), "--spec", str(spec))
    assert result.exit_code == 2, result.output
    assert "other.py" in " ".join(result.stderr.split())


def test_max_runtime_out_of_range_is_rejected_by_click() -> None:
    result = _invoke("test-script", "anything", "--max-runtime", "0")
    assert result.exit_code == 2
    assert "--max-runtime" in result.stderr


@pytest.mark.parametrize("value", ["[/x]", "[bold]x"])
def test_error_text_is_printed_literally_not_as_markup(value: str) -> None:
    # Error messages carry user text (values, paths, build logs): brackets in them must
    # neither crash the printer nor vanish.
    result = _invoke("test-script", "anything", "--arg", value)
    assert result.exit_code == 2, repr(result.exception)
    assert repr(value) in result.stderr


def test_pids_limit_too_small_is_rejected_by_click() -> None:
    result = _invoke("test-script", "anything", "--pids-limit", "8")
    assert result.exit_code == 2
    assert "--pids-limit" in result.stderr


def test_secret_env_set_nowhere_is_a_one_line_error_before_any_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DB_URL", raising=False)
    script = tmp_path / "prep.py"
    script.write_text("print('hello')\n")
    result = _invoke("test-script", str(script), "--secret-env", "DB_URL")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "secret variable DB_URL: not set" in lines[0]


def test_a_bad_copy_mode_in_the_environment_exits_2_before_any_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "tabular.py"
    script.write_text(SCRIPT, encoding="utf-8")
    monkeypatch.setenv("SANDBOX_COPY_MODE", "rsync")
    result = _invoke("test-script", str(script))
    assert result.exit_code == 2, result.output
    assert "SANDBOX_COPY_MODE='rsync': give auto, bind or copy" in result.stderr


def test_copy_mode_takes_only_auto_bind_or_copy() -> None:
    result = _invoke("test-script", "anything", "--copy-mode", "rsync")
    assert result.exit_code == 2
    assert "--copy-mode" in result.stderr
