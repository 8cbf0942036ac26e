"""Run a job on SageMaker itself: upload, create, follow, download, judge.

The steps are visible and small: upload the code and the local inputs to their
content-addressed keys (an object already there with the same SHA-256 is skipped),
create the job with the request :mod:`sandbox.sagemaker.request` built, poll its status
(and its CloudWatch logs, where there are any), stop it when cancelled or interrupted,
download the outputs of a completed job into a run folder of the workspace, and judge
the job's status and ``FailureReason`` as a :class:`~sandbox.results.models.TestResult`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sandbox.constants import SPEC_FILE, JobKind
from sandbox.contract.resolve import ResolvedScript
from sandbox.data.s3client import is_missing, make_client, make_service_client, translated_errors
from sandbox.data.s3source import split_s3_uri
from sandbox.errors import InfrastructureError, SandboxError, UsageError
from sandbox.results.collect import collect_outputs
from sandbox.results.masking import Masker
from sandbox.results.models import (
    AppliedLimits,
    Artifact,
    ExecutionResult,
    Status,
    TestResult,
)
from sandbox.results.store import save_result
from sandbox.results.workspace import RunFolder, Workspace
from sandbox.sagemaker.request import JobRequest
from sandbox.sagemaker.validation import validate_request

__all__ = [
    "Clients",
    "SubmitOptions",
    "UploadReport",
    "judge_job",
    "submit_job",
    "upload_job_files",
]

logger = logging.getLogger(__name__)

_TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
_SHA_KEY = "sha256"
"""User metadata on every uploaded object: its content's SHA-256, to skip it next time."""


@dataclass(frozen=True)
class Clients:
    """The boto3 clients a submit talks to."""

    sagemaker: Any
    s3: Any
    logs: Any | None = None

    @classmethod
    def connect(cls, region: str | None = None) -> Clients:
        """Clients from boto3's usual credential chain; ``AWS_ENDPOINT_URL`` honoured.

        Raises:
            UsageError: boto3 is not installed.
        """
        return cls(
            sagemaker=make_service_client("sagemaker", region),
            s3=make_client(),
            logs=make_service_client("logs", region),
        )


@dataclass(frozen=True)
class SubmitOptions:
    """How to follow a job."""

    poll_interval_s: float = 15.0
    cancel: threading.Event | None = None
    """Set it to stop the job (StopProcessingJob / StopTrainingJob)."""
    on_status: Callable[[str], None] | None = None
    on_log: Callable[[str], None] | None = None


@dataclass
class UploadReport:
    """What an upload did."""

    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0


def submit_job(
    resolved: ResolvedScript,
    request: JobRequest,
    workspace: Path,
    clients: Clients,
    options: SubmitOptions | None = None,
) -> TestResult:
    """Upload, create the job, follow it to its end, download its outputs, judge it.

    Raises:
        RequestRejected: botocore refuses the request (before anything is uploaded).
        S3SourceError, UsageError: an upload, the creation or a poll failed.
        KeyboardInterrupt: after stopping the job and saving an ERROR result.
    """
    options = options or SubmitOptions()
    validate_request(request.operation, request.params)
    upload_job_files(clients.s3, request)
    # A job SageMaker refuses leaves no run folder behind.
    _create(clients.sagemaker, request)
    run = Workspace(workspace).ensure().new_run(resolved.script_path.stem)
    masker = Masker.for_spec(resolved.spec)
    run.write_json(SPEC_FILE, masker.spec(resolved.spec))
    run.write_json("request.json", request.printable())
    if options.on_log is not None:  # the job's logs may print a secret value
        on_log = options.on_log
        options = replace(options, on_log=lambda line: on_log(masker.text(line)))
    try:
        described = _follow(clients, request, options)
    except KeyboardInterrupt:
        _stop(clients.sagemaker, request)
        save_result(masker.result(_interrupted(resolved, request, run)))
        raise
    return save_result(masker.result(_finish(resolved, request, run, described, clients.s3)))


# Upload ------------------------------------------------------------------------------


def upload_job_files(s3: Any, request: JobRequest) -> UploadReport:
    """Put the code and every local input file at its key, skipping objects already
    there with the same SHA-256."""
    report = UploadReport()
    _put(s3, request.code.uri, request.code.body, report)
    for prefix, folder in request.uploads.items():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            _put(s3, f"{prefix}/{path.relative_to(folder).as_posix()}", path.read_bytes(), report)
    return report


def _put(s3: Any, uri: str, body: bytes, report: UploadReport) -> None:
    bucket, key = split_s3_uri(uri)
    digest = hashlib.sha256(body).hexdigest()
    with translated_errors(uri, s3):
        if _stored_digest(s3, bucket, key) == digest:
            report.skipped.append(uri)
            return
        s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata={_SHA_KEY: digest})
    report.uploaded.append(uri)
    report.bytes_uploaded += len(body)


def _stored_digest(s3: Any, bucket: str, key: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return str(head.get("Metadata", {}).get(_SHA_KEY, "")) or None


# Create and follow -------------------------------------------------------------------


def _create(sagemaker: Any, request: JobRequest) -> None:
    with _api_errors(request):
        if request.kind is JobKind.TRAINING:
            sagemaker.create_training_job(**request.params)
        else:
            sagemaker.create_processing_job(**request.params)


def _describe(sagemaker: Any, request: JobRequest) -> dict[str, Any]:
    with _api_errors(request):
        if request.kind is JobKind.TRAINING:
            described = sagemaker.describe_training_job(TrainingJobName=request.job_name)
        else:
            described = sagemaker.describe_processing_job(ProcessingJobName=request.job_name)
    return dict(described)


def _stop(sagemaker: Any, request: JobRequest) -> None:
    logger.info("stopping job %s", request.job_name)
    with _api_errors(request):
        if request.kind is JobKind.TRAINING:
            sagemaker.stop_training_job(TrainingJobName=request.job_name)
        else:
            sagemaker.stop_processing_job(ProcessingJobName=request.job_name)


def _status(request: JobRequest, described: dict[str, Any]) -> str:
    key = "TrainingJobStatus" if request.kind is JobKind.TRAINING else "ProcessingJobStatus"
    return str(described.get(key, ""))


def _follow(clients: Clients, request: JobRequest, options: SubmitOptions) -> dict[str, Any]:
    """Poll until the job ends; a cancel stops it (once) and keeps polling until it has."""
    cancel = options.cancel or threading.Event()
    logs = _LogFollower(clients.logs, request, options.on_log)
    stopped = False
    while True:
        described = _describe(clients.sagemaker, request)
        status = _status(request, described)
        if options.on_status is not None:
            options.on_status(status)
        logs.poll()
        if status in _TERMINAL:
            return described
        if cancel.is_set() and not stopped:
            _stop(clients.sagemaker, request)
            stopped = True
            continue
        cancel.wait(options.poll_interval_s)


class _LogFollower:
    """The job's CloudWatch log lines, read forward from where the last poll stopped."""

    def __init__(self, logs: Any | None, request: JobRequest, on_log: Callable[[str], None] | None):
        self._logs: Any = logs if on_log is not None else None
        self._on_log = on_log or (lambda _line: None)
        kind = "TrainingJobs" if request.kind is JobKind.TRAINING else "ProcessingJobs"
        self._group = f"/aws/sagemaker/{kind}"
        self._prefix = f"{request.job_name}/"
        self._tokens: dict[str, str] = {}

    def poll(self) -> None:
        if self._logs is None:
            return
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for line in self._new_lines():
                self._on_log(line)
        except (BotoCoreError, ClientError) as exc:  # no logs yet, or none at all
            logger.debug("no logs for %s: %s", self._prefix, exc)

    def _new_lines(self) -> Iterator[str]:
        streams = self._logs.describe_log_streams(
            logGroupName=self._group, logStreamNamePrefix=self._prefix
        ).get("logStreams", [])
        for stream in streams:
            name = stream["logStreamName"]
            kwargs = {"nextToken": self._tokens[name]} if name in self._tokens else {}
            page = self._logs.get_log_events(
                logGroupName=self._group, logStreamName=name, startFromHead=True, **kwargs
            )
            self._tokens[name] = page.get("nextForwardToken", "")
            for event in page.get("events", []):
                yield str(event.get("message", ""))


@contextmanager
def _api_errors(request: JobRequest) -> Iterator[None]:
    """botocore's errors of the SageMaker API as one line naming the job: what the user
    can fix (a refused request, credentials) exits 2, an endpoint that does not answer 3."""
    from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as EndpointError

    try:
        yield
    except (EndpointError, HTTPClientError) as exc:
        raise InfrastructureError(
            f"job {request.job_name}: SageMaker does not answer: {exc}"
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise UsageError(
            f"job {request.job_name}: SageMaker refused {exc.operation_name}: "
            f"{error.get('Code', '')} {error.get('Message', '')}".strip()
        ) from exc
    except BotoCoreError as exc:
        raise UsageError(f"job {request.job_name}: {exc}") from exc


# Judge -------------------------------------------------------------------------------


def judge_job(kind: JobKind, described: dict[str, Any]) -> tuple[Status, str | None]:
    """The verdict of a finished job from its Describe response: Completed is PASS; a
    job stopped for exceeding ``MaxRuntimeInSeconds`` is TIMEOUT; out of memory is OOM;
    a job that failed on the platform's side (capacity, internal error) or was stopped
    is ERROR; any other failure is the script's: FAIL, with the FailureReason."""
    status_key = "TrainingJobStatus" if kind is JobKind.TRAINING else "ProcessingJobStatus"
    status = str(described.get(status_key, ""))
    reason = described.get("FailureReason")
    secondary = str(described.get("SecondaryStatus", ""))
    text = f"{reason or ''} {described.get('ExitMessage') or ''}".lower()
    if status == "Completed":
        return Status.PASS, None
    if secondary == "MaxRuntimeExceeded" or "maxruntime" in text.replace(" ", ""):
        return Status.TIMEOUT, reason or "the job exceeded MaxRuntimeInSeconds"
    if status == "Stopped":
        return Status.ERROR, reason or "the job was stopped before it finished"
    if status != "Failed":
        return Status.ERROR, f"the job ended in an unknown status {status!r}"
    if "outofmemory" in text.replace(" ", "") or "out of memory" in text:
        return Status.OOM, reason
    if any(word in text for word in ("capacityerror", "internalservererror", "internal error")):
        return Status.ERROR, reason
    return Status.FAIL, reason or "the job failed"


def _finish(
    resolved: ResolvedScript,
    request: JobRequest,
    run: RunFolder,
    described: dict[str, Any],
    s3: Any,
) -> TestResult:
    status, reason = judge_job(request.kind, described)
    findings = [f"ran on SageMaker as {_arn(request, described)}"]
    artifacts: list[Artifact] = []
    outputs_dirs: dict[str, Path] = {}
    if status is Status.PASS:
        try:
            if request.kind is JobKind.TRAINING:
                artifacts, missing = _download_artifacts(s3, request, described, run)
                findings.extend(missing)
            else:
                outputs_dirs = _download_outputs(s3, request, run)
        except SandboxError as exc:  # the job's verdict stands; its result is still saved
            findings.append(f"the outputs could not be downloaded: {exc}")
    return _result(resolved, request, run, described, status, reason).model_copy(
        update={
            "outputs": collect_outputs(outputs_dirs),
            "artifacts": artifacts,
            "findings": [*resolved.findings, *findings],
        }
    )


def _result(
    resolved: ResolvedScript,
    request: JobRequest,
    run: RunFolder,
    described: dict[str, Any],
    status: Status,
    reason: str | None,
) -> TestResult:
    spec = resolved.spec
    return TestResult(
        run_id=run.run_id,
        script_name=resolved.script_path.stem,
        script_path=str(resolved.script_path),
        kind=spec.kind.value,
        kind_reason=resolved.kind_reason,
        call_style=spec.call_style.value,
        status=status,
        error_message=reason,
        execution=_execution(request, described),
        image=_image(request),
        limits=AppliedLimits(
            instance_type=_instance_type(request),
            max_runtime_s=int(request.params["StoppingCondition"]["MaxRuntimeInSeconds"]),
            network=not _isolated(request),
        ),
        inputs=_input_uris(request),
        spec=spec.model_dump(mode="json"),
        run_dir=str(run.root),
    )


def _interrupted(resolved: ResolvedScript, request: JobRequest, run: RunFolder) -> TestResult:
    return _result(
        resolved,
        request,
        run,
        {},
        Status.ERROR,
        f"interrupted (Ctrl-C or SIGTERM): job {request.job_name} was asked to stop",
    )


def _execution(request: JobRequest, described: dict[str, Any]) -> ExecutionResult | None:
    """What SageMaker tells of the job's container: its start, end and exit message (no
    exit code, no resource figures); ``None`` when it tells neither time nor message."""
    prefix = "Training" if request.kind is JobKind.TRAINING else "Processing"
    start, end = described.get(f"{prefix}StartTime"), described.get(f"{prefix}EndTime")
    ran = isinstance(start, datetime) and isinstance(end, datetime)
    message = described.get("ExitMessage")
    if not ran and message is None:
        return None
    now = datetime.now(timezone.utc)
    started = start if isinstance(start, datetime) else now
    finished = end if isinstance(end, datetime) else now
    return ExecutionResult(
        exit_code=None,
        started_at=started,
        finished_at=finished,
        wall_time_s=round(max((finished - started).total_seconds(), 0.0), 3) if ran else 0.0,
        image=_image(request),
        image_id="",
        command=[],
        exit_message=message,
    )


def _arn(request: JobRequest, described: dict[str, Any]) -> str:
    key = "TrainingJobArn" if request.kind is JobKind.TRAINING else "ProcessingJobArn"
    return str(described.get(key, request.job_name))


def _image(request: JobRequest) -> str:
    if request.kind is JobKind.TRAINING:
        return str(request.params["AlgorithmSpecification"]["TrainingImage"])
    return str(request.params["AppSpecification"]["ImageUri"])


def _instance_type(request: JobRequest) -> str:
    if request.kind is JobKind.TRAINING:
        return str(request.params["ResourceConfig"]["InstanceType"])
    return str(request.params["ProcessingResources"]["ClusterConfig"]["InstanceType"])


def _isolated(request: JobRequest) -> bool:
    if request.kind is JobKind.TRAINING:
        return bool(request.params["EnableNetworkIsolation"])
    return bool(request.params["NetworkConfig"]["EnableNetworkIsolation"])


def _input_uris(request: JobRequest) -> dict[str, str]:
    if request.kind is JobKind.TRAINING:
        return {
            c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
            for c in request.params["InputDataConfig"]
        }
    return {i["InputName"]: i["S3Input"]["S3Uri"] for i in request.params["ProcessingInputs"]}


# Download ----------------------------------------------------------------------------


def _download_outputs(s3: Any, request: JobRequest, run: RunFolder) -> dict[str, Path]:
    """Every processing output's objects into ``outputs/<name>`` of the run folder."""
    folders: dict[str, Path] = {}
    for output in request.params["ProcessingOutputConfig"]["Outputs"]:
        folder = run.outputs / output["OutputName"]
        _download_prefix(s3, output["S3Output"]["S3Uri"], folder)
        folders[output["OutputName"]] = folder
    return folders


def _download_prefix(s3: Any, uri: str, folder: Path) -> None:
    bucket, prefix = split_s3_uri(uri)
    prefix = prefix.rstrip("/") + "/"
    folder.mkdir(parents=True, exist_ok=True)
    with translated_errors(uri, s3):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for entry in page.get("Contents", []):
                relative = entry["Key"][len(prefix) :]
                target = (folder / relative).resolve()
                if not relative or not target.is_relative_to(folder.resolve()):
                    continue  # a key that would land outside the run folder
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, entry["Key"], str(target))


def _download_artifacts(
    s3: Any, request: JobRequest, described: dict[str, Any], run: RunFolder
) -> tuple[list[Artifact], list[str]]:
    """``model.tar.gz`` and ``output.tar.gz`` into the run folder, as a local run packs them."""
    model_uri = described.get("ModelArtifacts", {}).get("S3ModelArtifacts")
    output_path = request.params["OutputDataConfig"]["S3OutputPath"].rstrip("/")
    wanted = {
        "model.tar.gz": model_uri or f"{output_path}/{request.job_name}/output/model.tar.gz",
        "output.tar.gz": f"{output_path}/{request.job_name}/output/output.tar.gz",
    }
    artifacts, missing = [], []
    for name, uri in wanted.items():
        bucket, key = split_s3_uri(uri)
        target = run.root / name
        try:
            with translated_errors(uri, s3):
                s3.download_file(bucket, key, str(target))
        except Exception as exc:
            if not is_missing(exc.__cause__ or exc):
                raise
            missing.append(f"{name}: nothing at {uri}")
            continue
        artifacts.append(Artifact(name=name, path=str(target), size_bytes=target.stat().st_size))
    return artifacts, missing
