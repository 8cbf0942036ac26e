"""The image profiles ship inside the wheel: listed from an install outside the clone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


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
