"""Pipeline definitions to pipeline specs, and Conditions evaluated on local results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.errors import UsageError
from sandbox.sagemaker.conditions import (
    ConditionContext,
    NotEvaluable,
    PropertyFile,
    evaluate_conditions,
)
from sandbox.sagemaker.definition import DefinitionRequest, _Builder, _parameters
from sandbox.sagemaker.describe import ProcessingJobRequest
from sandbox.sagemaker.jobspec import job_spec

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
SPLITS = "Steps.Preprocess.ProcessingOutputConfig.Outputs['splits'].S3Output.S3Uri"


class _NoImages:
    """An engine that has no image: every framework URI maps to its profile."""

    def image(self, reference: str) -> None:
        return None


def _processing(code: str, inputs: list[dict[str, Any]], **app: Any) -> dict[str, Any]:
    entry = ["python3", f"/opt/ml/processing/input/code/{code.rsplit('/', 1)[-1]}"]
    return {
        "ProcessingResources": {
            "ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}
        },
        "AppSpecification": {"ImageUri": IMAGE, "ContainerEntrypoint": entry, **app},
        "ProcessingInputs": [
            *inputs,
            {
                "InputName": "code",
                "S3Input": {"S3Uri": code, "LocalPath": "/opt/ml/processing/input/code"},
            },
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "splits",
                    "S3Output": {
                        "S3Uri": {
                            "Std:Join": {
                                "On": "/",
                                "Values": ["s3:/", "b", {"Get": "Execution.PipelineExecutionId"}],
                            }
                        },
                        "LocalPath": "/opt/ml/processing/output",
                    },
                }
            ]
        },
        "Environment": {"LABEL_FIELD": {"Get": "Parameters.Label"}},
    }


def _training() -> dict[str, Any]:
    return {
        "AlgorithmSpecification": {
            "TrainingImage": "1.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
        },
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        "OutputDataConfig": {"S3OutputPath": "s3://b/models"},
        "HyperParameters": {
            "num_round": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Rounds"}]}},
            "sagemaker_program": '"xgboost_training.py"',
            "sagemaker_submit_directory": '"s3://b/code/sourcedir.tar.gz"',
        },
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3Uri": {"Std:Join": {"On": "/", "Values": [{"Get": SPLITS}, "train"]}}
                    }
                },
            }
        ],
    }


@pytest.fixture
def builder(tmp_path: Path) -> _Builder:
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    for name in ("preprocess.py", "xgboost_training.py"):
        (code_dir / name).write_text("print('hi')\n")
    folder = tmp_path / "staged"
    folder.mkdir()
    request = DefinitionRequest(
        definition=tmp_path / "p.json", code_dir=code_dir, workspace=tmp_path / "ws"
    )
    parameters = {"Label": "label", "Rounds": 7, "Input": "s3://b/data/"}
    return _Builder(request, parameters, folder, _NoImages(), "p.json")  # type: ignore[arg-type]


def test_steps_become_pipeline_steps_with_edges_and_resolved_values(builder: _Builder) -> None:
    data = {
        "InputName": "data",
        "S3Input": {
            "S3Uri": {"Get": "Parameters.Input"},
            "LocalPath": "/opt/ml/processing/input/data",
        },
    }
    builder.add(
        {
            "Name": "Preprocess",
            "Type": "Processing",
            "Arguments": _processing(
                "s3://b/c/preprocess.py", [data], ContainerArguments=["--job_type", "training"]
            ),
        }
    )
    builder.add({"Name": "Train", "Type": "Training", "Arguments": _training()})
    builder.add({"Name": "Register", "Type": "RegisterModel", "Arguments": {}})

    assert builder.edges == [{"from": "Preprocess.splits/train", "to": "Train.train"}]
    pre, train = builder.steps
    assert pre["inputs"] == {"data": "s3://b/data/"}
    assert pre["environment"] == {"LABEL_FIELD": "label"}
    assert Path(pre["script"]).name == "preprocess.py"
    spec = yaml.safe_load(Path(pre["spec"]).read_text())
    assert spec["image"] == "sklearn-1.2"
    assert spec["container_arguments"] == ["--job_type", "training"]
    assert yaml.safe_load(Path(train["spec"]).read_text())["hyperparameters"] == {"num_round": 7}
    assert [step["Name"] for step in builder.not_run] == ["Register"]
    assert any("local profile sklearn-1.2" in f for f in builder.findings["Preprocess"])


def test_a_reference_only_production_knows_is_named(builder: _Builder) -> None:
    with pytest.raises(UsageError, match=r"step T: Steps.X.TrainingJobName cannot be resolved"):
        builder.resolve({"Get": "Steps.X.TrainingJobName"}, "T")


def test_parameters_take_defaults_typed_overrides_and_refuse_unknown_names() -> None:
    raw = {
        "Parameters": [
            {"Name": "Rounds", "Type": "Integer", "DefaultValue": 5},
            {"Name": "Label", "Type": "String", "DefaultValue": "y"},
        ]
    }
    assert _parameters(raw, {"Rounds": "9"}) == {"Rounds": 9, "Label": "y"}
    with pytest.raises(UsageError, match="--param Nope: no such parameter"):
        _parameters(raw, {"Nope": "1"})
    with pytest.raises(UsageError, match="--param Rounds=many: not of type Integer"):
        _parameters(raw, {"Rounds": "many"})


def _context(outputs: Path | None) -> ConditionContext:
    return ConditionContext(
        parameters={"Min": 0.8},
        property_files={("Evaluate", "Report"): PropertyFile("evaluation", "evaluation.json")},
        output_dirs={"Evaluate": outputs} if outputs else {},
    )


ACCURACY = {
    "Std:JsonGet": {
        "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"},
        "Path": "metrics.accuracy[0]",
    }
}


def test_a_condition_reads_a_property_file_a_step_wrote(tmp_path: Path) -> None:
    (tmp_path / "evaluation").mkdir()
    (tmp_path / "evaluation" / "evaluation.json").write_text(
        json.dumps({"metrics": {"accuracy": [0.9]}})
    )
    conditions = [
        {
            "Type": "GreaterThanOrEqualTo",
            "LeftValue": ACCURACY,
            "RightValue": {"Get": "Parameters.Min"},
        },
        {
            "Type": "Or",
            "Conditions": [
                {"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": 1, "RightValue": 1}},
                {"Type": "In", "QueryValue": 2, "Values": [1, 2]},
            ],
        },
    ]
    value, text = evaluate_conditions(conditions, _context(tmp_path))
    assert value is True
    accuracy = "Evaluate's Report metrics.accuracy[0] (0.9) >= Min (0.8)"
    assert text == f"{accuracy} and (not (1 == 1) or 2 in [1, 2])"
    conditions[0]["RightValue"] = 0.95
    assert evaluate_conditions(conditions, _context(tmp_path))[0] is False


def test_a_condition_on_a_step_that_did_not_pass_is_not_evaluated() -> None:
    condition = [{"Type": "LessThan", "LeftValue": ACCURACY, "RightValue": 1}]
    with pytest.raises(NotEvaluable, match="step Evaluate did not pass here"):
        evaluate_conditions(condition, _context(None))


def test_a_framework_processor_launcher_is_replaced_by_the_script_itself() -> None:
    arguments = _processing(
        "s3://b/code/sourcedir.tar.gz",
        [
            {
                "InputName": "entrypoint",
                "S3Input": {
                    "S3Uri": "s3://b/code/runproc.sh",
                    "LocalPath": "/opt/ml/processing/input/entrypoint",
                },
            }
        ],
        ContainerEntrypoint=["/bin/bash", "/opt/ml/processing/input/entrypoint/runproc.sh"],
    )
    arguments["Environment"] = {}
    arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] = "s3://b/out"
    plan = job_spec(ProcessingJobRequest.model_validate(arguments))
    assert "entrypoint" not in plan.spec["inputs"]
    assert "container_entrypoint" not in plan.spec
    assert plan.code_uri == "s3://b/code/sourcedir.tar.gz"
    assert any("runproc.sh" in finding for finding in plan.findings)
