"""Shared fixtures: the Docker engine (required in CI), the offline image, leftovers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sandbox.container.engine import DockerEngine
    from sandbox.container.images import ResolvedImage

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

REPO_ROOT = Path(__file__).resolve().parent.parent
# Every container this test session makes (also through the CLI in subprocesses) carries
# this label, so the leftover check counts this session's containers and no one else's.
SESSION_LABEL = f"sandbox.test-session={uuid.uuid4().hex[:12]}"
os.environ["SANDBOX_EXTRA_LABELS"] = SESSION_LABEL


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def engine() -> Iterator[DockerEngine]:
    """A connected engine; a missing engine skips locally and fails in CI."""
    from sandbox.container.engine import DockerEngine
    from sandbox.errors import EngineUnavailableError

    try:
        connected = DockerEngine.connect()
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
def offline_image(engine: DockerEngine) -> ResolvedImage:
    """The sklearn-1.2 profile, built once per session (a no-op when already built)."""
    from sandbox.container.images import ensure_image

    return ensure_image(engine, "sklearn-1.2")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server on loopback, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Dummy credentials and the moto endpoint, nothing of the host's AWS setup."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return moto_endpoint


def build_wheel(
    folder: Path, name: str, version: str = "0.1", value: str = "from the wheel"
) -> Path:
    """A pure-Python wheel of a one-module package ``name`` whose ``VALUE`` is ``value``,
    written by hand (a wheel is a zip with metadata), so no build backend or network is
    needed."""
    import base64
    import hashlib
    import zipfile

    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{dist}.py": f"VALUE = {value!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{dist}-{version}-py3-none-any.whl"
    # A fixed timestamp: the same wheel has the same bytes, so caches keyed by it hit.
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), text)
    return wheel


@pytest.fixture
def tiny_wheel(tmp_path: Path) -> Path:
    """A local wheel of the package ``tiny-pkg`` (module ``tiny_pkg``)."""
    return build_wheel(tmp_path / "dist", "tiny-pkg")


@pytest.fixture
def wheel_factory() -> object:
    """:func:`build_wheel`, for tests that need a wheel of their own."""
    return build_wheel
