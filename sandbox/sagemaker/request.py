"""The CreateProcessingJob or CreateTrainingJob request production would get for a run.

Built from the same resolved spec the local run uses, and for a Processing job from the
very mapping that writes the local run's ``processingjobconfig.json``
(:func:`sandbox.container.layout.processing_job_config`): only the S3 locations, the image and
the role differ. Code and local input folders are placed at content-addressed keys
under the S3 prefix, so a second submit of the same code and data uploads nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sandbox.constants import CODE_PATH, DEFAULT_INSTANCE_TYPE, JobKind
from sandbox.container.hyperparameters import stringify_hyperparameters
from sandbox.container.layout import InputBinding, argument_list, entry_point, processing_job_config
from sandbox.contract.resolve import ResolvedScript
from sandbox.contract.spec import ScriptSpec
from sandbox.data.inputs import channel_required, script_content
from sandbox.data.location import DataLocation
from sandbox.data.s3source import split_s3_uri
from sandbox.errors import UsageError
from sandbox.results.masking import MASK, Masker

__all__ = [
    "CodePackage",
    "Destination",
    "JobRequest",
    "build_job_request",
    "default_job_name",
    "folder_digest",
    "parse_s3_prefix",
]

TRAINING_CODE_DIR = "/opt/ml/code"
TRAINING_CODE_CHANNEL_ARCHIVE = "/opt/ml/input/data/code/sourcedir.tar.gz"
"""Where a network-isolated training job finds its code: the SDK's ``code`` channel."""
VOLUME_SIZE_GB = 30
DEFAULT_MAX_RUNTIME_S = 86400
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9]+")
_DIGEST_CHARS = 16


@dataclass(frozen=True)
class Destination:
    """Where and as whom the job runs on SageMaker."""

    s3_prefix: str
    """``s3://bucket/prefix`` without a trailing slash."""
    role_arn: str
    image_uri: str
    job_name: str
    region: str = "us-east-1"


@dataclass(frozen=True)
class CodePackage:
    """The job's code as uploaded: the script itself, or ``sourcedir.tar.gz`` for training."""

    uri: str
    body: bytes


@dataclass(frozen=True)
class JobRequest:
    """One Create*Job request, and what must be uploaded before it is sent."""

    kind: JobKind
    params: dict[str, Any]
    """The request as sent: secret values included."""
    code: CodePackage
    uploads: dict[str, Path] = field(default_factory=dict)
    """S3 prefix URI -> the local folder whose files go there."""
    secret_names: tuple[str, ...] = ()

    @property
    def operation(self) -> str:
        if self.kind is JobKind.TRAINING:
            return "CreateTrainingJob"
        return "CreateProcessingJob"

    @property
    def job_name(self) -> str:
        key = "TrainingJobName" if self.kind is JobKind.TRAINING else "ProcessingJobName"
        return str(self.params[key])

    def printable(self) -> dict[str, Any]:
        """The request with the value of every secret variable replaced by ``***``."""
        environment = self.params.get("Environment", {})
        shown = {name: MASK if name in self.secret_names else v for name, v in environment.items()}
        return {**self.params, "Environment": shown} if environment else dict(self.params)


def parse_s3_prefix(text: str) -> str:
    """``s3://bucket/prefix/`` -> ``s3://bucket/prefix``.

    Raises:
        UsageError: Not an ``s3://bucket[/prefix]`` URI.
    """
    try:
        split_s3_uri(text)
    except ValueError as exc:
        raise UsageError(f"--s3-prefix: {exc}") from exc
    return text.rstrip("/")


def default_job_name(script_stem: str, now: datetime | None = None) -> str:
    """``<script>-<UTC time>``, in the characters a job name allows (at most 63)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    stem = _NAME_CHARS.sub("-", script_stem).strip("-")[: 62 - len(stamp)].strip("-")
    return f"{stem or 'sandbox'}-{stamp}"


def folder_digest(folder: Path) -> str:
    """A hash of a folder's file names and contents: the same data, the same key."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:_DIGEST_CHARS]


def build_job_request(
    resolved: ResolvedScript,
    destination: Destination,
    *,
    inputs: Mapping[str, DataLocation] | None = None,
) -> JobRequest:
    """The request of ``resolved`` at ``destination``.

    ``inputs``: channel -> a local folder (uploaded to a content-addressed prefix) or an
    S3 prefix (used as it is). A required channel given nothing reads
    ``<prefix>/input/<channel>``; an optional one is left out, as the local run leaves it.

    Raises:
        UsageError: An input names no channel of the script, or a local input is no folder.
    """
    located = _input_locations(resolved, destination, inputs or {})
    if resolved.spec.kind is JobKind.TRAINING:
        return _training_request(resolved, destination, located)
    return _processing_request(resolved, destination, located)


@dataclass(frozen=True)
class _Located:
    uri: str
    folder: Path | None


def _input_locations(
    resolved: ResolvedScript, destination: Destination, given: Mapping[str, DataLocation]
) -> dict[str, _Located]:
    spec = resolved.spec
    by_folder = {channel.folder_name: name for name, channel in spec.inputs.items()}
    content = script_content(resolved.script_path, resolved.contract)
    named: dict[str, DataLocation] = {}
    for name, location in given.items():
        target = name if name in spec.inputs else by_folder.get(name)
        if target is None:
            known = ", ".join(spec.inputs) or "none"
            raise UsageError(f"--input {name}: the script has no such input channel ({known})")
        named[target] = location
    located: dict[str, _Located] = {}
    for name, channel in spec.inputs.items():
        place = named.get(name)
        if isinstance(place, Path):
            located[name] = _local_input(name, place, destination)
        elif place is not None or channel.s3_uri is not None:
            located[name] = _Located(str(place or channel.s3_uri), None)
        elif channel_required(name, channel, content):
            located[name] = _Located(f"{destination.s3_prefix}/input/{name}", None)
    return located


def _local_input(name: str, folder: Path, destination: Destination) -> _Located:
    if not folder.is_dir():
        raise UsageError(f"--input {name}: {folder} is not a folder")
    return _Located(f"{destination.s3_prefix}/data/{folder_digest(folder)}", folder.resolve())


def _uploads(located: Mapping[str, _Located]) -> dict[str, Path]:
    return {place.uri: place.folder for place in located.values() if place.folder is not None}


def _environment(spec: ScriptSpec) -> tuple[dict[str, str], tuple[str, ...]]:
    return dict(spec.environment), tuple(sorted(Masker.for_spec(spec).names))


def _code_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:_DIGEST_CHARS]


# Processing --------------------------------------------------------------------------


def _processing_request(
    resolved: ResolvedScript, destination: Destination, located: Mapping[str, _Located]
) -> JobRequest:
    spec, script = resolved.spec, resolved.script_path
    body = script.read_bytes()
    code_uri = f"{destination.s3_prefix}/code/{_code_digest(body)}/{script.name}"
    start = entry_point(
        spec,
        CODE_PATH,
        script,
        None,
        False,
        argument_list(spec.arguments, _multi_valued(resolved)),
    )
    bindings = [
        InputBinding(name, spec.inputs[name].path, place.folder or Path(), "", None)
        for name, place in located.items()
    ]

    def s3_uri(direction: str, channel: str) -> str:
        if direction == "output":
            return f"{destination.s3_prefix}/{destination.job_name}/output/{channel}"
        return code_uri if channel == "code" else located[channel].uri

    config = processing_job_config(
        spec,
        bindings,
        image=destination.image_uri,
        job_name=destination.job_name,
        start=start,
        s3_uri=s3_uri,
    )
    environment, secrets = _environment(spec)
    config.pop("ProcessingJobArn")
    params = {**config, "Environment": environment, "RoleArn": destination.role_arn}
    if not environment:
        params.pop("Environment")
    return JobRequest(
        JobKind.PROCESSING, params, CodePackage(code_uri, body), _uploads(located), secrets
    )


def _multi_valued(resolved: ResolvedScript) -> frozenset[str]:
    return frozenset(
        name
        for name, argument in resolved.contract.arguments.items()
        if argument.nargs not in (None, "?")
    )


# Training ----------------------------------------------------------------------------


def _training_request(
    resolved: ResolvedScript, destination: Destination, located: Mapping[str, _Located]
) -> JobRequest:
    spec, script = resolved.spec, resolved.script_path
    body = _source_archive(script)
    code_uri = f"{destination.s3_prefix}/code/{_code_digest(body)}/sourcedir.tar.gz"
    isolated = not spec.network
    channels = [
        _training_channel(spec.inputs[name].path, place.uri) for name, place in located.items()
    ]
    if isolated:  # no network to fetch the code with: the SDK adds it as a channel
        channels.append(_training_channel("code", code_uri, content_type=None))
    environment, secrets = _environment(spec)
    params: dict[str, Any] = {
        "TrainingJobName": destination.job_name,
        "AlgorithmSpecification": _algorithm(spec, destination.image_uri),
        "RoleArn": destination.role_arn,
        "HyperParameters": _hyperparameters(
            spec, script.name, TRAINING_CODE_CHANNEL_ARCHIVE if isolated else code_uri, destination
        ),
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": f"{destination.s3_prefix}/output"},
        "ResourceConfig": {
            "InstanceType": spec.instance_type or DEFAULT_INSTANCE_TYPE,
            "InstanceCount": 1,
            "VolumeSizeInGB": VOLUME_SIZE_GB,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": spec.max_runtime_s or DEFAULT_MAX_RUNTIME_S},
        "EnableNetworkIsolation": isolated,
    }
    if environment:
        params["Environment"] = environment
    return JobRequest(
        JobKind.TRAINING, params, CodePackage(code_uri, body), _uploads(located), secrets
    )


def _algorithm(spec: ScriptSpec, image_uri: str) -> dict[str, Any]:
    algorithm: dict[str, Any] = {"TrainingImage": image_uri, "TrainingInputMode": "File"}
    if spec.container_entrypoint is not None:
        algorithm["ContainerEntrypoint"] = list(spec.container_entrypoint)
    if spec.container_arguments is not None:
        algorithm["ContainerArguments"] = list(spec.container_arguments)
    return algorithm


def _hyperparameters(
    spec: ScriptSpec, program: str, submit_directory: str, destination: Destination
) -> dict[str, str]:
    """Every value a string as ``hyperparameters.json`` holds it, and the script-mode
    entries the SDK adds (JSON-encoded, as it encodes them). Job arguments become
    hyperparameters: the training toolkit passes each as ``--name value``."""
    return {
        **stringify_hyperparameters({**spec.arguments, **spec.hyperparameters}),
        "sagemaker_program": json.dumps(program),
        "sagemaker_submit_directory": json.dumps(submit_directory),
        "sagemaker_container_log_level": "20",
        "sagemaker_region": json.dumps(destination.region),
    }


def _training_channel(path: str, uri: str, content_type: str | None = "text/csv") -> dict[str, Any]:
    """A channel as the local run's ``inputdataconfig.json`` describes it."""
    channel: dict[str, Any] = {
        "ChannelName": path.rsplit("/", 1)[-1],
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "CompressionType": "None",
        "RecordWrapperType": "None",
        "InputMode": "File",
    }
    if content_type is not None:
        channel["ContentType"] = content_type
    return channel


def _source_archive(script: Path) -> bytes:
    """``sourcedir.tar.gz`` holding the script, byte for byte the same for the same script
    (no times, owners or modes of this machine), so its key is content-addressed."""
    body = script.read_bytes()
    member = tarfile.TarInfo(script.name)
    member.size, member.mode, member.mtime = len(body), 0o644, 0
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(member, io.BytesIO(body))
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as archive:
        archive.write(raw.getvalue())
    return packed.getvalue()
