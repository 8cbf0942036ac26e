"""``sandbox replay``: jobs created on a moto server, described back, run in the real image."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from sandbox.cli import cli

pytestmark = pytest.mark.usefixtures("offline_image")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scripts"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
CSV = "amount,merchant_category,label\n" + "".join(
    f"{i * 1.5},{['grocery', 'travel'][i % 2]},{i % 3 == 0:d}\n" for i in range(60)
)


def _bucket() -> tuple[Any, str]:
    s3 = boto3.client("s3")
    bucket = f"replay-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return s3, bucket


def _processing_job(bucket: str, name: str, environment: dict[str, str]) -> dict[str, Any]:
    """A CreateProcessingJob request as the SDK's SKLearnProcessor makes it."""
    return {
        "ProcessingJobName": name,
        "RoleArn": ROLE,
        "AppSpecification": {
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": [
                "python3",
                "/opt/ml/processing/input/code/tabular_preprocessing.py",
            ],
            "ContainerArguments": ["--job_type", "training"],
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 30,
            }
        },
        "ProcessingInputs": [
            {
                "InputName": "input-1",
                "S3Input": {
                    "S3Uri": f"s3://{bucket}/data/",
                    "LocalPath": "/opt/ml/processing/input/data",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            },
            {
                "InputName": "code",
                "S3Input": {
                    "S3Uri": f"s3://{bucket}/code/tabular_preprocessing.py",
                    "LocalPath": "/opt/ml/processing/input/code",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            },
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "splits",
                    "S3Output": {
                        "S3Uri": f"s3://{bucket}/out/",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "Environment": environment,
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "NetworkConfig": {"EnableNetworkIsolation": True},
    }


@pytest.fixture
def processing_job(s3_env: str) -> tuple[str, str]:
    """A processing job on moto whose code and data are in moto's S3: (name, bucket)."""
    s3, bucket = _bucket()
    script = (EXAMPLES / "tabular_preprocessing.py").read_bytes()
    s3.put_object(Bucket=bucket, Key="code/tabular_preprocessing.py", Body=script)
    s3.put_object(Bucket=bucket, Key="data/part-0.csv", Body=CSV.encode())
    name = f"pre-{uuid.uuid4().hex[:8]}"
    environment = {"LABEL_FIELD": "label", "API_TOKEN": "tok-very-secret-value"}
    boto3.client("sagemaker").create_processing_job(**_processing_job(bucket, name, environment))
    return name, bucket


def _described(name: str, bucket: str, folder: Path, **changes: Any) -> Path:
    """moto's DescribeProcessingJob response, saved as a user saves it; moto keeps neither
    the ProcessingResources nor the Environment of the request, so they are put back."""
    request = _processing_job(bucket, name, {})
    described = boto3.client("sagemaker").describe_processing_job(ProcessingJobName=name)
    described.pop("ResponseMetadata")
    assert "ProcessingResources" not in described  # when moto keeps it, drop this step
    described["ProcessingResources"] = request["ProcessingResources"]
    described["Environment"] = {"LABEL_FIELD": "label", "API_TOKEN": "tok-very-secret-value"}
    described.update(changes)
    saved = folder / "job.json"
    saved.write_text(json.dumps(described, default=str), encoding="utf-8")
    return saved


def _replay(*args: str, workspace: Path) -> tuple[int, dict[str, Any], str]:
    run = CliRunner().invoke(
        cli, ["replay", *args, "--workspace-dir", str(workspace), "--output-format", "json"]
    )
    document = json.loads(run.stdout)  # the verdict, or the error: one document either way
    assert document["exit_code"] == run.exit_code
    payload = document["results"][0] if document["results"] else {}
    return run.exit_code, payload, run.output


def test_replay_of_a_described_job_runs_its_code_and_s3_data_as_production(
    processing_job: tuple[str, str], tmp_path: Path
) -> None:
    name, bucket = processing_job
    saved = _described(name, bucket, tmp_path)
    code, result, output = _replay(str(saved), workspace=tmp_path / "ws")
    assert code == 0, output
    assert result["status"] == "PASS"
    assert result["inputs"]["input-1"].startswith(f"s3://{bucket}/data/")
    assert sorted(p["path"].split("/")[0] for p in result["outputs"]["splits"]) == [
        "test",
        "train",
        "val",
    ]
    assert result["spec"]["max_runtime_s"] == 600
    assert result["spec"]["instance_type"] == "ml.m5.large"
    assert result["spec"]["network"] is False
    findings = "\n".join(result["findings"])
    assert f"image {SKLEARN_IMAGE}: not pulled" in findings
    assert "local profile sklearn-1.2" in findings
    assert "production verdict: Completed; locally PASS: they agree" in findings
    assert "tok-very-secret-value" not in output
    assert result["spec"]["environment"]["API_TOKEN"] == "***"


def test_replay_of_a_failed_job_says_whether_the_local_failure_agrees(
    processing_job: tuple[str, str], tmp_path: Path
) -> None:
    name, bucket = processing_job
    saved = _described(
        name,
        bucket,
        tmp_path,
        Environment={"LABEL_FIELD": "no_such_column"},
        ProcessingJobStatus="Failed",
        FailureReason="AlgorithmError: See job logs for more information",
        ExitMessage="ValueError: no column no_such_column",
    )

    code, result, output = _replay(str(saved), workspace=tmp_path / "ws")

    assert code == 1, output
    assert result["status"] == "FAIL"
    verdict = next(f for f in result["findings"] if f.startswith("production verdict"))
    assert "Failed (AlgorithmError" in verdict
    assert "they agree (ValueError vs ValueError)" in verdict, verdict


def test_replay_of_a_training_job_with_sdk_hyperparameters_and_synthetic_data(
    s3_env: str, tmp_path: Path
) -> None:
    s3, bucket = _bucket()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        tar.add(EXAMPLES / "xgboost_training.py", arcname="xgboost_training.py")
    s3.put_object(Bucket=bucket, Key="code/sourcedir.tar.gz", Body=archive.getvalue())
    name = f"train-{uuid.uuid4().hex[:8]}"
    boto3.client("sagemaker").create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        HyperParameters={
            "num_round": "5",
            "max_depth": "3",
            "sagemaker_program": '"xgboost_training.py"',
            "sagemaker_submit_directory": json.dumps(f"s3://{bucket}/code/sourcedir.tar.gz"),
        },
        InputDataConfig=[
            {
                "ChannelName": channel,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{bucket}/{channel}/",
                        "S3DataDistributionType": "ShardedByS3Key",
                    }
                },
            }
            for channel in ("train", "val")
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/model/", "KmsKeyId": "alias/models"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 900},
        VpcConfig={"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
        EnableNetworkIsolation=True,
    )

    code, result, output = _replay(name, "--synthetic", workspace=tmp_path / "ws")

    assert code == 0, output
    assert result["kind"] == "training"
    assert result["spec"]["hyperparameters"] == {"num_round": 5, "max_depth": 3}
    assert result["spec"]["network"] is False
    assert result["image"].startswith("sandbox/xgboost-1.7")
    findings = "\n".join(result["findings"])
    for expected in (
        "local profile xgboost-1.7",
        "InstanceCount 2",
        "OutputDataConfig.KmsKeyId alias/models",
        "VpcConfig: the job ran in a VPC",
        "input train: ShardedByS3Key",
    ):
        assert expected in findings, expected


def test_replay_by_name_of_moto_s_partial_processing_job_names_the_missing_field(
    processing_job: tuple[str, str], tmp_path: Path
) -> None:
    code, _result, output = _replay(processing_job[0], workspace=tmp_path / "ws")
    assert code == 2
    assert "field 'ProcessingResources': Field required" in output
    assert not (tmp_path / "ws" / "runs").exists()


def test_replay_of_a_partial_response_names_the_missing_field(tmp_path: Path) -> None:
    saved = tmp_path / "job.json"
    saved.write_text(json.dumps({"TrainingJobName": "t", "TrainingJobStatus": "Failed"}))
    run = CliRunner().invoke(cli, ["replay", str(saved), "--workspace-dir", str(tmp_path / "ws")])
    assert run.exit_code == 2
    assert "field 'AlgorithmSpecification': Field required" in run.output
    assert not (tmp_path / "ws" / "runs").exists()


def test_the_readme_s_failed_training_job_agrees_with_production(tmp_path: Path) -> None:
    repo = EXAMPLES.parents[1]
    code, result, output = _replay(
        str(repo / "examples" / "jobs" / "training_failed.json"),
        "--code",
        str(EXAMPLES / "xgboost_training.py"),
        "--synthetic",
        workspace=tmp_path / "ws",
    )
    assert code == 1, output
    assert result["status"] == "FAIL"
    assert "objective 'reg:squarederror'" in result["error_message"]
    verdict = next(f for f in result["findings"] if f.startswith("production verdict"))
    assert verdict.startswith(
        "production verdict: Failed (AlgorithmError: ExecuteUserScriptError: ExitCode 1 "
    )
    assert verdict.endswith("locally FAIL: they agree (exit code 1 vs 1, ValueError vs ValueError)")


TRAIN_WITH_HELPER = """\
import os
import pathlib

import helper

model_dir = pathlib.Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
(model_dir / "model.txt").write_text(helper.VALUE)
"""


def test_replay_of_a_source_dir_job_runs_the_whole_tree(s3_env: str, tmp_path: Path) -> None:
    s3, bucket = _bucket()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, text in (("train.py", TRAIN_WITH_HELPER), ("helper.py", "VALUE = 'helped'\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    s3.put_object(Bucket=bucket, Key="src/sourcedir.tar.gz", Body=archive.getvalue())
    name = f"tree-{uuid.uuid4().hex[:8]}"
    boto3.client("sagemaker").create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File"},
        HyperParameters={
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": json.dumps(f"s3://{bucket}/src/sourcedir.tar.gz"),
        },
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/model/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
        EnableNetworkIsolation=True,
    )

    code, result, output = _replay(name, workspace=tmp_path / "ws")

    assert code == 0, output
    model = Path(result["run_dir"]) / "outputs" / "model" / "model.txt"
    assert model.read_text() == "helped"
