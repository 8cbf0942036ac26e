"""spec from-contract (sandbox.contract.from_contract, sandbox.contract.drift): contracts in a
module or YAML become specs; where contract and script differ, one warning line each."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.contract.from_contract import load_contract, spec_from_contract
from sandbox.contract.spec import load_spec
from sandbox.errors import SpecError

SCRIPT = """\
import argparse
import os

import pandas as pd


def main(input_paths, output_paths, environ_vars, job_args):
    df = pd.read_csv(os.path.join(input_paths["data_input"], "part.csv"))
    df.to_csv(os.path.join(output_paths["data_output"], "train", "part.csv"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--job_type", required=True)
    args = parser.parse_args()
    main(
        {"data_input": "/opt/ml/processing/input/data"},
        {"data_output": "/opt/ml/processing/output"},
        {"LABEL_FIELD": os.environ["LABEL_FIELD"], "RATIO": os.environ.get("RATIO", "0.7")},
        args,
    )
"""

BASE = """\
from dataclasses import dataclass, field


@dataclass
class ScriptContract:
    entry_point: str
    expected_input_paths: dict
    expected_output_paths: dict
    required_env_vars: list = field(default_factory=list)
    optional_env_vars: dict = field(default_factory=dict)
    expected_arguments: dict = field(default_factory=dict)
    framework_requirements: dict = field(default_factory=dict)
"""

MATCHING = """\
from .base import ScriptContract

PREPROCESS_CONTRACT = ScriptContract(
    entry_point="preprocess.py",
    expected_input_paths={"data_input": "/opt/ml/processing/input/data"},
    expected_output_paths={"data_output": "/opt/ml/processing/output"},
    required_env_vars=["LABEL_FIELD"],
    optional_env_vars={"RATIO": "0.7"},
    expected_arguments={"job_type": "training"},
    framework_requirements={"pandas": ">=1.3"},
)
"""

DRIFTED = """\
from .base import ScriptContract

PREPROCESS_CONTRACT = ScriptContract(
    entry_point="preprocess.py",
    expected_input_paths={"data_input": "/opt/ml/processing/input/raw"},
    expected_output_paths={"processed": "/opt/ml/processing/output"},
    required_env_vars=["LABEL_FIELD", "ID_FIELD"],
    optional_env_vars={"RATIO": "0.8"},
    expected_arguments={"job_type": "training", "mode": None},
)
"""


def make_project(root: Path, contract: str) -> Path:
    """``root/scripts/preprocess.py`` and ``root/contracts/`` as a package."""
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "preprocess.py").write_text(SCRIPT)
    package = root / "contracts"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text(BASE)
    (package / "preprocess_contract.py").write_text(contract)
    return package / "preprocess_contract.py"


def test_a_contract_module_with_relative_imports_becomes_a_valid_spec(tmp_path: Path) -> None:
    contract_file = make_project(tmp_path, MATCHING)
    out = tmp_path / "preprocess.yaml"

    result = spec_from_contract(str(contract_file), scripts_dir=tmp_path / "scripts", output=out)

    assert result.warnings == ()
    assert result.script_path == (tmp_path / "scripts" / "preprocess.py").resolve()
    spec = load_spec(out)
    assert spec == result.spec
    assert spec.script == "preprocess.py" and spec.kind.value == "processing"
    assert spec.inputs["data_input"].path == "/opt/ml/processing/input/data"
    assert spec.outputs["data_output"].path == "/opt/ml/processing/output"
    assert spec.required_env == ["LABEL_FIELD"]
    assert spec.environment == {"RATIO": "0.7"}
    assert spec.arguments == {"job_type": "training"}
    assert out.read_text() == result.yaml_text
    assert "contracts" not in sys.modules  # imported modules of the project are forgotten


def test_a_drifted_contract_gives_one_warning_line_per_difference(tmp_path: Path) -> None:
    contract_file = make_project(tmp_path, DRIFTED)

    result = spec_from_contract(str(contract_file), scripts_dir=tmp_path / "scripts")

    assert list(result.warnings) == [
        "contract gives argument --mode no value: pass --arg mode=VALUE",
        "contract says data_input -> /opt/ml/processing/input/raw; "
        "the script reads /opt/ml/processing/input/data",
        "contract calls /opt/ml/processing/output 'processed'; the script calls it 'data_output'",
        "contract declares environment variable ID_FIELD; the script does not read it",
        "contract gives RATIO the default '0.8'; the script falls back to '0.7'",
        "contract passes --mode; the script defines no such argument "
        "(argparse would stop with an error)",
    ]
    # The spec states the contract: production mounts what the contract says.
    assert result.spec.inputs["data_input"].path == "/opt/ml/processing/input/raw"


def test_an_undeclared_path_and_variable_the_script_needs_are_reported(tmp_path: Path) -> None:
    contract = """\
CONTRACT = {
    "entry_point": "preprocess.py",
    "expected_input_paths": {},
    "expected_output_paths": {"data_output": "/opt/ml/processing/output"},
    "expected_arguments": {"job_type": "training"},
}
"""
    (tmp_path / "preprocess.py").write_text(SCRIPT)
    (tmp_path / "lone_contract.py").write_text(contract)

    result = spec_from_contract(str(tmp_path / "lone_contract.py"))

    assert result.warnings == (
        "the script reads /opt/ml/processing/input/data (data_input); "
        "the contract does not declare it",
        "the script requires environment variable LABEL_FIELD; the contract does not declare it",
    )


def test_a_yaml_contract_is_read_from_its_contract_section(tmp_path: Path) -> None:
    (tmp_path / "preprocess.py").write_text(SCRIPT)
    contract = {
        "contract": {
            "entry_point": "preprocess.py",
            "expected_input_paths": {"data_input": "/opt/ml/processing/input/data/"},
            "expected_output_paths": {"data_output": "/opt/ml/processing/output"},
            "required_env_vars": ["LABEL_FIELD"],
            "optional_env_vars": {"RATIO": 0.7},
            "expected_arguments": {"job_type": "training"},
        }
    }
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(contract))

    result = spec_from_contract(str(path))

    assert result.warnings == ()
    assert result.spec.environment == {"RATIO": "0.7"}
    assert result.spec.inputs["data_input"].path == "/opt/ml/processing/input/data"


def test_a_typo_in_a_yaml_contract_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "contract.yml"
    path.write_text("contract:\n  entry_point: x.py\n  expected_input_path: {}\n")
    with pytest.raises(SpecError, match=r"expected_input_path.*unknown field"):
        load_contract(str(path))


def test_yaml_without_a_contract_section_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("script: x.py\n")
    with pytest.raises(SpecError, match="'contract:' section"):
        load_contract(str(path))


def test_several_contracts_need_a_name_and_the_name_picks_one(tmp_path: Path) -> None:
    module = tmp_path / "two_contracts.py"
    module.write_text(
        textwrap.dedent(
            """\
            A_CONTRACT = {"entry_point": "a.py", "expected_input_paths": {},
                          "expected_output_paths": {}}
            B_CONTRACT = {"entry_point": "b.py", "expected_input_paths": {},
                          "expected_output_paths": {}}
            ALIAS_CONTRACT = A_CONTRACT
            """
        )
    )
    with pytest.raises(SpecError, match=r"several contracts \(ALIAS_CONTRACT, B_CONTRACT\)"):
        load_contract(str(module))
    loaded = load_contract(str(module), name="B_CONTRACT")
    assert loaded.contract.entry_point == "b.py"
    assert loaded.source.endswith("two_contracts.py:B_CONTRACT")


def test_an_object_with_the_contract_attributes_is_found_whatever_its_name(
    tmp_path: Path,
) -> None:
    module = tmp_path / "plain.py"
    module.write_text(
        textwrap.dedent(
            """\
            from types import SimpleNamespace
            spec_of_step = SimpleNamespace(
                entry_point="s.py",
                expected_input_paths={"a": "/opt/ml/processing/input/a"},
                expected_output_paths={},
                required_env_vars=("X",),
            )
            """
        )
    )
    loaded = load_contract(str(module))
    assert loaded.source.endswith(":spec_of_step")
    assert loaded.contract.required_env_vars == ["X"]


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("VALUE = 1\n", "no contract found"),
        ("import not_a_module_anywhere\n", "cannot import: No module named"),
        ("raise SystemExit(3)\n", "cannot import: SystemExit"),
    ],
)
def test_modules_without_a_usable_contract_are_one_clear_error(
    tmp_path: Path, source: str, problem: str
) -> None:
    module = tmp_path / "broken.py"
    module.write_text(source)
    with pytest.raises(SpecError, match=problem):
        load_contract(str(module))


def test_file_paths_and_paths_outside_the_job_are_noted_not_copied(tmp_path: Path) -> None:
    module = tmp_path / "files_contract.py"
    module.write_text(
        textwrap.dedent(
            """\
            CONTRACT = {
                "entry_point": "nowhere.py",
                "expected_input_paths": {
                    "model": "/opt/ml/processing/input/model/model.tar.gz",
                    "hyperparameters": "/opt/ml/processing/input/config/hyperparameters.json",
                    "home": "/home/user/data",
                },
                "expected_output_paths": {"out": "/opt/ml/processing/output/eval"},
            }
            """
        )
    )

    result = spec_from_contract(str(module), scripts_dir=tmp_path)

    assert {name: ch.path for name, ch in result.spec.inputs.items()} == {
        "model": "/opt/ml/processing/input/model",
        "hyperparameters": "/opt/ml/processing/input/config",
    }
    notes = "\n".join(result.warnings)
    assert "names a file: the spec mounts its folder /opt/ml/processing/input/model" in notes
    assert "home -> /home/user/data: outside /opt/ml/processing/" in notes
    assert "entry point nowhere.py not found" in notes


def test_a_training_contract_takes_the_script_channels_for_the_whole_data_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "train.py").write_text(
        'import pandas as pd\npd.read_csv("/opt/ml/input/data/train/part.csv")\n'
        'pd.read_csv("/opt/ml/input/data/val/part.csv")\n'
    )
    (tmp_path / "train_contract.py").write_text(
        textwrap.dedent(
            """\
            TRAIN_CONTRACT = {
                "entry_point": "train.py",
                "expected_input_paths": {"input_path": "/opt/ml/input/data"},
                "expected_output_paths": {"model_output": "/opt/ml/model"},
            }
            """
        )
    )

    result = spec_from_contract(str(tmp_path / "train_contract.py"))

    assert result.spec.kind.value == "training"
    assert {name: ch.path for name, ch in result.spec.inputs.items()} == {
        "train": "/opt/ml/input/data/train",
        "val": "/opt/ml/input/data/val",
    }
    assert any("whole data folder" in warning for warning in result.warnings)


# the command ------------------------------------------------------------------------


def test_the_command_prints_yaml_on_stdout_and_warnings_on_stderr(tmp_path: Path) -> None:
    contract_file = make_project(tmp_path, DRIFTED)
    result = CliRunner().invoke(
        cli,
        ["spec", "from-contract", str(contract_file), "--scripts-dir", str(tmp_path / "scripts")],
    )
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["script"] == "preprocess.py"
    warnings = result.stderr.splitlines()
    assert len(warnings) == 6 and all(line.startswith("sandbox: warning: ") for line in warnings)
    assert (
        "sandbox: warning: contract says data_input -> /opt/ml/processing/input/raw; "
        "the script reads /opt/ml/processing/input/data" in warnings
    )


def test_the_command_writes_the_file_and_a_bad_contract_exits_2(tmp_path: Path) -> None:
    contract_file = make_project(tmp_path, MATCHING)
    out = tmp_path / "specs" / "preprocess.yaml"
    written = CliRunner().invoke(
        cli,
        [
            "spec",
            "from-contract",
            str(contract_file),
            "-o",
            str(out),
            "--scripts-dir",
            str(tmp_path / "scripts"),
        ],
    )
    assert written.exit_code == 0, written.output
    assert written.stdout == "" and load_spec(out).script == "preprocess.py"

    missing = CliRunner().invoke(cli, ["spec", "from-contract", str(tmp_path / "none.py")])
    assert missing.exit_code == 2
    assert "contract file not found" in missing.stderr
