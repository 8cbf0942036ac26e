"""``sandbox images prune`` on the real engine: an old profile tag goes, one a container
uses stays. The profiles folder is private, so no one else's images are considered."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.container.images import ResolvedImage


@pytest.fixture
def stale_pair(
    engine: Any, offline_image: ResolvedImage, tmp_path: Path
) -> Iterator[tuple[Path, str, str]]:
    import docker

    name = f"prune-test-{uuid.uuid4().hex[:8]}"
    root = tmp_path / "profiles"
    (root / name).mkdir(parents=True)
    (root / name / "Dockerfile").write_text(f"FROM {offline_image.reference}\n")
    (root / name / "profile.json").write_text(
        json.dumps({"description": "prune test", "python_version": "3.11"})
    )
    labels = {"sandbox.tool": "sandbox", "sandbox.profile": name}
    old, used = f"sandbox/{name}:000000000000", f"sandbox/{name}:111111111111"
    for tag in (old, used):
        context = tmp_path / tag.rpartition(":")[2]
        context.mkdir()
        (context / "Dockerfile").write_text(f"FROM {offline_image.reference}\nLABEL tag={tag}\n")
        engine.build(context, tag, profile=name, buildargs={}, labels=labels)
    client = docker.from_env()
    holder = client.containers.create(used, command=["true"], labels={"sandbox.tool": "test"})
    try:
        yield root, old, used
    finally:
        holder.remove(force=True)
        for tag in (old, used):
            if client.images.list(name=tag):
                client.images.remove(tag)


def test_prune_removes_an_old_tag_and_keeps_one_a_container_uses(
    stale_pair: tuple[Path, str, str], engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, old, used = stale_pair
    monkeypatch.setenv("SANDBOX_IMAGES_DIR", str(root))

    listed = CliRunner().invoke(cli, ["images", "prune", "--dry-run"])
    assert listed.exit_code == 0, listed.output
    assert f"would remove {old}" in listed.output and f"would remove {used}" in listed.output
    assert engine.image(old) is not None

    pruned = CliRunner().invoke(cli, ["images", "prune"])

    assert pruned.exit_code == 0, pruned.output
    assert f"removed {old}" in pruned.output
    assert f"kept {used}: a container still uses it" in pruned.output
    assert engine.image(old) is None and engine.image(used) is not None
