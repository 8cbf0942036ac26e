"""SageMaker job descriptions: DescribeProcessingJob / DescribeTrainingJob responses.

The models read what the sandbox needs from a response (or from the arguments of a
pipeline step, which have the same shape as a Create*Job request); unknown fields are
ignored, a missing required field is a :class:`~sandbox.errors.SpecError` that names it.
A job is given as a saved JSON response, or by name or ARN, which boto3 describes with
the usual credential chain (``AWS_ENDPOINT_URL`` honoured).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.contract.spec import describe_validation_error
from sandbox.errors import SpecError, UsageError

__all__ = [
    "AppSpecificationModel",
    "JobDescription",
    "ProcessingInputModel",
    "ProcessingJob",
    "ProcessingJobRequest",
    "TrainingJob",
    "TrainingJobRequest",
    "describe_job",
    "load_job",
    "parse_job",
]


class _Api(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class S3InputModel(_Api):
    S3Uri: str
    LocalPath: str
    S3DataType: str = "S3Prefix"
    S3InputMode: str = "File"
    S3DataDistributionType: str = "FullyReplicated"


class ProcessingInputModel(_Api):
    InputName: str
    S3Input: S3InputModel | None = None
    DatasetDefinition: dict[str, Any] | None = None


class S3OutputModel(_Api):
    S3Uri: str
    LocalPath: str
    S3UploadMode: str = "EndOfJob"


class ProcessingOutputModel(_Api):
    OutputName: str
    S3Output: S3OutputModel | None = None
    FeatureStoreOutput: dict[str, Any] | None = None


class ProcessingOutputConfigModel(_Api):
    Outputs: list[ProcessingOutputModel] = Field(default_factory=list)
    KmsKeyId: str | None = None


class ClusterConfigModel(_Api):
    InstanceCount: int
    InstanceType: str
    VolumeSizeInGB: int | None = None
    VolumeKmsKeyId: str | None = None


class ProcessingResourcesModel(_Api):
    ClusterConfig: ClusterConfigModel


class StoppingConditionModel(_Api):
    MaxRuntimeInSeconds: int | None = None


class AppSpecificationModel(_Api):
    ImageUri: str
    ContainerEntrypoint: list[str] | None = None
    ContainerArguments: list[str] | None = None


class NetworkConfigModel(_Api):
    EnableNetworkIsolation: bool = False
    EnableInterContainerTrafficEncryption: bool = False
    VpcConfig: dict[str, Any] | None = None


class ProcessingJobRequest(_Api):
    """The fields of a CreateProcessingJob request that shape a run."""

    AppSpecification: AppSpecificationModel
    ProcessingResources: ProcessingResourcesModel
    ProcessingInputs: list[ProcessingInputModel] = Field(default_factory=list)
    ProcessingOutputConfig: ProcessingOutputConfigModel | None = None
    Environment: dict[str, str] = Field(default_factory=dict)
    StoppingCondition: StoppingConditionModel | None = None
    NetworkConfig: NetworkConfigModel | None = None


class ProcessingJob(ProcessingJobRequest):
    """A DescribeProcessingJob response."""

    ProcessingJobName: str
    ProcessingJobStatus: str
    FailureReason: str | None = None
    ExitMessage: str | None = None


class S3DataSourceModel(_Api):
    S3Uri: str
    S3DataType: str = "S3Prefix"
    S3DataDistributionType: str = "FullyReplicated"


class DataSourceModel(_Api):
    S3DataSource: S3DataSourceModel | None = None
    FileSystemDataSource: dict[str, Any] | None = None


class ChannelModel(_Api):
    ChannelName: str
    DataSource: DataSourceModel
    InputMode: str | None = None


class AlgorithmSpecificationModel(_Api):
    TrainingImage: str | None = None
    AlgorithmName: str | None = None
    TrainingInputMode: str = "File"
    ContainerEntrypoint: list[str] | None = None
    ContainerArguments: list[str] | None = None


class OutputDataConfigModel(_Api):
    S3OutputPath: str
    KmsKeyId: str | None = None


class ResourceConfigModel(_Api):
    InstanceType: str | None = None
    InstanceCount: int = 1
    VolumeSizeInGB: int | None = None
    VolumeKmsKeyId: str | None = None


class TrainingJobRequest(_Api):
    """The fields of a CreateTrainingJob request that shape a run."""

    AlgorithmSpecification: AlgorithmSpecificationModel
    ResourceConfig: ResourceConfigModel
    OutputDataConfig: OutputDataConfigModel
    HyperParameters: dict[str, str] = Field(default_factory=dict)
    InputDataConfig: list[ChannelModel] = Field(default_factory=list)
    Environment: dict[str, str] = Field(default_factory=dict)
    StoppingCondition: StoppingConditionModel | None = None
    EnableNetworkIsolation: bool = False
    VpcConfig: dict[str, Any] | None = None


class TrainingJob(TrainingJobRequest):
    """A DescribeTrainingJob response."""

    TrainingJobName: str
    TrainingJobStatus: str
    SecondaryStatus: str | None = None
    FailureReason: str | None = None


JobDescription = ProcessingJob | TrainingJob


def parse_job(raw: object, *, source: str) -> JobDescription:
    """A Describe response as a model; which one is told by its name field.

    Raises:
        SpecError: not a Describe response of either kind, or a required field is
            missing or wrong; the message names ``source`` and the field.
    """
    if not isinstance(raw, dict):
        raise SpecError(
            source, "not a JSON object (a DescribeProcessingJob or DescribeTrainingJob response)"
        )
    model: type[ProcessingJob] | type[TrainingJob]
    if "ProcessingJobName" in raw or "ProcessingJobArn" in raw:
        model = ProcessingJob
    elif "TrainingJobName" in raw or "TrainingJobArn" in raw:
        model = TrainingJob
    else:
        raise SpecError(
            source,
            "field 'ProcessingJobName' or 'TrainingJobName' missing: not a "
            "DescribeProcessingJob or DescribeTrainingJob response",
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(source, describe_validation_error(exc)) from exc


def load_job(reference: str, client: Any | None = None) -> JobDescription:
    """A job from a saved Describe response (a ``.json`` file) or by name or ARN.

    Raises:
        SpecError: the file is not JSON or not a valid Describe response.
        UsageError: no job of that name, or the SageMaker API cannot be reached.
    """
    path = Path(reference)
    if path.is_file() or reference.endswith(".json"):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SpecError(reference, "file not found") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SpecError(reference, f"not valid JSON: {exc}") from exc
        return parse_job(raw, source=reference)
    return parse_job(describe_job(reference, client), source=reference)


def describe_job(reference: str, client: Any | None = None) -> dict[str, Any]:
    """Ask SageMaker for a job by name or ARN: processing first, then training.

    Raises:
        UsageError: no such job of either kind, no credentials, or no answer.
    """
    name = reference.rsplit("/", 1)[-1]
    try:
        client = client or _sagemaker_client()
    except Exception as exc:  # botocore's NoRegionError and the like
        raise UsageError(f"job {reference}: cannot reach SageMaker ({exc})") from exc
    kind = _arn_kind(reference)
    calls = [("processing", client.describe_processing_job, "ProcessingJobName")]
    calls.append(("training", client.describe_training_job, "TrainingJobName"))
    problems: list[str] = []
    for label, call, field in calls:
        if kind not in (None, label):
            continue
        try:
            response: dict[str, Any] = call(**{field: name})
        except Exception as exc:  # botocore's errors: ClientError, NoCredentialsError, ...
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            problems.append(f"{label}: {first_line}")
            continue
        response.pop("ResponseMetadata", None)
        return json.loads(json.dumps(response, default=str))
    raise UsageError(f"job {reference}: cannot describe it ({'; '.join(problems)})")


def _arn_kind(reference: str) -> str | None:
    if ":processing-job/" in reference:
        return "processing"
    if ":training-job/" in reference:
        return "training"
    return None


def _sagemaker_client() -> Any:
    from sandbox.data.s3client import require_boto3

    require_boto3()
    import boto3

    return boto3.session.Session().client("sagemaker")
