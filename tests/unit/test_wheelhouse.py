"""The local wheelhouse: requirements files, the cache, pip's configuration and hints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.container.distributions import ImageContents
from sandbox.container.wheelhouse import (
    WheelhouseError,
    WheelTarget,
    ensure_wheelhouse,
    pip_config,
    pip_failure_hint,
    read_requirements,
)
from sandbox.errors import UsageError

TARGET = WheelTarget("3.11", "2.36", "x86_64")


def test_target_comes_from_the_image_and_covers_older_manylinux_tags() -> None:
    image = ImageContents(python_version="3.11.2", glibc="2.36", machine="x86_64")

    target = WheelTarget.for_image(image)

    assert target == TARGET
    platforms = target.platforms()
    assert platforms[0] == "manylinux_2_36_x86_64"
    assert "manylinux_2_17_x86_64" in platforms and "manylinux_2_16_x86_64" not in platforms
    assert platforms[-1] == "manylinux2014_x86_64"


def test_requirements_file_drops_comments_and_refuses_options(tmp_path: Path) -> None:
    good = tmp_path / "requirements.txt"
    good.write_text("# pinned\npygam==0.8.1  # calibration\n\nlightgbm>=3.3\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("-r other.txt\n")

    assert read_requirements(good) == ["pygam==0.8.1", "lightgbm>=3.3"]
    with pytest.raises(UsageError, match=r"bad\.txt: option lines are not supported: -r"):
        read_requirements(bad)


def test_pip_config_forbids_the_index_only_without_network() -> None:
    offline, online = pip_config(network=False), pip_config(network=True)

    assert "find-links = /opt/sandbox/wheels" in offline and "no-index = true" in offline
    assert "break-system-packages = true" in offline
    assert "no-index" not in online


def test_pip_hint_names_the_package_and_the_fix() -> None:
    lines = [
        "ERROR: Could not find a version that satisfies the requirement pygam==0.8.1 "
        "(from versions: none)",
        "ERROR: No matching distribution found for pygam==0.8.1",
        "subprocess.CalledProcessError: Command '[...]' returned non-zero exit status 1.",
    ]

    hint = pip_failure_hint(lines, network=False)

    assert hint is not None and "\n" not in hint
    assert hint.startswith("pip install pygam==0.8.1 failed: the local wheelhouse has no wheel")
    assert "--requirements FILE" in hint and "requirements:" in hint
    assert pip_failure_hint(["ValueError: x"], network=False) is None


def test_wheelhouse_is_downloaded_once_then_served_from_the_cache(
    tmp_path: Path, tiny_wheel: Path
) -> None:
    first = ensure_wheelhouse(tmp_path / "cache", TARGET, [str(tiny_wheel)])
    second = ensure_wheelhouse(tmp_path / "cache", TARGET, [str(tiny_wheel)])

    assert not first.cache_hit and second.cache_hit
    assert first.folder == second.folder
    assert (first.folder / tiny_wheel.name).is_file()
    assert (first.folder / "requirements.txt").read_text() == "tiny_pkg==0.1\n"
    other = ensure_wheelhouse(
        tmp_path / "cache", WheelTarget("3.10", "2.36", "x86_64"), [str(tiny_wheel)]
    )
    assert other.folder != first.folder


def test_an_offered_target_that_cannot_be_had_is_missing_not_an_error(
    tmp_path: Path, tiny_wheel: Path
) -> None:
    absent = str(tmp_path / "absent_pkg-1.0-py3-none-any.whl")

    house = ensure_wheelhouse(tmp_path / "cache", TARGET, [str(tiny_wheel)], [absent])

    assert house.missing == (absent,)
    assert json.loads((house.folder / "wheelhouse.json").read_text())["missing"] == [absent]
    with pytest.raises(WheelhouseError) as caught:
        ensure_wheelhouse(tmp_path / "cache", TARGET, [absent])
    assert caught.value.requirement == absent or absent in str(caught.value)
