"""Describe responses to specs, and production's verdict beside the local one."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.errors import SpecError, UsageError
from sandbox.results.models import Status, TestResult
from sandbox.sagemaker.describe import load_job, parse_job
from sandbox.sagemaker.framework_images import framework_profile
from sandbox.sagemaker.jobspec import job_spec
from sandbox.sagemaker.replay import compare_verdicts


def _training(**changes: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "TrainingJobName": "t",
        "TrainingJobStatus": "Failed",
        "FailureReason": (
            'AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "ValueError: bad"'
        ),
        "AlgorithmSpecification": {"TrainingImage": "x/sagemaker-xgboost:1.7-1"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        "OutputDataConfig": {"S3OutputPath": "s3://b/out"},
    }
    job.update(changes)
    return job


def _result(status: Status, exit_code: int | None, tail: list[str]) -> TestResult:
    return TestResult(
        run_id="r",
        script_name="s",
        script_path="s.py",
        kind="training",
        call_style="entrypoint",
        status=status,
        execution_time=1.0,
        exit_code=exit_code,
        stderr_tail=tail,
    )


def test_a_missing_field_is_named() -> None:
    raw = _training()
    del raw["ResourceConfig"]
    with pytest.raises(SpecError, match="field 'ResourceConfig': Field required"):
        parse_job(raw, source="job.json")


def test_neither_kind_is_named_as_such() -> None:
    with pytest.raises(SpecError, match="ProcessingJobName' or 'TrainingJobName' missing"):
        parse_job({"Foo": 1}, source="job.json")


def test_framework_images_map_to_local_profiles() -> None:
    uri = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    assert framework_profile(uri) == "sklearn-1.2"
    assert framework_profile("1.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1") == (
        "xgboost-1.7"
    )
    assert framework_profile("1.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.5-1") is None


def test_same_exit_code_and_exception_agree() -> None:
    job = parse_job(_training(), source="j")
    line = compare_verdicts(job, _result(Status.FAIL, 1, ["Traceback", "ValueError: bad"]))
    assert "they agree (exit code 1 vs 1, ValueError vs ValueError)" in line


def test_a_different_exception_disagrees() -> None:
    job = parse_job(_training(), source="j")
    line = compare_verdicts(job, _result(Status.FAIL, 1, ["KeyError: 'x'"]))
    assert "they DISAGREE (ValueError vs KeyError)" in line


def test_a_local_pass_of_a_failed_job_disagrees() -> None:
    job = parse_job(_training(), source="j")
    assert "they DISAGREE" in compare_verdicts(job, _result(Status.PASS, 0, []))


def test_unreproducible_fields_are_findings_not_dropped() -> None:
    job = parse_job(
        _training(
            ResourceConfig={
                "InstanceType": "ml.zz9.large",
                "InstanceCount": 4,
                "VolumeKmsKeyId": "k1",
            },
            VpcConfig={"Subnets": ["s"]},
            InputDataConfig=[
                {
                    "ChannelName": "train",
                    "InputMode": "Pipe",
                    "DataSource": {
                        "S3DataSource": {
                            "S3Uri": "s3://b/t",
                            "S3DataDistributionType": "ShardedByS3Key",
                        }
                    },
                }
            ],
        ),
        source="j",
    )
    findings = "\n".join(job_spec(job).findings)
    for expected in (
        "InstanceCount 4",
        "VolumeKmsKeyId k1",
        "VpcConfig",
        "Pipe mode",
        "1/4",
        "ml.zz9.large",
    ):
        assert expected in findings, expected


def test_a_job_without_network_isolation_gets_a_network() -> None:
    assert job_spec(parse_job(_training(), source="j")).spec["network"] is True
    isolated = parse_job(_training(EnableNetworkIsolation=True), source="j")
    assert job_spec(isolated).spec["network"] is False


def test_an_isolated_job_s_code_channel_is_its_code_not_data() -> None:
    code = "s3://b/code/sourcedir.tar.gz"
    job = _training(
        HyperParameters={
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": '"/opt/ml/input/data/code/sourcedir.tar.gz"',
        },
        InputDataConfig=[
            {"ChannelName": "code", "DataSource": {"S3DataSource": {"S3Uri": code}}},
            {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://b/t"}}},
        ],
    )
    plan = job_spec(parse_job(job, source="j"))
    assert plan.code_uri == code
    assert list(plan.spec["inputs"]) == ["train"]
    assert plan.input_uris == {"train": "s3://b/t"}


def test_a_job_stopped_past_its_max_runtime_agrees_with_a_local_timeout() -> None:
    job = parse_job(
        _training(TrainingJobStatus="Stopped", SecondaryStatus="MaxRuntimeExceeded"), source="j"
    )
    assert compare_verdicts(job, _result(Status.TIMEOUT, None, [])) == (
        "production verdict: Stopped (MaxRuntimeExceeded); locally TIMEOUT: they agree"
    )
    assert "they DISAGREE" in compare_verdicts(job, _result(Status.PASS, 0, []))


class _FakeSageMaker:
    """Answers DescribeTrainingJob for one name; every other call fails as botocore does."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response
        self.calls: list[str] = []

    def describe_processing_job(self, ProcessingJobName: str) -> dict[str, Any]:
        self.calls.append(f"processing {ProcessingJobName}")
        raise RuntimeError("An error occurred (ValidationException): Could not find job")

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:
        self.calls.append(f"training {TrainingJobName}")
        if TrainingJobName != self.response["TrainingJobName"]:
            raise RuntimeError(
                "An error occurred (ValidationException): Requested resource not found"
            )
        return {**self.response, "ResponseMetadata": {"HTTPStatusCode": 200}}


def test_a_job_name_is_described_as_processing_then_training() -> None:
    client = _FakeSageMaker(_training())
    job = load_job("t", client)
    assert job.TrainingJobName == "t"  # type: ignore[union-attr]
    assert client.calls == ["processing t", "training t"]


def test_an_arn_names_its_kind_and_an_unknown_job_names_both_answers() -> None:
    client = _FakeSageMaker(_training())
    load_job("arn:aws:sagemaker:us-east-1:1:training-job/t", client)
    assert client.calls == ["training t"]
    with pytest.raises(
        UsageError, match=r"job nope: cannot describe it \(processing: .*; training: .*not found\)"
    ):
        load_job("nope", client)
