"""From a SageMaker job (a Describe response or a pipeline step's arguments) to a spec.

The job's image, entry point, arguments, channels, limits, network isolation and
hyperparameters become a :class:`~sandbox.contract.spec.ScriptSpec` mapping (environment aside:
it travels as an override, so that no secret is written to a spec file). What the
sandbox cannot reproduce (a VPC, KMS keys, several instances, Pipe mode, sharding) is a
finding, never dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sandbox.container.instances import INSTANCE_TYPES
from sandbox.errors import UsageError
from sandbox.sagemaker.describe import (
    ProcessingInputModel,
    ProcessingJobRequest,
    TrainingJobRequest,
)

__all__ = [
    "CODE_DIR",
    "JobSpec",
    "job_spec",
]

CODE_DIR = "/opt/ml/processing/input/code"
_TRAINING_DATA = "/opt/ml/input/data"
_SDK_HYPERPARAMETER = "sagemaker_"
_LAUNCHER = "runproc.sh"
"""What a FrameworkProcessor's entry point runs: it unpacks ``sourcedir.tar.gz``."""


@dataclass(frozen=True)
class JobSpec:
    """A job as the sandbox runs it: spec fields, code location, environment, findings."""

    spec: dict[str, Any]
    """ScriptSpec fields (no environment)."""
    environment: dict[str, str]
    code_uri: str | None
    """Where production reads the code: a script, a prefix, or a ``sourcedir.tar.gz``."""
    script_name: str | None
    """The entry script's file name, when the job names it."""
    input_uris: dict[str, str] = field(default_factory=dict)
    """Input channel -> its S3 URI (or a pipeline step's property)."""
    findings: list[str] = field(default_factory=list)


def job_spec(job: ProcessingJobRequest | TrainingJobRequest) -> JobSpec:
    """The spec of a processing or training job.

    Raises:
        UsageError: the job runs no script the sandbox could run (a built-in algorithm).
    """
    if isinstance(job, ProcessingJobRequest):
        return _processing_spec(job)
    return _training_spec(job)


# processing ---------------------------------------------------------------------


def _processing_spec(job: ProcessingJobRequest) -> JobSpec:
    app = job.AppSpecification
    findings: list[str] = []
    code = next((item for item in job.ProcessingInputs if _is_code(item)), None)
    runner = _framework_runner(job)
    count = job.ProcessingResources.ClusterConfig.InstanceCount
    skipped = [item for item in (code, runner) if item is not None]
    inputs, uris = _processing_inputs(job.ProcessingInputs, skipped, count, findings)
    spec: dict[str, Any] = {
        "kind": "processing",
        "image": app.ImageUri,
        "inputs": inputs,
        "outputs": _processing_outputs(job, findings),
        "network": not (job.NetworkConfig and job.NetworkConfig.EnableNetworkIsolation),
        **_limits(job.ProcessingResources.ClusterConfig.InstanceType, job, findings),
    }
    if runner is not None:
        findings.append(
            f"ContainerEntrypoint {' '.join(app.ContainerEntrypoint or [])}: the SDK's "
            "launcher unpacks the source archive and runs the script; here the script runs "
            "directly (python3 SCRIPT ContainerArguments)"
        )
    elif app.ContainerEntrypoint:
        spec["container_entrypoint"] = list(app.ContainerEntrypoint)
    if app.ContainerArguments is not None:
        spec["container_arguments"] = list(app.ContainerArguments)
    cluster = job.ProcessingResources.ClusterConfig
    _instances(cluster.InstanceCount, findings)
    _kms("ProcessingResources.ClusterConfig.VolumeKmsKeyId", cluster.VolumeKmsKeyId, findings)
    if job.ProcessingOutputConfig is not None:
        _kms("ProcessingOutputConfig.KmsKeyId", job.ProcessingOutputConfig.KmsKeyId, findings)
    if job.NetworkConfig is not None and job.NetworkConfig.VpcConfig:
        findings.append(_vpc_finding("NetworkConfig.VpcConfig"))
    code_uri = code.S3Input.S3Uri if code is not None and code.S3Input is not None else None
    return JobSpec(
        spec=spec,
        environment=dict(job.Environment),
        code_uri=code_uri,
        script_name=_processing_script(app.ContainerEntrypoint, code_uri),
        input_uris=uris,
        findings=findings,
    )


def _is_code(item: ProcessingInputModel) -> bool:
    local = item.S3Input.LocalPath.rstrip("/") if item.S3Input else ""
    return item.InputName == "code" or local == CODE_DIR


def _framework_runner(job: ProcessingJobRequest) -> ProcessingInputModel | None:
    """The input holding the launcher a FrameworkProcessor's entry point runs
    (``/bin/bash /opt/ml/processing/input/entrypoint/runproc.sh``), if any."""
    entrypoint = job.AppSpecification.ContainerEntrypoint or []
    for item in job.ProcessingInputs:
        folder = item.S3Input.LocalPath.rstrip("/") if item.S3Input else None
        if folder and folder != CODE_DIR and f"{folder}/{_LAUNCHER}" in entrypoint:
            return item
    return None


def _processing_inputs(
    items: list[ProcessingInputModel],
    skipped: list[ProcessingInputModel],
    count: int,
    findings: list[str],
) -> tuple[dict[str, Any], dict[str, str]]:
    inputs: dict[str, Any] = {}
    uris: dict[str, str] = {}
    for item in items:
        if any(item is other for other in skipped):
            continue
        if item.S3Input is None:
            local = (item.DatasetDefinition or {}).get("LocalPath")
            findings.append(
                f"input {item.InputName}: a DatasetDefinition (Athena or Redshift query) "
                f"cannot run here; give its data with --input {item.InputName}=DIR"
            )
            if local:
                inputs[item.InputName] = {"path": local}
            continue
        s3 = item.S3Input
        inputs[item.InputName] = {"path": s3.LocalPath}
        uris[item.InputName] = s3.S3Uri
        _input_mode(item.InputName, s3.S3InputMode, findings)
        _distribution(item.InputName, s3.S3DataDistributionType, count, findings)
        inputs[item.InputName]["s3_data_type"] = s3.S3DataType
    return inputs, uris


def _processing_outputs(job: ProcessingJobRequest, findings: list[str]) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    config = job.ProcessingOutputConfig
    for item in config.Outputs if config else []:
        if item.S3Output is None:
            findings.append(f"output {item.OutputName}: a FeatureStoreOutput is not written here")
            continue
        outputs[item.OutputName] = {"path": item.S3Output.LocalPath}
        if item.S3Output.S3UploadMode == "Continuous":
            findings.append(
                f"output {item.OutputName}: S3UploadMode Continuous; here the files are "
                "collected at the end of the run"
            )
    return outputs


def _processing_script(entrypoint: list[str] | None, code_uri: str | None) -> str | None:
    for part in entrypoint or []:
        path = PurePosixPath(part)
        if str(path.parent) == CODE_DIR:
            return path.name
    if code_uri and code_uri.endswith(".py"):
        return code_uri.rsplit("/", 1)[-1]
    return None


# training -----------------------------------------------------------------------


def _training_spec(job: TrainingJobRequest) -> JobSpec:
    algorithm = job.AlgorithmSpecification
    if algorithm.AlgorithmName or not algorithm.TrainingImage:
        raise UsageError(
            f"the job uses the algorithm {algorithm.AlgorithmName or '(none)'}: "
            "it runs no script of yours to replay"
        )
    findings: list[str] = []
    inputs, uris = _training_inputs(job, findings)
    hyperparameters, sdk = _hyperparameters(job.HyperParameters)
    spec: dict[str, Any] = {
        "kind": "training",
        "image": algorithm.TrainingImage,
        "inputs": inputs,
        "hyperparameters": hyperparameters,
        "network": not job.EnableNetworkIsolation,
        **_limits(job.ResourceConfig.InstanceType, job, findings),
    }
    if algorithm.ContainerEntrypoint:
        spec["container_entrypoint"] = list(algorithm.ContainerEntrypoint)
    if algorithm.ContainerArguments is not None:
        spec["container_arguments"] = list(algorithm.ContainerArguments)
    _instances(job.ResourceConfig.InstanceCount, findings)
    _kms("ResourceConfig.VolumeKmsKeyId", job.ResourceConfig.VolumeKmsKeyId, findings)
    _kms("OutputDataConfig.KmsKeyId", job.OutputDataConfig.KmsKeyId, findings)
    if job.VpcConfig:
        findings.append(_vpc_finding("VpcConfig"))
    program = sdk.get("sagemaker_program")
    return JobSpec(
        spec=spec,
        environment=dict(job.Environment),
        code_uri=_training_code(sdk.get("sagemaker_submit_directory"), inputs, uris),
        script_name=str(program) if program else None,
        input_uris=uris,
        findings=findings,
    )


def _training_inputs(
    job: TrainingJobRequest, findings: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    inputs: dict[str, Any] = {}
    uris: dict[str, str] = {}
    default_mode = job.AlgorithmSpecification.TrainingInputMode
    for channel in job.InputDataConfig:
        name = channel.ChannelName
        inputs[name] = {"path": f"{_TRAINING_DATA}/{name}"}
        source = channel.DataSource.S3DataSource
        if source is None:
            findings.append(
                f"input {name}: a file-system data source (EFS, FSx) is not mounted here; "
                f"give its data with --input {name}=DIR"
            )
            continue
        uris[name] = source.S3Uri
        inputs[name]["s3_data_type"] = source.S3DataType
        _input_mode(name, channel.InputMode or default_mode, findings)
        _distribution(
            name, source.S3DataDistributionType, job.ResourceConfig.InstanceCount, findings
        )
    return inputs, uris


def _training_code(
    submit_directory: Any, inputs: dict[str, Any], uris: dict[str, str]
) -> str | None:
    """Where the code is: ``sagemaker_submit_directory``, or, for a job with network
    isolation, the input channel the SDK passes it in (which is then no data channel)."""
    if not isinstance(submit_directory, str):
        return None
    prefix = f"{_TRAINING_DATA}/"
    if not submit_directory.startswith(prefix):
        return submit_directory
    channel, _, file_name = submit_directory.removeprefix(prefix).partition("/")
    inputs.pop(channel, None)
    uri = uris.pop(channel, None)
    if uri is None or not file_name or uri.endswith(f"/{file_name}"):
        return uri
    return f"{uri.rstrip('/')}/{file_name}"


def _hyperparameters(raw: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The script's hyperparameters and the SDK's own (``sagemaker_program``, ...).

    The SDK writes each value JSON-encoded; the training toolkit decodes what it can.
    """
    decoded: dict[str, Any] = {}
    for name, value in raw.items():
        try:
            decoded[name] = json.loads(value)
        except ValueError:
            decoded[name] = value
    sdk = {k: v for k, v in decoded.items() if k.startswith(_SDK_HYPERPARAMETER)}
    return {k: v for k, v in decoded.items() if k not in sdk}, sdk


# shared -------------------------------------------------------------------------


def _limits(
    instance_type: str | None,
    job: ProcessingJobRequest | TrainingJobRequest,
    findings: list[str],
) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    if instance_type in INSTANCE_TYPES:
        limits["instance_type"] = instance_type
    elif instance_type:
        findings.append(
            f"instance type {instance_type}: its CPU and memory are unknown here; "
            "the default limits applied"
        )
    stopping = job.StoppingCondition
    if stopping is not None and stopping.MaxRuntimeInSeconds:
        limits["max_runtime_s"] = stopping.MaxRuntimeInSeconds
    return limits


def _instances(count: int, findings: list[str]) -> None:
    if count > 1:
        findings.append(
            f"InstanceCount {count}: the job ran on {count} instances; here it runs as "
            "one (algo-1), which gets all of every input"
        )


def _kms(field_name: str, key: str | None, findings: list[str]) -> None:
    if key:
        findings.append(f"{field_name} {key}: KMS encryption is not reproduced here")


def _vpc_finding(field_name: str) -> str:
    return f"{field_name}: the job ran in a VPC; here it has no such network"


def _input_mode(channel: str, mode: str, findings: list[str]) -> None:
    if mode == "Pipe":
        findings.append(
            f"input {channel}: Pipe mode streams a FIFO in production; here the files are "
            "a folder (File mode)"
        )


def _distribution(channel: str, distribution: str, count: int, findings: list[str]) -> None:
    if distribution == "ShardedByS3Key" and count > 1:
        findings.append(
            f"input {channel}: ShardedByS3Key gives each instance a share of the keys; "
            f"here the one instance gets every key, not 1/{count} of them"
        )
