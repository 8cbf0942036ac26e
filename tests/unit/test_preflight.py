"""Pre-flight dependency check: imports and pip targets read from source, compared with
what an image records."""

from __future__ import annotations

import textwrap
from pathlib import Path

from sandbox.container.distributions import ImageContents
from sandbox.container.preflight import check_dependencies, module_not_found, scan_script

IMAGE = ImageContents(
    python_version="3.11.2",
    distributions={"scikit-learn": "1.2.1", "PyYAML": "6.0", "pandas": "1.5.3"},
    modules=frozenset({"pandas", "sklearn"}),
)


def _script(tmp_path: Path, source: str, name: str = "job.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_imports_inside_functions_count_and_guarded_ones_are_optional(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        """
        import os, json
        from sklearn.metrics import roc_auc_score
        from . import sibling
        try:
            import ujson
        except ImportError:
            ujson = None

        def main():
            import lightgbm as lgb
            from yaml import safe_load
        """,
    )

    needs = scan_script(path)

    assert {"os", "json", "sklearn", "lightgbm", "yaml"} <= needs.required
    assert "ujson" in needs.optional and "ujson" not in needs.required
    assert "sibling" not in needs.required


def test_missing_module_is_named_with_its_distribution_and_the_fix(tmp_path: Path) -> None:
    path = _script(tmp_path, "import yaml, sklearn, cv2, lightgbm, os\n")

    report = check_dependencies(scan_script(path), IMAGE, script="job")

    assert report.missing == ("cv2", "lightgbm")
    assert "'cv2'" in report.findings[0] and "'opencv-python'" in report.findings[0]
    assert "--requirements" in report.findings[1]


def test_local_modules_and_installed_requirements_count_as_present(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("X = 1\n")
    (tmp_path / "hyperparams").mkdir()
    path = _script(tmp_path, "import helpers, hyperparams, lightgbm, PIL\n")

    report = check_dependencies(
        scan_script(path),
        IMAGE,
        local_roots=[tmp_path],
        installed=["lightgbm>=3.3,<4", "pillow==10.0"],
        script="job",
    )

    assert report.missing == ()


def test_an_image_without_records_is_not_checked(tmp_path: Path) -> None:
    path = _script(tmp_path, "import lightgbm\n")

    report = check_dependencies(scan_script(path), ImageContents(), script="job")

    assert not report.checked and report.missing == ()


def test_pip_install_targets_are_followed_through_lists_and_parameters(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        """
        import subprocess, sys
        from subprocess import check_call

        def _pip(packages):
            check_call([sys.executable, "-m", "pip", "install", "--quiet", *packages])

        def install(packages, secure=False):
            _pip(packages)

        REQUIRED = ["pygam==0.8.1", "tiny-pkg>=0.1"]
        install(REQUIRED)
        subprocess.run("pip install requests==2.31.0", shell=True)
        raise SystemExit("hint only: pip install pyarrow")
        """,
    )

    needs = scan_script(path)

    assert needs.runtime_pip
    assert set(needs.pip_targets) == {"pygam==0.8.1", "tiny-pkg>=0.1", "requests==2.31.0"}


def test_module_not_found_reads_the_top_level_module() -> None:
    lines = ["Traceback ...", "ModuleNotFoundError: No module named 'torch.nn'"]

    assert module_not_found(lines) == "torch"
    assert module_not_found(["ValueError: x"]) is None
