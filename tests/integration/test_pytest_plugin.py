"""The pytest plugin (sandbox.pytest_plugin), as a team uses it: a test file of its own,
run by pytest in a subprocess, against the real engine and image."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.pytest_plugin import SECTION_TITLE

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.usefixtures("offline_image")

FAILS = Path(__file__).resolve().parent / "scripts" / "fails.py"

TEAM_TESTS = f"""
def test_prep(sandbox_run):
    result = sandbox_run(
        "tabular_preprocessing",
        image="sklearn-1.2",
        arguments={{"job_type": "training"}},
        environment={{"LABEL_FIELD": "label"}},
    )
    assert result.ok
    assert any(f.path.startswith("train/") for f in result.outputs["data_output"])


def test_broken(sandbox_run):
    assert sandbox_run({str(FAILS)!r}).ok
"""


def test_plugin_fixture_passes_and_failures_show_the_scripts_stderr(
    engine: object, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_team=TEAM_TESTS)
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    outcome.assert_outcomes(passed=1, failed=1)
    output = outcome.stdout.str()
    assert SECTION_TITLE in output
    assert "FAIL fails in " in output
    assert "ValueError: column 'price_usd' not found in /opt/ml/processing/input/data" in output
    assert "Traceback (most recent call last):" in output
    report_of_failure = output[output.index("test_broken") :]
    assert "tabular_preprocessing" not in report_of_failure.split("short test summary")[0]
