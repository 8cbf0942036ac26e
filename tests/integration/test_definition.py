"""``sandbox test-pipeline --definition``: a definition the SageMaker SDK itself builds.

The SDK builds the definition offline: a ``PipelineSession`` on dummy credentials whose
code uploads go to the moto server (``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import json
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from sandbox.cli import cli

pytestmark = pytest.mark.usefixtures("offline_image")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scripts"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
CSV = "amount,merchant_category,label\n" + "".join(
    f"{i * 1.5},{['grocery', 'travel'][i % 2]},{i % 3 == 0:d}\n" for i in range(90)
)
EVALUATE = """\
import json
import pathlib

model = pathlib.Path("/opt/ml/processing/input/model")
files = sorted(p.name for p in model.rglob("*") if p.is_file())
if not files:
    raise SystemExit("no model files")
out = pathlib.Path("/opt/ml/processing/evaluation")
report = {"model_files": files, "metrics": {"files": {"value": len(files)}}}
(out / "evaluation.json").write_text(json.dumps(report))
"""


def _definition(bucket: str, code_dir: Path) -> dict[str, Any]:
    """processing -> training -> processing, with parameters and property references."""
    from sagemaker.inputs import TrainingInput
    from sagemaker.network import NetworkConfig
    from sagemaker.processing import ProcessingInput, ProcessingOutput
    from sagemaker.sklearn.processing import SKLearnProcessor
    from sagemaker.workflow.condition_step import ConditionStep
    from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.workflow.fail_step import FailStep
    from sagemaker.workflow.functions import Join, JsonGet
    from sagemaker.workflow.parameters import ParameterInteger, ParameterString
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.pipeline_context import PipelineSession
    from sagemaker.workflow.properties import PropertyFile
    from sagemaker.workflow.steps import ProcessingStep, TrainingStep
    from sagemaker.xgboost.estimator import XGBoost

    session = PipelineSession(boto_session=boto3.session.Session(), default_bucket=bucket)
    input_data = ParameterString("InputData", default_value=f"s3://{bucket}/data/")
    label = ParameterString("LabelField", default_value="label")
    rounds = ParameterInteger("NumRound", default_value=5)
    min_files = ParameterInteger("MinModelFiles", default_value=1)

    def processor(**env: Any) -> SKLearnProcessor:
        return SKLearnProcessor(
            framework_version="1.2-1",
            role=ROLE,
            instance_type="ml.m5.large",
            instance_count=1,
            sagemaker_session=session,
            env=env,
            network_config=NetworkConfig(enable_network_isolation=True),
        )

    preprocess = ProcessingStep(
        "Preprocess",
        step_args=processor(LABEL_FIELD=label).run(
            code=str(code_dir / "tabular_preprocessing.py"),
            inputs=[
                ProcessingInput(
                    source=input_data,
                    destination="/opt/ml/processing/input/data",
                    input_name="data_input",
                )
            ],
            outputs=[ProcessingOutput(output_name="splits", source="/opt/ml/processing/output")],
            arguments=["--job_type", "training"],
        ),
    )
    splits = preprocess.properties.ProcessingOutputConfig.Outputs["splits"].S3Output.S3Uri
    estimator = XGBoost(
        entry_point=str(code_dir / "xgboost_training.py"),
        framework_version="1.7-1",
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=session,
        hyperparameters={"num_round": rounds, "max_depth": 3},
        environment={"LABEL_FIELD": label},
        output_path=f"s3://{bucket}/models",
        enable_network_isolation=True,
    )
    train = TrainingStep(
        "Train",
        step_args=estimator.fit(
            {
                channel: TrainingInput(Join(on="/", values=[splits, channel]))
                for channel in ("train", "val")
            }
        ),
    )
    report = PropertyFile(name="Report", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        "Evaluate",
        property_files=[report],
        step_args=processor().run(
            code=str(code_dir / "evaluate.py"),
            inputs=[
                ProcessingInput(
                    source=train.properties.ModelArtifacts.S3ModelArtifacts,
                    destination="/opt/ml/processing/input/model",
                    input_name="model",
                )
            ],
            outputs=[
                ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")
            ],
        ),
    )
    check = ConditionStep(
        "CheckRounds",
        conditions=[
            ConditionGreaterThanOrEqualTo(
                left=JsonGet(
                    step_name="Evaluate", property_file=report, json_path="metrics.files.value"
                ),
                right=min_files,
            )
        ],
        if_steps=[],
        else_steps=[
            FailStep("TooFewFiles", error_message=Join(on=" ", values=["fewer than", min_files]))
        ],
    )
    pipeline = Pipeline(
        "replay-demo",
        parameters=[input_data, label, rounds, min_files],
        steps=[preprocess, train, evaluate, check],
        sagemaker_session=session,
    )
    return json.loads(pipeline.definition())


@pytest.fixture
def definition(s3_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The SDK's definition file and the folder of its scripts."""
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")  # v2 builds the definition
    pytest.importorskip("sagemaker")
    s3 = boto3.client("s3")
    bucket = f"pipes-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="data/part-0.csv", Body=CSV.encode())
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    for name in ("tabular_preprocessing.py", "xgboost_training.py"):
        shutil.copy(EXAMPLES / name, code_dir / name)
    (code_dir / "evaluate.py").write_text(EVALUATE, encoding="utf-8")
    path = tmp_path / "pipeline.json"
    with warnings.catch_warnings():  # the SDK's notes on PipelineSession and v2
        warnings.simplefilter("ignore")
        built = _definition(bucket, code_dir)
    path.write_text(json.dumps(built), encoding="utf-8")
    return path, code_dir


def test_sdk_definition_runs_its_steps_with_edges_parameters_and_skipped_condition(
    definition: tuple[Path, Path], tmp_path: Path
) -> None:
    path, code_dir = definition
    local_evaluate = tmp_path / "evaluate_local_edit.py"  # staged as evaluate.py, as it runs
    local_evaluate.write_text(EVALUATE.replace('"model_files"', '"edited": True, "model_files"'))
    raw = json.loads(path.read_text())
    assert raw["Version"] == "2020-12-01"
    junit = tmp_path / "junit.xml"
    run = CliRunner().invoke(
        cli,
        [
            "test-pipeline",
            "--definition",
            str(path),
            "--code-dir",
            str(code_dir),
            "--code",
            f"Evaluate={local_evaluate}",
            "--param",
            "NumRound=3",
            "--workspace-dir",
            str(tmp_path / "ws"),
            "--output-format",
            "json",
            "--junit-xml",
            str(junit),
        ],
    )
    assert run.exit_code == 0, run.output
    result = json.loads(run.stdout)["pipeline"]
    statuses = {step["name"]: step["status"] for step in result["steps"]}
    assert statuses == {
        "Preprocess": "PASS",
        "Train": "PASS",
        "Evaluate": "PASS",
        "CheckRounds": "SKIPPED",
        "TooFewFiles": "SKIPPED",
    }
    edges = {(edge["from"], edge["to"]): edge["status"] for edge in result["edges"]}
    assert edges == {
        ("Preprocess.splits/train", "Train.train"): "PASS",
        ("Preprocess.splits/val", "Train.val"): "PASS",
        ("Train.model", "Evaluate.model"): "PASS",
    }
    steps = {step["name"]: step for step in result["steps"]}
    condition = steps["CheckRounds"]["result"]["error_message"]
    assert "evaluated here: Evaluate's Report metrics.files.value (" in condition
    assert ">= MinModelFiles (1) is true: the if branch runs (no steps)" in condition
    assert (
        "else branch of CheckRounds, not taken" in steps["TooFewFiles"]["result"]["error_message"]
    )
    train = steps["Train"]["result"]
    assert train["spec"]["hyperparameters"]["num_round"] == 3  # --param over the default 5
    assert train["spec"]["environment"]["LABEL_FIELD"] == "label"
    assert any("local profile xgboost-1.7" in f for f in train["findings"])
    assert steps["Preprocess"]["result"]["inputs"]["data_input"].startswith("s3://pipes-")
    assert any("model.tar.gz" in f for f in steps["Evaluate"]["result"]["findings"])
    evaluation = Path(steps["Evaluate"]["run_dir"]) / "outputs" / "evaluation"
    written = json.loads((evaluation / "evaluation.json").read_text())
    assert written["model_files"]
    assert written["edited"] is True  # --code STEP=PATH wins over --code-dir
    assert 'name="CheckRounds"' in junit.read_text() or "CheckRounds" in junit.read_text()


def test_a_condition_that_reaches_a_fail_step_fails_the_run_with_code_from_s3(
    definition: tuple[Path, Path], tmp_path: Path
) -> None:
    path, _code_dir = definition  # each step's code comes from where the SDK uploaded it
    run = CliRunner().invoke(
        cli,
        [
            "test-pipeline",
            "--definition",
            str(path),
            "--param",
            "MinModelFiles=99",
            "--workspace-dir",
            str(tmp_path / "ws"),
            "--output-format",
            "json",
        ],
    )
    assert run.exit_code == 1, run.output
    result = json.loads(run.stdout)["pipeline"]
    assert result["status"] == "FAIL"
    steps = {step["name"]: step for step in result["steps"]}
    assert steps["Evaluate"]["status"] == "PASS"
    assert steps["TooFewFiles"]["status"] == "FAIL"
    reason = steps["TooFewFiles"]["result"]["error_message"]
    assert "reached in the else branch of CheckRounds" in reason
    assert "production fails here: fewer than 99" in reason


def test_definition_with_an_unknown_parameter_is_a_usage_error(
    definition: tuple[Path, Path], tmp_path: Path
) -> None:
    path, _code_dir = definition
    run = CliRunner().invoke(
        cli,
        [
            "test-pipeline",
            "--definition",
            str(path),
            "--param",
            "Nope=1",
            "--workspace-dir",
            str(tmp_path / "ws"),
        ],
    )
    assert run.exit_code == 2
    known = "InputData, LabelField, NumRound, MinModelFiles"
    assert f"--param Nope: no such parameter (parameters: {known})" in run.output
