"""Framework-container behaviour end to end: boto3, pip with no network from the local
wheelhouse, derived images, and the pre-flight import check."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sandbox.container.images import base_image_tag, discover_profiles
from sandbox.contract.resolve import Overrides
from sandbox.errors import UsageError
from sandbox.results.models import Status, TestResult
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")

_WRITE_REPORT = """
import json, os, sys
os.makedirs("/opt/ml/processing/output/report", exist_ok=True)
def report(**values):
    with open("/opt/ml/processing/output/report/report.json", "w") as out:
        json.dump(values, out)
"""


def _script(folder: Path, body: str, name: str = "job.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(_WRITE_REPORT + textwrap.dedent(body))
    return path


def _run(engine: Any, tmp_path: Path, script: Path, **kwargs: Any) -> TestResult:
    request = RunRequest(script=str(script), workspace=tmp_path / "ws", **kwargs)
    return run_script(request, engine)


def _report(result: TestResult) -> dict[str, Any]:
    path = Path(result.run_dir) / "outputs" / "report" / "report.json"
    return json.loads(path.read_text())


def test_image_has_boto3_python_and_unbuffered_output(engine: Any, tmp_path: Path) -> None:
    script = _script(
        tmp_path / "code",
        """
        import shutil, boto3, botocore
        report(boto3=boto3.__version__, python=shutil.which("python"),
               unbuffered=os.environ.get("PYTHONUNBUFFERED"))
        """,
    )

    result = _run(engine, tmp_path, script)

    assert result.status is Status.PASS, result.stderr_tail
    values = _report(result)
    assert values["boto3"].startswith("1.")
    assert values["python"] and values["unbuffered"] == "1"


def test_script_pip_install_is_served_from_the_wheelhouse_with_no_network(
    engine: Any, tmp_path: Path, tiny_wheel: Path
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"{tiny_wheel}\n")
    script = _script(
        tmp_path / "code",
        """
        import subprocess
        subprocess.check_call([sys.executable, "-m", "pip", "install", "tiny-pkg==0.1"])
        import tiny_pkg
        report(value=tiny_pkg.VALUE)
        """,
    )

    result = _run(engine, tmp_path, script, requirements_file=requirements)

    assert result.status is Status.PASS, result.stderr_tail
    assert _report(result) == {"value": "from the wheel"}
    assert not result.findings or all("pre-flight" not in f for f in result.findings)


def test_pip_install_of_a_package_the_wheelhouse_lacks_names_it_and_the_fix(
    engine: Any, tmp_path: Path
) -> None:
    script = _script(
        tmp_path / "code",
        """
        import subprocess
        subprocess.check_call([sys.executable, "-m", "pip", "install", "no-such-sandbox-pkg==9.9"])
        """,
    )

    result = _run(engine, tmp_path, script)

    assert result.status is Status.FAIL
    reason = result.error_message or ""
    assert "\n" not in reason
    assert reason.startswith("pip install no-such-sandbox-pkg==9.9 failed: the local wheelhouse")
    assert "--requirements FILE" in reason and "`requirements:` in the spec" in reason


def test_missing_import_is_found_before_the_run_and_strict_stops_it(
    engine: Any, tmp_path: Path
) -> None:
    script = _script(
        tmp_path / "code",
        """
        def main():
            import sandbox_absent_module
        main()
        """,
    )

    with pytest.raises(UsageError, match=r"--strict: pre-flight: .*'sandbox_absent_module'"):
        _run(engine, tmp_path, script, strict=True)
    assert not (tmp_path / "ws" / "runs").exists() or not any((tmp_path / "ws" / "runs").iterdir())

    result = _run(engine, tmp_path, script)

    assert result.status is Status.FAIL
    assert any("pre-flight" in f and "sandbox_absent_module" in f for f in result.findings)
    assert (result.error_message or "").startswith(
        "the image lacks the module 'sandbox_absent_module', as the pre-flight check found"
    )


def test_an_image_of_no_profile_is_listed_once_and_gets_the_pre_flight_check(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registry image (here the bare Debian base: python3, no pandas, no labels) is
    listed on first use, so a missing framework is named before the container starts."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    profile = discover_profiles()["sklearn-1.2"]
    assert profile.base is not None
    bare = base_image_tag(profile.base)
    script = _script(tmp_path / "code", "import pandas\nreport(rows=len(pandas.DataFrame()))\n")

    with pytest.raises(UsageError, match=r"--strict: pre-flight: .*'pandas'"):
        _run(engine, tmp_path, script, strict=True, overrides=Overrides(image=bare))
    result = _run(engine, tmp_path, script, overrides=Overrides(image=bare))

    assert result.status is Status.FAIL
    assert any("pre-flight" in f and "'pandas'" in f for f in result.findings)
    assert len(list((tmp_path / "cache" / "sandbox" / "image-contents").glob("*.json"))) == 1


def test_baked_requirements_make_a_derived_image_built_once(
    engine: Any, tmp_path: Path, tiny_wheel: Path
) -> None:
    script = _script(tmp_path / "code", "import tiny_pkg\nreport(value=tiny_pkg.VALUE)\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"script: job.py\noutputs: {{report: {{path: /opt/ml/processing/output/report}}}}\n"
        f"requirements: ['{tiny_wheel}']\nbake: true\n"
    )

    first = _run(engine, tmp_path, script, spec_path=spec)
    try:
        second = _run(engine, tmp_path, script, spec_path=spec)
        info = engine.image(first.image)
    finally:
        _remove_derived(first.image)

    assert first.status is Status.PASS, first.stderr_tail
    assert first.image.startswith("sandbox/sklearn-1.2-req:")
    assert second.image == first.image and second.image_id == first.image_id
    assert _report(second) == {"value": "from the wheel"}
    assert json.loads(info.labels["sandbox.distributions"])["tiny-pkg"] == "0.1"


def _remove_derived(tag: str) -> None:
    """Remove the image this test derived (its tag hashes the test's own wheel path), so
    repeated runs do not pile images up on a shared engine."""
    import docker

    client = docker.from_env()
    if tag.startswith("sandbox/sklearn-1.2-req:") and client.images.list(name=tag):
        client.images.remove(tag)
    client.close()


def test_requirement_downloaded_by_the_host_pip_from_the_index(engine: Any, tmp_path: Path) -> None:
    script = _script(
        tmp_path / "code",
        "import tomli\nreport(parsed=tomli.loads('a = 1'))\n",
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "script: job.py\noutputs: {report: {path: /opt/ml/processing/output/report}}\n"
        "requirements: ['tomli==2.0.1']\n"
    )

    result = _run(engine, tmp_path, script, spec_path=spec)

    assert result.status is Status.PASS, result.stderr_tail
    assert list((tmp_path / "ws" / "wheelhouse").glob("*/tomli-2.0.1-py3-none-any.whl"))


def test_source_dir_runs_from_the_code_folder_and_installs_its_requirements(
    engine: Any, tmp_path: Path, wheel_factory: Any
) -> None:
    tree = tmp_path / "src"
    wheel_factory(tree / "wheels", "tiny-pkg", value="from requirements.txt")
    (tree / "requirements.txt").write_text("wheels/tiny_pkg-0.1-py3-none-any.whl\n")
    (tree / "hyperparams").mkdir(parents=True)
    (tree / "hyperparams" / "params.json").write_text('{"depth": 3}')
    (tree / "helpers.py").write_text("def double(x):\n    return 2 * x\n")
    script = _script(
        tree,
        """
        import helpers, tiny_pkg
        with open("hyperparams/params.json") as params:
            depth = json.load(params)["depth"]
        report(cwd=os.getcwd(), depth=helpers.double(depth), value=tiny_pkg.VALUE)
        """,
    )

    result = _run(engine, tmp_path, script, source_dir=tree)

    assert result.status is Status.PASS, result.stderr_tail
    assert _report(result) == {
        "cwd": "/opt/ml/processing/input/code",
        "depth": 6,
        "value": "from requirements.txt",
    }
