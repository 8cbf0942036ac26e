"""Resolving a script and its spec before anything runs (sandbox/resolve.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.contract.resolve import Overrides, argument_dest, find_script, resolve_script
from sandbox.errors import UsageError

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
    # The script declares --job_type: that is the spelling its command line gets.
    assert resolved.spec.arguments == {"job_type": "testing"}


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


def _write_spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def test_two_channels_on_one_path_are_a_spec_error(script: Path, tmp_path: Path) -> None:
    spec = _write_spec(
        tmp_path,
        """
script: prep.py
arguments: {job_type: training}
environment: {API_TOKEN: x}
inputs:
  a: {path: /opt/ml/processing/input/data}
  b: {path: /opt/ml/processing/input/data}
""",
    )
    with pytest.raises(UsageError, match="'b': path /opt/ml/processing/input/data is also"):
        resolve_script(script, spec, Overrides())


def test_output_inside_a_read_only_input_is_a_spec_error(script: Path, tmp_path: Path) -> None:
    spec = _write_spec(
        tmp_path,
        """
script: prep.py
arguments: {job_type: training}
environment: {API_TOKEN: x}
inputs: {data: {path: /opt/ml/processing/input/data}}
outputs: {out: {path: /opt/ml/processing/input/data/out}}
""",
    )
    with pytest.raises(UsageError, match="lies inside input channel 'data'"):
        resolve_script(script, spec, Overrides())


def test_kind_reason_names_the_spec_when_the_spec_sets_the_kind(
    script: Path, tmp_path: Path
) -> None:
    spec = _write_spec(tmp_path, "script: prep.py\nkind: training\nenvironment: {API_TOKEN: x}\n")
    resolved = resolve_script(script, spec, Overrides())
    assert resolved.kind_reason == "the spec file says kind: training"
    inferred = resolve_script(
        script, None, Overrides(arguments={"job_type": "training"}, environment={"API_TOKEN": "x"})
    )
    assert inferred.kind_reason == inferred.contract.kind_reason


def test_unresolvable_output_check_placeholder_is_reported_before_the_run(
    script: Path, tmp_path: Path
) -> None:
    spec = _write_spec(
        tmp_path,
        """
script: prep.py
arguments: {job_type: training}
environment: {API_TOKEN: x}
outputs:
  out: {path: /opt/ml/processing/output, expect: {columns: ["${MISSING_VAR}"]}}
""",
    )
    with pytest.raises(UsageError, match="MISSING_VAR"):
        resolve_script(script, spec, Overrides())


def test_training_output_must_be_a_platform_folder(tmp_path: Path) -> None:
    train = tmp_path / "train.py"
    train.write_text('MODEL = "/opt/ml/model"\n')
    spec = _write_spec(
        tmp_path,
        "script: train.py\nkind: training\noutputs: {m: {path: /opt/ml/elsewhere}}\n",
    )
    with pytest.raises(UsageError, match="not one of /opt/ml/model"):
        resolve_script(train, spec, Overrides())


def test_a_flag_given_a_value_is_refused_before_anything_runs(tmp_path: Path) -> None:
    script = tmp_path / "flags.py"
    script.write_text(
        "import argparse\n"
        'OUT = "/opt/ml/processing/output"\n'
        "parser = argparse.ArgumentParser()\n"
        'parser.add_argument("--use_gpu", action="store_true")\n'
    )
    with pytest.raises(UsageError, match="--use_gpu is a flag and takes no value"):
        resolve_script(script, None, Overrides(arguments={"use_gpu": "false"}))
    resolved = resolve_script(script, None, Overrides(arguments={"use_gpu": ""}))
    assert resolved.spec.arguments == {"use_gpu": ""}


def test_a_secret_variable_not_given_takes_the_callers_value(
    script: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_URL", "postgres://u:pw@db/x")
    overrides = Overrides(
        environment={"API_TOKEN": "x"}, arguments={"job_type": "training"}, secret_env=["DB_URL"]
    )
    spec = resolve_script(script, None, overrides).spec
    assert spec.environment["DB_URL"] == "postgres://u:pw@db/x"
    assert spec.secret_env == ["DB_URL"]


def test_a_secret_variable_set_nowhere_is_a_usage_error(
    script: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DB_URL", raising=False)
    overrides = Overrides(
        environment={"API_TOKEN": "x"}, arguments={"job_type": "training"}, secret_env=["DB_URL"]
    )
    with pytest.raises(UsageError, match="secret variable DB_URL: not set"):
        resolve_script(script, None, overrides)
