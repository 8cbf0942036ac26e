"""Resolving a script and its spec before anything runs (sandbox/resolve.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.errors import UsageError
from sandbox.resolve import Overrides, argument_dest, find_script, resolve_script

SCRIPT = """
import argparse, os
INPUT = "/opt/ml/processing/input/data"
OUTPUT = "/opt/ml/processing/output"

def main(input_paths, output_paths, environ_vars, job_args):
    pass

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--job_type", required=True, choices=["training", "testing"])
    parser.parse_args()
    secret = os.environ["API_TOKEN"]
    main({"data_input": INPUT}, {"data_output": OUTPUT}, {}, None)
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "prep.py"
    path.write_text(SCRIPT)
    return path


def test_argument_dest_matches_argparse() -> None:
    assert argument_dest("job-type") == "job_type"
    assert argument_dest("--job-type") == "job_type"
    assert argument_dest("job_type") == "job_type"


def test_zero_config_spec_takes_channels_from_the_source(script: Path) -> None:
    resolved = resolve_script(
        script,
        None,
        Overrides(arguments={"job_type": "training"}, environment={"API_TOKEN": "x"}),
    )
    assert {n: c.path for n, c in resolved.spec.inputs.items()} == {
        "data_input": "/opt/ml/processing/input/data"
    }
    assert {n: c.path for n, c in resolved.spec.outputs.items()} == {
        "data_output": "/opt/ml/processing/output"
    }


def test_missing_required_variable_is_named_before_anything_runs(script: Path) -> None:
    with pytest.raises(UsageError, match=r"API_TOKEN.*--env API_TOKEN=VALUE"):
        resolve_script(script, None, Overrides(arguments={"job_type": "training"}))


def test_missing_required_argument_names_the_choices(script: Path) -> None:
    with pytest.raises(UsageError, match=r"--job_type \(one of training, testing\)"):
        resolve_script(script, None, Overrides(environment={"API_TOKEN": "x"}))


def test_hyphenated_argument_counts_as_its_argparse_destination(script: Path) -> None:
    resolved = resolve_script(
        script,
        None,
        Overrides(arguments={"job-type": "testing"}, environment={"API_TOKEN": "x"}),
    )
    assert resolved.spec.arguments == {"job-type": "testing"}


def test_argument_outside_its_choices_is_refused(script: Path) -> None:
    with pytest.raises(UsageError, match="must be one of training, testing, got 'bogus'"):
        resolve_script(
            script,
            None,
            Overrides(arguments={"job_type": "bogus"}, environment={"API_TOKEN": "x"}),
        )


def test_unknown_script_lists_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="'nope' not found"):
        find_script("nope", tmp_path)
