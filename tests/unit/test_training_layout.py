"""The Training layout (sandbox.container.training): script mode as the training toolkit runs it."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from sandbox.constants import JobKind
from sandbox.container.hyperparameters import (
    decode_hyperparameters,
    stringify_hyperparameters,
    toolkit_arguments,
)
from sandbox.container.layout import InputBinding
from sandbox.container.training import pack_artifacts, training_layout, training_output_paths
from sandbox.contract.spec import ChannelSpec, ScriptSpec
from sandbox.results.workspace import RunFolder


@pytest.fixture
def run(tmp_path: Path) -> RunFolder:
    return RunFolder(run_id="r1", root=tmp_path / "runs" / "r1").create()


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text("print('train')\n", encoding="utf-8")
    return path


def _spec(**fields: object) -> ScriptSpec:
    return ScriptSpec.model_validate({"script": "train.py", "kind": "training", **fields})


def test_hyperparameters_are_stored_as_strings_and_decoded_as_the_toolkit_does() -> None:
    stored = stringify_hyperparameters(
        {"max_depth": 6, "eta": 0.1, "objective": "binary:logistic", "flag": True, "l": [1, 2]}
    )
    assert stored == {
        "max_depth": "6",
        "eta": "0.1",
        "objective": "binary:logistic",
        "flag": "true",
        "l": "[1, 2]",
    }
    decoded = decode_hyperparameters(stored)
    assert decoded == {
        "max_depth": 6,
        "eta": 0.1,
        "objective": "binary:logistic",
        "flag": True,
        "l": [1, 2],
    }


def test_toolkit_arguments_are_sorted_short_names_single_dash_values_str() -> None:
    assert toolkit_arguments({"n": 3, "eta": 0.1, "flag": True, "opts": {"b": 2, "a": 1}}) == [
        "--eta",
        "0.1",
        "--flag",
        "True",
        "-n",
        "3",
        "--opts",
        "a=1,b=2",
    ]


def test_sm_environment_carries_decoded_hyperparameters(
    script: Path, run: RunFolder, tmp_path: Path
) -> None:
    spec = _spec(
        hyperparameters={"max_depth": 4, "objective": "reg:squarederror"},
        inputs={"train": {"path": "/opt/ml/input/data/train"}},
    )
    binding = InputBinding("train", "/opt/ml/input/data/train", tmp_path, "generated")
    layout = training_layout(spec, script, [binding], run, num_cpus=2)
    env = layout.environment
    assert json.loads(env["SM_HPS"]) == {"max_depth": 4, "objective": "reg:squarederror"}
    assert env["SM_HP_MAX_DEPTH"] == "4" and env["SM_HP_OBJECTIVE"] == "reg:squarederror"
    assert env["SM_CHANNEL_TRAIN"] == "/opt/ml/input/data/train"
    assert env["SM_NUM_CPUS"] == "2"
    assert layout.arguments == ["--max_depth", "4", "--objective", "reg:squarederror"]
    assert layout.config_files["hyperparameters.json"] == {
        "max_depth": "4",
        "objective": "reg:squarederror",
    }


def test_outputs_keep_the_scripts_own_names(script: Path, run: RunFolder) -> None:
    spec = _spec(
        outputs={
            "model_output": ChannelSpec(path="/opt/ml/model"),
            "evaluation_output": ChannelSpec(path="/opt/ml/output/data"),
        }
    )
    assert spec.kind is JobKind.TRAINING
    assert training_output_paths(spec) == {
        "model_output": "/opt/ml/model",
        "evaluation_output": "/opt/ml/output/data",
        "checkpoints": "/opt/ml/checkpoints",
    }
    layout = training_layout(spec, script, [], run, num_cpus=1)
    assert layout.output_paths["model_output"] == "/opt/ml/model"
    assert layout.outputs["model_output"] == run.outputs / "model_output"


def test_artifacts_are_packed_from_the_model_and_output_data_folders(
    script: Path, run: RunFolder
) -> None:
    spec = _spec(outputs={"model_output": ChannelSpec(path="/opt/ml/model")})
    layout = training_layout(spec, script, [], run, num_cpus=1)
    for folder in layout.outputs.values():
        folder.mkdir(parents=True, exist_ok=True)
    (layout.outputs["model_output"] / "model.bst").write_bytes(b"\x00model")
    (layout.outputs["output_data"] / "metrics.json").write_text("{}")
    artifacts = {a.name: a for a in pack_artifacts(layout, run.root)}
    assert artifacts["model.tar.gz"].members == ["model.bst"]
    assert artifacts["output.tar.gz"].members == ["metrics.json"]
    with tarfile.open(artifacts["model.tar.gz"].path) as packed:
        member = packed.extractfile("model.bst")
        assert member is not None and member.read() == b"\x00model"
    assert not list(run.root.glob(".*.partial"))
