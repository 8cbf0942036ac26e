"""Settings in one place (sandbox.cli.settings, ``sandbox config``): the settings file,
then SANDBOX_* variables, then flags; unknown keys are refused naming key and file."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from sandbox.cli import cli
from sandbox.cli.settings import ENV_OPTIONS, find_settings_file, load_settings

PYPROJECT = """\
[project]
name = "demo"

[tool.sandbox]
workspace-dir = ".sbx"
image = "sklearn-1.2"
instance-type = "ml.m5.large"

[tool.sandbox.test-script]
jobs = 2
arg = ["job_type=training"]
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ENV_OPTIONS:
        monkeypatch.delenv("SANDBOX_" + key.upper().replace("-", "_"), raising=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with settings in its pyproject.toml; the current folder is a sub-folder."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    return tmp_path


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def settings_lines(result: Result) -> dict[str, str]:
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if " = " in line]
    return {line.split(" = ")[0]: line.split(" = ", 1)[1] for line in lines}


def test_the_file_is_found_from_a_sub_folder_and_feeds_each_command(project: Path) -> None:
    settings = load_settings(cli, Path.cwd())
    assert settings.path == project / "pyproject.toml"
    test_script = settings.default_map["test-script"]
    assert test_script["image"] == "sklearn-1.2"
    assert test_script["instance_type"] == "ml.m5.large"
    assert (test_script["jobs"], test_script["args"]) == (2, ["job_type=training"])
    # A relative path is the project's, wherever the command runs from.
    assert test_script["workspace_dir"] == str(project / ".sbx")
    # Global keys reach only the commands that have the option; command tables stay theirs.
    assert settings.default_map["list-results"] == {"workspace_dir": str(project / ".sbx")}
    assert "jobs" not in settings.default_map["test-pipeline"]


def test_flags_beat_variables_beat_the_file_beat_defaults(project: Path) -> None:
    result = invoke(
        "config", "test-script", "--image", "mine", env={"SANDBOX_INSTANCE_TYPE": "ml.t3.medium"}
    )
    lines = settings_lines(result)
    assert lines["image"] == '"mine"  # flag'
    assert lines["instance-type"] == '"ml.t3.medium"  # env SANDBOX_INSTANCE_TYPE'
    file = project / "pyproject.toml"
    assert lines["jobs"] == f"2  # {file} [tool.sandbox.test-script]"
    assert lines["workspace-dir"] == f'"{project / ".sbx"}"  # {file} [tool.sandbox]'
    assert lines["data-size"] == '"small"  # default'
    assert f"settings file: {file}" in result.output


def test_a_command_uses_the_files_settings(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.sandbox]\noutput-format = "json"\n', encoding="utf-8"
    )
    result = invoke("list-results")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["results"] == []


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('[tool.sandbox]\nimge = "x"\n', "[tool.sandbox] imge: unknown setting; did you mean"),
        ("[tool.sandbox.test-script]\nworkers = 2\n", "[tool.sandbox.test-script] workers"),
        ('[tool.sandbox.tset-script]\nimage = "x"\n', "[tool.sandbox.tset-script]: no such"),
        ('[tool.sandbox.test-script]\njobs = "many"\n', "[tool.sandbox.test-script] jobs:"),
        ("[tool.sandbox.images.build]\nrebuld = true\n", "[tool.sandbox.images.build] rebuld"),
    ],
)
def test_a_bad_setting_is_refused_naming_the_key_and_the_file(
    project: Path, table: str, problem: str
) -> None:
    (project / "pyproject.toml").write_text(table, encoding="utf-8")
    result = invoke("list-results")
    assert result.exit_code == 2
    assert f"{project / 'pyproject.toml'}: {problem}" in " ".join(result.output.split())


def test_a_nested_command_table_is_taken(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.sandbox.images.build]\nrebuild = true\n", encoding="utf-8"
    )
    assert settings_lines(invoke("config", "images", "build"))["rebuild"].startswith("true  # ")


def test_config_of_a_group_asks_for_one_of_its_commands(project: Path) -> None:
    result = invoke("config", "images")
    assert result.exit_code == 2
    assert (
        "sandbox config images: name one of its commands: build, list, prune, show" in result.output
    )


def test_sandbox_toml_is_the_table_itself_and_wins_in_its_folder(project: Path) -> None:
    (project / "sandbox.toml").write_text('image = "from-sandbox-toml"\n', encoding="utf-8")
    found = find_settings_file(Path.cwd())
    assert found is not None and found[0] == project / "sandbox.toml"
    assert settings_lines(invoke("config"))["image"] == (
        f'"from-sandbox-toml"  # {project / "sandbox.toml"}'
    )


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    found = find_settings_file(tmp_path / "inner")
    assert found is not None and found[0] == tmp_path / "pyproject.toml"


def test_no_file_no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("config")
    assert "no settings file" in result.output
    assert settings_lines(result)["image"] == "(not set)  # default"


def test_invalid_toml_is_a_usage_error(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.sandbox\n", encoding="utf-8")
    result = invoke("list-results")
    assert result.exit_code == 2
    assert "not readable TOML" in result.output


def _option_env_vars(group: click.Group) -> set[str]:
    names: set[str] = set()
    for command in group.commands.values():
        if isinstance(command, click.Group):
            names |= _option_env_vars(command)
        for param in command.params:
            if isinstance(param, click.Option) and isinstance(param.envvar, str):
                names.add(param.envvar)
    return names


def test_option_variables_do_not_collide_with_the_tools_other_variables() -> None:
    names = _option_env_vars(cli)
    assert {"SANDBOX_IMAGE", "SANDBOX_INSTANCE_TYPE", "SANDBOX_WORKSPACE_DIR"} <= names
    others = {"SANDBOX_EXTRA_LABELS", "SANDBOX_HEARTBEAT_TIMEOUT_S", "SANDBOX_IMAGES_DIR"}
    assert not names & (others | {"SANDBOX_CODE", "SANDBOX_TEST_HOST_ONLY"})
    assert all(name.startswith("SANDBOX_") for name in names)
