"""Shared fixtures: the Docker engine (required in CI), the offline image, leftovers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

REPO_ROOT = Path(__file__).resolve().parent.parent
# Every container this test session makes (also through the CLI in subprocesses) carries
# this label, so the leftover check counts this session's containers and no one else's.
SESSION_LABEL = f"sandbox.test-session={uuid.uuid4().hex[:12]}"
os.environ["SANDBOX_EXTRA_LABELS"] = SESSION_LABEL


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def engine() -> Iterator[object]:
    """A connected engine; a missing engine skips locally and fails in CI."""
    from sandbox.engine import Engine
    from sandbox.errors import EngineUnavailableError

    try:
        connected = Engine.connect()
    except EngineUnavailableError as exc:
        if _in_ci():
            pytest.fail(f"CI needs a Docker engine: {exc}")
        pytest.skip(f"no Docker engine: {exc}")
    yield connected
    leftovers = connected.count_labelled(SESSION_LABEL)
    connected.remove_labelled(SESSION_LABEL)
    connected.close()
    assert leftovers == 0, f"{leftovers} container(s) of this test session were left behind"


@pytest.fixture(scope="session")
def offline_image(engine: object) -> object:
    """The sklearn-1.2 profile, built once per session (a no-op when already built)."""
    from sandbox.images import ensure_image

    return ensure_image(engine, "sklearn-1.2")  # type: ignore[arg-type]
