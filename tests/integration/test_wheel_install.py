"""The wheel, installed outside the clone: the image profiles ship inside it, and the
README's commands marked to run anywhere run from there."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from readme_blocks import REPO, readme_commands

OWN_SCRIPT = """\
import os

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    with open(os.path.join(OUTPUT, "done.txt"), "w") as handle:
        handle.write("done")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)]
    subprocess.run(argv, check=True, capture_output=True, cwd=out)
    return next(out.glob("sandbox-*.whl"))


def test_wheel_holds_every_profile_byte_for_byte(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.removeprefix("sandbox/_profiles/"): archive.read(name)
            for name in archive.namelist()
            if name.startswith("sandbox/_profiles/")
        }
    in_repo = {
        path.relative_to(REPO / "images").as_posix(): path.read_bytes()
        for path in (REPO / "images").glob("*/*")
        if path.is_file() and path.parent.joinpath("profile.json").is_file()
    }
    assert "sklearn-1.2/Dockerfile" in shipped and "xgboost-1.7/profile.json" in shipped
    assert shipped == in_repo


def test_wheel_holds_the_instance_types(wheel: Path) -> None:
    table = REPO / "sandbox" / "container" / "data" / "instance_types.csv"
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("sandbox/container/data/instance_types.csv") == table.read_bytes()


def test_installed_wheel_lists_the_profiles_with_the_clones_tags(
    wheel: Path, tmp_path: Path, engine: object
) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("SANDBOX_IMAGES_DIR", None)
    argv = [sys.executable, "-m", "sandbox", "images", "list", "--output-format", "json"]

    done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, check=False)
    from_clone = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)

    assert done.returncode == 0, done.stderr
    where = [sys.executable, "-c", "import sandbox.container.images as i; print(i.profiles_root())"]
    root = subprocess.run(where, capture_output=True, text=True, cwd=tmp_path, env=env, check=True)
    assert root.stdout.strip() == str(site / "sandbox" / "_profiles")
    installed = {row["profile"]: row["tag"] for row in json.loads(done.stdout)}
    assert installed == {row["profile"]: row["tag"] for row in json.loads(from_clone.stdout)}
    assert {"sklearn-1.2", "xgboost-1.7"} <= set(installed)


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a process that imports the installed wheel, not the clone."""
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "NO_COLOR": "1"}
    env.pop("SANDBOX_IMAGES_DIR", None)
    where = [sys.executable, "-c", "import sandbox; print(sandbox.__file__)"]
    imported = subprocess.run(where, capture_output=True, text=True, cwd=site, env=env, check=True)
    assert imported.stdout.strip() == str(site / "sandbox" / "__init__.py")
    return env


def _outside(args: list[str], where: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``sandbox ARGS`` of the installed wheel, started in ``where`` (outside the clone)."""
    argv = [sys.executable, "-m", "sandbox", *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=where, env=env, timeout=600)


@pytest.mark.usefixtures("offline_image")
@pytest.mark.parametrize("command", readme_commands("anywhere"))
def test_readme_command_runs_from_the_installed_wheel(
    command: str, installed: dict[str, str], tmp_path: Path
) -> None:
    assert not tmp_path.is_relative_to(REPO)
    env = {**installed, "SANDBOX_WORKSPACE_DIR": str(tmp_path / "ws")}
    done = _outside(shlex.split(command)[1:], tmp_path, env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    if command.startswith("sandbox spec"):
        json.loads(done.stdout)


@pytest.mark.usefixtures("offline_image")
def test_installed_wheel_runs_a_script_named_in_its_scripts_folder(
    installed: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "prep.py").write_text(OWN_SCRIPT, encoding="utf-8")
    env = {**installed, "SANDBOX_WORKSPACE_DIR": str(tmp_path / "ws")}
    schema = json.loads(_outside(["spec", "result-schema"], tmp_path, env).stdout)

    done = _outside(["test-script", "prep", "--output-format", "json"], tmp_path, env)
    missing = _outside(
        ["test-script", "tabular_preprocessing", "--output-format", "json"], tmp_path, env
    )

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    document = json.loads(done.stdout)
    assert set(document) == set(schema["required"])
    (result,) = document["results"]
    assert result["status"] == "PASS" and result["script_path"] == str(
        tmp_path / "scripts" / "prep.py"
    )
    assert missing.returncode == 2  # the bundled examples stay in the clone
    assert json.loads(missing.stdout)["error"]["type"] == "ScriptNotFoundError"
    # Only the folders that exist are named: an install has no bundled examples.
    message = json.loads(missing.stdout)["error"]["message"]
    assert str(tmp_path / "scripts" / "tabular_preprocessing.py") in message
    assert "examples" not in message
