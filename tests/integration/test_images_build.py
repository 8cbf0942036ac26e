"""Build the offline profile for real, look inside it, and check the registry-profile error.

The first run makes the debootstrap base and builds ``sklearn-1.2`` (a few minutes);
later runs find the content tag and build nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from sandbox.container.images import discover_profiles, ensure_image, list_profiles, profile_tag
from sandbox.container.seam import Engine
from sandbox.errors import BaseImageError, ImageNotFoundError

pytestmark = pytest.mark.docker

TEST_LABELS = {"sandbox.tool": "sandbox", "sandbox.test": "images-build"}
TEST_FILTER = "sandbox.test=images-build"

# Runs inside the image: versions, a Parquet round trip, a plot, no data under /opt/ml.
PROBE = """
import json, os
import matplotlib, numpy, pandas, pyarrow, sklearn, xgboost
matplotlib.use("Agg")
import matplotlib.pyplot as plt
frame = pandas.DataFrame({"x": numpy.arange(5)})
frame.to_parquet("/tmp/probe.parquet")
plt.plot(frame["x"]); plt.savefig("/tmp/probe.png")
print(json.dumps({
    "pandas": pandas.__version__, "sklearn": sklearn.__version__,
    "xgboost": xgboost.__version__, "pyarrow": pyarrow.__version__,
    "matplotlib": matplotlib.__version__, "numpy": numpy.__version__,
    "parquet_rows": len(pandas.read_parquet("/tmp/probe.parquet")),
    "plot_bytes": os.path.getsize("/tmp/probe.png"),
    "opt_ml_exists": os.path.exists("/opt/ml"),
}))
"""


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    connected = docker.from_env()
    yield connected
    for container in connected.containers.list(all=True, filters={"label": TEST_FILTER}):
        container.remove(force=True)
    connected.close()


def _run_python(client: docker.DockerClient, image: str, code: str) -> str:
    container = client.containers.create(
        image, ["python3", "-c", code], labels=TEST_LABELS, network_disabled=True
    )
    try:
        container.start()
        status = container.wait(timeout=120)
        output = container.logs(stdout=True, stderr=True).decode()
        assert status["StatusCode"] == 0, output
        return str(output)
    finally:
        container.remove(force=True)


@pytest.fixture(scope="module")
def sklearn_image(engine: Engine) -> Any:
    lines: list[str] = []
    resolved = ensure_image(engine, "sklearn-1.2", on_line=lines.append)
    return resolved, lines


def test_sklearn_profile_has_the_production_framework_versions(
    sklearn_image: Any, client: docker.DockerClient
) -> None:
    resolved, _ = sklearn_image
    report = json.loads(_run_python(client, resolved.reference, PROBE).strip().splitlines()[-1])

    assert report["pandas"].startswith("1.5.")
    assert report["sklearn"].startswith("1.2.")
    assert report["xgboost"].startswith("1.7.")
    assert report["numpy"].startswith("1.")
    assert int(report["pyarrow"].split(".")[0]) < 20
    assert report["matplotlib"].startswith("3.")
    assert report["parquet_rows"] == 5
    assert report["plot_bytes"] > 0
    assert report["opt_ml_exists"] is False


def test_sklearn_image_is_labelled_and_has_no_entrypoint(
    sklearn_image: Any, engine: Engine, client: docker.DockerClient
) -> None:
    resolved, _ = sklearn_image
    info = engine.image(resolved.reference)
    config = client.images.get(resolved.reference).attrs["Config"]

    assert info is not None
    assert info.labels["sandbox.tool"] == "sandbox"
    assert info.labels["sandbox.profile"] == "sklearn-1.2"
    assert resolved.reference == profile_tag(discover_profiles()["sklearn-1.2"])
    assert resolved.reference.endswith(info.labels["sandbox.profile-hash"])
    assert not config.get("Entrypoint")
    assert config["Cmd"] == ["python3"]
    assert "PYTHONUNBUFFERED=1" in config["Env"]
    assert not any(item.startswith("DEBIAN_FRONTEND=") for item in config["Env"])


def test_second_ensure_reuses_the_image_without_building(
    sklearn_image: Any, engine: Engine
) -> None:
    resolved, _ = sklearn_image
    lines: list[str] = []

    again = ensure_image(engine, "sklearn-1.2", on_line=lines.append)

    assert again.built_now is False
    assert again.image_id == resolved.image_id
    assert again.reference == resolved.reference
    assert lines == []  # nothing was downloaded, made or built
    [status] = [s for s in list_profiles(engine) if s.profile == "sklearn-1.2"]
    assert status.built is True
    assert status.image_id == resolved.image_id


def test_registry_profile_says_its_base_cannot_be_pulled(engine: Engine) -> None:
    base = "python:3.10-slim"
    if engine.image(base) is not None:
        pytest.skip(f"{base} is present locally, so py310 can build here")
    try:
        engine.pull(base)
    except ImageNotFoundError:
        pass
    else:
        pytest.skip(f"a registry is reachable: {base} was pulled")

    with pytest.raises(BaseImageError) as caught:
        ensure_image(engine, "py310")

    message = str(caught.value)
    assert "\n" not in message
    assert "base image 'python:3.10-slim' cannot be pulled here" in message
    assert "the 'sklearn-1.2' or 'xgboost-1.7' profile builds offline" in message
    assert engine.image(profile_tag(discover_profiles()["py310"])) is None


@pytest.mark.parametrize("profile", ["sklearn-1.2", "xgboost-1.7"])
def test_offline_profiles_record_their_distributions_and_let_pip_install(
    profile: str, engine: Engine, client: docker.DockerClient
) -> None:
    resolved = ensure_image(engine, profile)
    recorded = json.loads(engine.image(resolved.reference).labels["sandbox.distributions"])  # type: ignore[union-attr]

    assert recorded["boto3"].startswith("1.") and recorded["botocore"].startswith("1.")
    assert recorded["scikit-learn"].startswith("1.2.") and recorded["xgboost"].startswith("1.7.")
    assert resolved.contents.python_version is not None
    assert {"boto3", "sklearn", "xgboost", "pandas"} <= resolved.contents.modules
    # PEP 668 no longer refuses: pip gets as far as looking for the package.
    probe = (
        "import subprocess, sys; done = subprocess.run([sys.executable, '-m', 'pip', 'install',"
        " '--no-index', 'no-such-sandbox-pkg'], capture_output=True, text=True);"
        " print('externally-managed' in done.stderr, 'No matching distribution' in done.stderr)"
    )
    assert _run_python(client, resolved.reference, probe).split() == ["False", "True"]
