"""`sandbox submit` (sandbox.sagemaker.submit) against moto's server on loopback: the
upload, the request SageMaker keeps, the download, the verdict; canned Describe responses
for the statuses moto never reaches, and a small fake client for Ctrl-C."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from sandbox.cli.app import cli
from sandbox.constants import JobKind
from sandbox.contract.resolve import Overrides, find_script, resolve_script
from sandbox.results.models import Status
from sandbox.results.store import load_results
from sandbox.sagemaker.request import Destination, build_job_request
from sandbox.sagemaker.submit import (
    Clients,
    SubmitOptions,
    judge_job,
    submit_job,
    upload_job_files,
)

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "examples" / "scripts"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


@pytest.fixture
def bucket(s3_env: str) -> str:
    name = f"sandbox-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    (folder / "nested").mkdir(parents=True)
    (folder / "part-0.csv").write_text("score,label\n0.1,0\n0.9,1\n")
    (folder / "nested" / "part-1.csv").write_text("score,label\n0.4,0\n")
    return folder


def _calibration(bucket: str, data: Path, job_name: str, **overrides: Any) -> tuple[Any, Any]:
    resolved = resolve_script(
        find_script("model_calibration", SCRIPTS),
        REPO / "examples" / "specs" / "model_calibration.yaml",
        Overrides(environment={"LABEL_FIELD": "label", "SCORE_FIELD": "score"}, **overrides),
    )
    destination = Destination(f"s3://{bucket}/jobs", ROLE, "img.example/sk:1", job_name)
    return resolved, build_job_request(resolved, destination, inputs={"eval_data": data})


def _keys(bucket: str) -> dict[str, dict[str, Any]]:
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {entry["Key"]: s3.head_object(Bucket=bucket, Key=entry["Key"]) for entry in listed}


# upload ----------------------------------------------------------------------------------


def test_code_and_inputs_go_to_content_addressed_keys_once(bucket: str, data: Path) -> None:
    _, request = _calibration(bucket, data, "calib-1")
    s3 = boto3.client("s3")
    first = upload_job_files(s3, request)
    [data_prefix] = request.uploads
    assert sorted(first.uploaded) == sorted(
        [request.code.uri, f"{data_prefix}/nested/part-1.csv", f"{data_prefix}/part-0.csv"]
    )
    assert first.bytes_uploaded == len(request.code.body) + sum(
        p.stat().st_size for p in data.rglob("*.csv")
    )
    keys = _keys(bucket)
    body = s3.get_object(Bucket=bucket, Key=request.code.uri.split("/", 3)[3])["Body"].read()
    assert body == (SCRIPTS / "model_calibration.py").read_bytes()
    assert all("sha256" in head["Metadata"] for head in keys.values())
    # a second submit of the same code and data uploads nothing
    second = upload_job_files(s3, request)
    assert second.uploaded == [] and second.bytes_uploaded == 0
    assert sorted(second.skipped) == sorted(first.uploaded)
    # changed data is a new prefix; the code is skipped
    (data / "part-0.csv").write_text("score,label\n0.2,1\n")
    _, changed = _calibration(bucket, data, "calib-2")
    third = upload_job_files(s3, changed)
    assert list(changed.uploads) != list(request.uploads)
    assert request.code.uri in third.skipped
    assert len(third.uploaded) == 2


def test_an_object_changed_behind_our_back_is_uploaded_again(bucket: str, data: Path) -> None:
    _, request = _calibration(bucket, data, "calib-1")
    s3 = boto3.client("s3")
    upload_job_files(s3, request)
    key = request.code.uri.split("/", 3)[3]
    s3.put_object(Bucket=bucket, Key=key, Body=b"tampered")
    again = upload_job_files(s3, request)
    assert again.uploaded == [request.code.uri]


# the job on moto -------------------------------------------------------------------------


def test_submit_creates_the_job_sagemaker_keeps_and_saves_a_result(
    bucket: str, data: Path, tmp_path: Path
) -> None:
    resolved, request = _calibration(bucket, data, "calib-moto-1", instance_type="ml.m5.large")
    # moto runs nothing: the output the job would write is put there beforehand
    s3 = boto3.client("s3")
    s3.put_object(
        Bucket=bucket, Key="jobs/calib-moto-1/output/metrics_output/metrics.json", Body=b"{}"
    )
    workspace = tmp_path / "ws"
    result = submit_job(
        resolved, request, workspace, Clients.connect(), SubmitOptions(poll_interval_s=0)
    )
    assert result.status is Status.PASS
    described = boto3.client("sagemaker").describe_processing_job(ProcessingJobName="calib-moto-1")
    for key in (
        "AppSpecification",
        "ProcessingInputs",
        "ProcessingOutputConfig",
        "StoppingCondition",
        "NetworkConfig",
        "RoleArn",
    ):
        assert described[key] == request.params[key], key
    assert result.findings[-1] == f"ran on SageMaker as {described['ProcessingJobArn']}"
    assert result.image == "img.example/sk:1"
    assert result.limits.instance_type == "ml.m5.large"
    assert result.inputs["eval_data"] == next(iter(request.uploads))
    assert [f.path for f in result.outputs["metrics_output"]] == ["metrics.json"]
    assert result.outputs["calibration_output"] == []
    run = Path(result.run_dir)
    assert (run / "outputs" / "metrics_output" / "metrics.json").read_bytes() == b"{}"
    assert json.loads((run / "request.json").read_text())["ProcessingJobName"] == "calib-moto-1"
    # through the results store, as list-results and show-result read it
    listed = load_results(workspace)
    assert [r.run_id for r in listed.results] == [result.run_id]


def test_a_training_job_on_moto_keeps_the_script_mode_request(bucket: str, tmp_path: Path) -> None:
    resolved = resolve_script(
        find_script("xgboost_training", SCRIPTS), None, Overrides(hyperparameters={"num_round": 3})
    )
    destination = Destination(f"s3://{bucket}/jobs", ROLE, "img.example/xgb:1", "train-moto-1")
    request = build_job_request(resolved, destination)
    result = submit_job(
        resolved, request, tmp_path / "ws", Clients.connect(), SubmitOptions(poll_interval_s=0)
    )
    described = boto3.client("sagemaker").describe_training_job(TrainingJobName="train-moto-1")
    assert described["HyperParameters"] == request.params["HyperParameters"]
    assert described["AlgorithmSpecification"]["TrainingImage"] == "img.example/xgb:1"
    assert described["InputDataConfig"] == request.params["InputDataConfig"]
    assert result.status is Status.PASS
    assert result.kind == "training"


def test_the_submit_command_renders_and_exits_like_test_script(
    bucket: str, data: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "submit",
            "model_calibration",
            "--scripts-dir",
            str(SCRIPTS),
            "--spec",
            str(REPO / "examples" / "specs" / "model_calibration.yaml"),
            "--env",
            "LABEL_FIELD=label",
            "--env",
            "SCORE_FIELD=score",
            "--env",
            "API_TOKEN=very-secret-value",
            "--input",
            f"eval_data={data}",
            "--s3-prefix",
            f"s3://{bucket}/jobs",
            "--role",
            ROLE,
            "--poll-interval",
            "0",
            "--workspace-dir",
            str(tmp_path / "ws"),
            "--output-format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    (payload,) = json.loads(result.stdout)["results"]
    assert payload["status"] == "PASS"
    assert payload["spec"]["environment"]["API_TOKEN"] == "***"
    saved = (Path(payload["run_dir"]) / "request.json").read_text()
    assert "very-secret-value" not in saved and "very-secret-value" not in result.stdout
    job = json.loads(saved)["ProcessingJobName"]
    assert job.startswith("model-calibration-")
    shown = CliRunner().invoke(cli, ["list-results", "--workspace-dir", str(tmp_path / "ws")])
    assert "model_calibration" in shown.stdout


# the verdict -----------------------------------------------------------------------------

_T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("kind", "described", "status", "reason"),
    [
        (JobKind.PROCESSING, {"ProcessingJobStatus": "Completed"}, Status.PASS, None),
        (
            JobKind.PROCESSING,
            {"ProcessingJobStatus": "Failed", "FailureReason": "AlgorithmError: exit code 1"},
            Status.FAIL,
            "AlgorithmError: exit code 1",
        ),
        (
            JobKind.TRAINING,
            {
                "TrainingJobStatus": "Stopped",
                "SecondaryStatus": "MaxRuntimeExceeded",
                "FailureReason": None,
            },
            Status.TIMEOUT,
            "the job exceeded MaxRuntimeInSeconds",
        ),
        (
            JobKind.PROCESSING,
            {
                "ProcessingJobStatus": "Stopped",
                "FailureReason": "Job exceeded MaxRuntimeInSeconds of 600",
            },
            Status.TIMEOUT,
            "Job exceeded MaxRuntimeInSeconds of 600",
        ),
        (
            JobKind.PROCESSING,
            {"ProcessingJobStatus": "Stopped"},
            Status.ERROR,
            "the job was stopped before it finished",
        ),
        (
            JobKind.TRAINING,
            {"TrainingJobStatus": "Failed", "FailureReason": "CapacityError: no ml.p3 capacity"},
            Status.ERROR,
            "CapacityError: no ml.p3 capacity",
        ),
        (
            JobKind.TRAINING,
            {
                "TrainingJobStatus": "Failed",
                "FailureReason": "OutOfMemoryError: the instance ran out",
            },
            Status.OOM,
            "OutOfMemoryError: the instance ran out",
        ),
    ],
)
def test_the_verdict_of_a_job_from_its_describe_response(
    kind: JobKind, described: dict[str, Any], status: Status, reason: str | None
) -> None:
    assert judge_job(kind, described) == (status, reason)


class FakeSageMaker:
    """A processing job that runs until it is stopped: what moto cannot show."""

    def __init__(self, interrupt_on_poll: int | None = None) -> None:
        self.calls: list[str] = []
        self.stopped = False
        self._interrupt_on_poll = interrupt_on_poll
        self._polls = 0

    def create_processing_job(self, **params: Any) -> dict[str, Any]:
        self.calls.append("create")
        return {"ProcessingJobArn": "arn:aws:sagemaker:us-east-1:1:processing-job/x"}

    def describe_processing_job(self, ProcessingJobName: str) -> dict[str, Any]:
        self.calls.append("describe")
        self._polls += 1
        if self._polls == self._interrupt_on_poll:
            raise KeyboardInterrupt
        return {
            "ProcessingJobStatus": "Stopped" if self.stopped else "InProgress",
            "ProcessingStartTime": _T0,
            "ProcessingEndTime": _T0 + timedelta(seconds=42),
        }

    def stop_processing_job(self, ProcessingJobName: str) -> None:
        self.calls.append("stop")
        self.stopped = True


def test_a_cancel_stops_the_job_and_the_result_says_so(
    bucket: str, data: Path, tmp_path: Path
) -> None:
    resolved, request = _calibration(bucket, data, "calib-cancel")
    fake = FakeSageMaker()
    cancel = threading.Event()
    statuses: list[str] = []

    def on_status(status: str) -> None:
        statuses.append(status)
        if len(statuses) == 2:
            cancel.set()

    result = submit_job(
        resolved,
        request,
        tmp_path / "ws",
        Clients(sagemaker=fake, s3=boto3.client("s3")),
        SubmitOptions(poll_interval_s=0, cancel=cancel, on_status=on_status),
    )
    assert fake.calls == ["create", "describe", "describe", "stop", "describe"]
    assert statuses == ["InProgress", "InProgress", "Stopped"]
    assert result.status is Status.ERROR
    assert result.error_message == "the job was stopped before it finished"
    assert result.execution_time == 42.0


def test_ctrl_c_stops_the_job_and_leaves_a_result(bucket: str, data: Path, tmp_path: Path) -> None:
    resolved, request = _calibration(bucket, data, "calib-ctrl-c")
    fake = FakeSageMaker(interrupt_on_poll=2)
    with pytest.raises(KeyboardInterrupt):
        submit_job(
            resolved,
            request,
            tmp_path / "ws",
            Clients(sagemaker=fake, s3=boto3.client("s3")),
            SubmitOptions(poll_interval_s=0),
        )
    assert fake.calls[-1] == "stop"
    [saved] = load_results(tmp_path / "ws").results
    assert saved.status is Status.ERROR
    assert "calib-ctrl-c was asked to stop" in (saved.error_message or "")


def test_a_job_sagemaker_refuses_is_one_line_naming_it_and_leaves_no_run(
    bucket: str, data: Path, tmp_path: Path
) -> None:
    from sandbox.errors import UsageError

    resolved, request = _calibration(bucket, data, "calib-refused")
    with pytest.raises(
        UsageError,
        match="job calib-refused: SageMaker refused CreateProcessingJob: ResourceInUse Job name",
    ):
        submit_job(
            resolved,
            request,
            tmp_path / "ws",
            Clients(sagemaker=_Refusing(), s3=boto3.client("s3")),
            SubmitOptions(poll_interval_s=0),
        )
    assert not (tmp_path / "ws" / "runs").exists() or not any((tmp_path / "ws" / "runs").iterdir())


class _Refusing:
    def create_processing_job(self, **_params: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError(
            {"Error": {"Code": "ResourceInUse", "Message": "Job name in use"}},
            "CreateProcessingJob",
        )


class FakeLogs:
    """CloudWatch Logs with one stream that grows between polls."""

    def __init__(self, pages: list[list[str]]) -> None:
        self.pages = pages
        self.tokens_seen: list[str | None] = []

    def describe_log_streams(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs == {
            "logGroupName": "/aws/sagemaker/ProcessingJobs",
            "logStreamNamePrefix": "calib-logs/",
        }
        return {"logStreams": [{"logStreamName": "calib-logs/algo-1-123"}]}

    def get_log_events(self, **kwargs: Any) -> dict[str, Any]:
        self.tokens_seen.append(kwargs.get("nextToken"))
        page = self.pages.pop(0) if self.pages else []
        return {
            "events": [{"message": line} for line in page],
            "nextForwardToken": f"f/{len(self.tokens_seen)}",
        }


def test_the_jobs_log_lines_are_followed_forward_and_masked(
    bucket: str, data: Path, tmp_path: Path
) -> None:
    resolved, request = _calibration(bucket, data, "calib-logs", secret_env=["SCORE_FIELD"])
    fake = FakeSageMaker()
    logs = FakeLogs([["starting", "score column: score"], ["done"]])
    lines: list[str] = []
    cancel = threading.Event()

    def on_status(status: str) -> None:
        if status == "InProgress" and len(lines) == 3:
            cancel.set()

    submit_job(
        resolved,
        request,
        tmp_path / "ws",
        Clients(sagemaker=fake, s3=boto3.client("s3"), logs=logs),
        SubmitOptions(poll_interval_s=0, cancel=cancel, on_status=on_status, on_log=lines.append),
    )
    assert lines == ["starting", "*** column: ***", "done"]
    assert logs.tokens_seen[:3] == [None, "f/1", "f/2"]


def test_a_job_without_logs_is_followed_all_the_same(
    bucket: str, data: Path, tmp_path: Path
) -> None:
    resolved, request = _calibration(bucket, data, "calib-no-logs")
    lines: list[str] = []
    result = submit_job(
        resolved,
        request,
        tmp_path / "ws",
        Clients.connect(),  # moto has no log group for it
        SubmitOptions(poll_interval_s=0, on_log=lines.append),
    )
    assert result.status is Status.PASS
    assert lines == []


def test_outputs_that_cannot_be_downloaded_keep_the_verdict_and_the_result(
    bucket: str, data: Path, tmp_path: Path
) -> None:
    resolved, request = _calibration(bucket, data, "calib-no-bucket")
    for output in request.params["ProcessingOutputConfig"]["Outputs"]:
        output["S3Output"]["S3Uri"] = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/out"
    result = submit_job(
        resolved, request, tmp_path / "ws", Clients.connect(), SubmitOptions(poll_interval_s=0)
    )
    assert result.status is Status.PASS
    assert "the outputs could not be downloaded" in result.findings[-1]
    assert "no such bucket" in result.findings[-1]
    [saved] = load_results(tmp_path / "ws").results
    assert saved.run_id == result.run_id


def test_a_local_input_that_is_no_folder_is_refused(bucket: str, tmp_path: Path) -> None:
    from sandbox.errors import UsageError

    afile = tmp_path / "data.csv"
    afile.write_text("a\n1\n")
    with pytest.raises(UsageError, match=r"--input eval_data: .*data\.csv is not a folder"):
        _calibration(bucket, afile, "calib-file")


def test_a_sagemaker_endpoint_that_does_not_answer_is_exit_3(
    bucket: str, data: Path, tmp_path: Path
) -> None:
    import socket

    from sandbox.errors import InfrastructureError

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from botocore.config import Config

    silent = boto3.client(
        "sagemaker",
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    resolved, request = _calibration(bucket, data, "calib-silent")
    with pytest.raises(
        InfrastructureError, match="job calib-silent: SageMaker does not answer"
    ) as caught:
        submit_job(
            resolved,
            request,
            tmp_path / "ws",
            Clients(sagemaker=silent, s3=boto3.client("s3")),
            SubmitOptions(poll_interval_s=0),
        )
    assert caught.value.exit_code == 3


def test_clients_honour_a_service_endpoint_before_the_general_one(
    s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", "http://127.0.0.1:9")
    clients = Clients.connect("eu-west-1")
    assert clients.sagemaker.meta.endpoint_url == "http://127.0.0.1:9"
    assert clients.sagemaker.meta.region_name == "eu-west-1"
    assert clients.logs.meta.endpoint_url == s3_env
    assert clients.s3.meta.endpoint_url == s3_env


class FakeTraining:
    """A training job that runs until it is stopped (moto has no StopTrainingJob)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.stopped = False

    def create_training_job(self, **params: Any) -> dict[str, Any]:
        self.calls.append("create")
        return {"TrainingJobArn": "arn:aws:sagemaker:us-east-1:1:training-job/t"}

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:
        self.calls.append("describe")
        if not self.stopped:
            return {"TrainingJobStatus": "InProgress", "SecondaryStatus": "Training"}
        return {"TrainingJobStatus": "Stopped", "SecondaryStatus": "Stopped"}

    def stop_training_job(self, TrainingJobName: str) -> None:
        self.calls.append("stop")
        self.stopped = True


def test_ctrl_c_stops_a_training_job_with_stop_training_job(bucket: str, tmp_path: Path) -> None:
    resolved = resolve_script(find_script("xgboost_training", SCRIPTS), None, Overrides())
    destination = Destination(f"s3://{bucket}/jobs", ROLE, "img.example/xgb:1", "train-stop")
    request = build_job_request(resolved, destination)
    fake = FakeTraining()
    cancel = threading.Event()
    cancel.set()
    result = submit_job(
        resolved,
        request,
        tmp_path / "ws",
        Clients(sagemaker=fake, s3=boto3.client("s3")),
        SubmitOptions(poll_interval_s=0, cancel=cancel),
    )
    assert fake.calls == ["create", "describe", "stop", "describe"]
    assert result.status is Status.ERROR
    assert result.artifacts == []
