"""A job's dependencies without Docker: failure reasons and the pip.conf mount."""

from __future__ import annotations

from pathlib import Path

from sandbox.container.dependencies import JobDependencies, dependency_mounts, explain_failure
from sandbox.container.images import ResolvedImage
from sandbox.container.preflight import DependencyReport, ScriptNeeds
from sandbox.container.wheelhouse import Wheelhouse
from sandbox.results.workspace import RunFolder


def _deps(tmp_path: Path, missing: tuple[str, ...] = ()) -> JobDependencies:
    house = Wheelhouse(tmp_path / "wheels", (), ("pygam==0.8.1",), (), cache_hit=True)
    report = DependencyReport(missing, [f"pre-flight: {m}" for m in missing])
    image = ResolvedImage("sandbox/sklearn-1.2:abc", "sha256:1", "sklearn-1.2", False)
    return JobDependencies(image, house, ScriptNeeds(), report, None)


def test_module_not_found_points_at_the_pre_flight_finding(tmp_path: Path) -> None:
    tail = ["Traceback (most recent call last):", "ModuleNotFoundError: No module named 'cv2'"]

    reason = explain_failure(
        _deps(tmp_path, ("cv2",)), tail, "exit code 1: ModuleNotFoundError", network=False
    )

    assert reason is not None and "\n" not in reason
    assert reason.startswith("the image lacks the module 'cv2', as the pre-flight check found")
    assert "'opencv-python'" in reason and reason.endswith("(exit code 1: ModuleNotFoundError)")


def test_other_failures_keep_their_reason(tmp_path: Path) -> None:
    reason = explain_failure(
        _deps(tmp_path), ["ValueError: bad"], "exit code 1: bad", network=False
    )

    assert reason == "exit code 1: bad"


def test_pip_conf_is_mounted_over_the_images_own(tmp_path: Path) -> None:
    mounts = dependency_mounts(_deps(tmp_path), RunFolder("run", tmp_path), network=False)

    by_target = {mount.container_path: mount for mount in mounts}
    assert by_target["/etc/pip.conf"].read_only
    assert "no-index = true" in by_target["/etc/pip.conf"].host_path.read_text()
    assert by_target["/opt/sandbox/wheels"].host_path == tmp_path / "wheels"
