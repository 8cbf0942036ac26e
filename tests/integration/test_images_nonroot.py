"""A user who is not root builds the default profile on a base image from a registry.

Making the local Debian base needs root and debootstrap. Without them, the profile starts
from the same release in a registry (``base.registry``). No registry answers here, so a
tag of the local bookworm base stands in for the image a registry would serve; the build
itself runs as an unprivileged user against the real engine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.container.images import (
    ResolvedImage,
    base_image_tag,
    discover_profiles,
    profile_tag,
)

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534


def _socket_path() -> Path:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        pytest.fail(f"this test needs a local engine socket, DOCKER_HOST is {host}")
    return Path(host.removeprefix("unix://"))


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the unprivileged user can read and write (pytest's tmp_path is 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="sandbox-nonroot-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def stand_in(engine: Any, offline_image: ResolvedImage) -> Iterator[str]:
    """A tag of the local bookworm base, standing in for ``debian:bookworm-slim``."""
    import docker

    client = docker.from_env()
    profile = discover_profiles(REPO / "images")["sklearn-1.2"]
    assert profile.base is not None
    local_base = client.images.get(base_image_tag(profile.base))
    tag = f"sandbox-test/registry-bookworm:{uuid.uuid4().hex[:12]}"
    local_base.tag(tag)
    try:
        yield tag
    finally:
        client.images.remove(tag)


def _as_nobody(argv: list[str], home: Path, images_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "SANDBOX_IMAGES_DIR": str(images_dir),
        "LANG": "C.UTF-8",
    }
    docker_gid = _socket_path().stat().st_gid
    # The interpreter may live in a folder only root can read (a pyenv under /root): the
    # user keeps the right to read files, not to write them, and is not root otherwise.
    read_only = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", f"--groups={docker_gid}"]
    prefix += read_only
    return subprocess.run(
        [*prefix, sys.executable, "-m", "sandbox", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=900,
        check=False,
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to an unprivileged user needs root")
def test_default_profile_builds_without_root_from_a_registry_base(
    shared_dir: Path, stand_in: str
) -> None:
    import docker

    home = shared_dir / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    images_dir = shared_dir / "images"
    shutil.copytree(REPO / "images" / "sklearn-1.2", images_dir / "sklearn-1.2")
    spec_path = images_dir / "sklearn-1.2" / "profile.json"
    spec = json.loads(spec_path.read_text())
    # A debootstrap base of its own, which nobody here has made: only the registry remains.
    spec["base"]["debootstrap"]["include"] = ["python3", "ca-certificates"]
    spec["base"]["registry"] = stand_in
    spec_path.write_text(json.dumps(spec))
    profile = discover_profiles(images_dir)["sklearn-1.2"]
    assert profile.base is not None
    client = docker.from_env()
    assert not client.images.list(name=base_image_tag(profile.base))
    expected = profile_tag(profile, base_image=stand_in)

    try:
        built = _as_nobody(["images", "build", "sklearn-1.2"], home, images_dir)
        assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
        listed = _as_nobody(["images", "list", "--output-format", "json"], home, images_dir)
        image = client.images.get(expected)
    finally:
        if any(expected in found.tags for found in client.images.list(name=expected)):
            client.images.remove(expected)

    assert f"starting from {stand_in}" in built.stdout + built.stderr
    distributions = json.loads(image.labels["sandbox.distributions"])
    assert distributions["pandas"].startswith("1.5.3")
    assert "boto3" in distributions
    assert not client.images.list(name=base_image_tag(profile.base))
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["tag"] == expected and row["built"] is True
    assert not any(path.stat().st_uid == 0 for path in home.rglob("*"))
