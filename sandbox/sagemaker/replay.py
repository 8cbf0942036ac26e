"""Replay a production SageMaker job locally: the same code, data, limits and wiring.

The job (a Describe response, see :mod:`sandbox.sagemaker.describe`) becomes a spec
(:mod:`sandbox.sagemaker.jobspec`); its code is fetched from S3 through the workspace's
S3 cache (or given as a local file) and staged under the name production runs; then
:func:`sandbox.runner.run_script` runs it like any script. The result carries what the
sandbox could not reproduce and, for a job that failed in production, whether the local
verdict agrees with its ``FailureReason``.
"""

from __future__ import annotations

import logging
import re
import shutil
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sandbox.container.engine import engine_or_connect
from sandbox.container.seam import Engine
from sandbox.contract.resolve import Overrides
from sandbox.contract.spec import ScriptSpec, describe_validation_error
from sandbox.data.datagen import DataSize
from sandbox.data.location import DataLocation
from sandbox.data.s3source import S3_CACHE_DIR, S3Cache, S3Source
from sandbox.errors import S3SourceError, SpecError, UsageError
from sandbox.results.models import Status, TestResult
from sandbox.results.store import save_result
from sandbox.results.workspace import Workspace, make_private_folder
from sandbox.runner import RunRequest, run_script
from sandbox.sagemaker.describe import JobDescription, ProcessingJob, load_job
from sandbox.sagemaker.framework_images import framework_profile
from sandbox.sagemaker.jobspec import JobSpec, job_spec

__all__ = [
    "ReplayRequest",
    "StagedCode",
    "compare_verdicts",
    "local_image",
    "replay_job",
    "stage_code",
    "write_spec_file",
]

logger = logging.getLogger(__name__)

_REPLAY_DIR = "replay"
_EXIT_CODE = re.compile(r"exit\s*code[\s:=]*(-?\d+)", re.IGNORECASE)
_EXCEPTION = re.compile(r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception|Interrupt|Exit))\b")
_OVER_TIME = "MaxRuntimeExceeded"
"""A training job's SecondaryStatus when it ran past MaxRuntimeInSeconds."""
_PLATFORM_WORDS = frozenset(
    {"AlgorithmError", "ClientError", "ExecuteUserScriptError", "InternalServerError"}
)


@dataclass(frozen=True)
class ReplayRequest:
    """One ``sandbox replay`` call, as plain data."""

    job: str
    """A saved Describe response (JSON file), or a job name or ARN."""
    code: Path | None = None
    """The entry script, instead of the job's code in S3."""
    inputs: Mapping[str, DataLocation] = field(default_factory=dict)
    """Channel -> folder or S3 prefix, instead of the job's own S3 data."""
    synthetic: bool = False
    """Generate every input instead of reading the job's S3 data."""
    data_size: DataSize = DataSize.SMALL
    workspace: Path = Path(".sandbox")
    on_progress: Callable[[str], None] | None = None


def replay_job(
    request: ReplayRequest, engine: Engine | None = None, sagemaker_client: Any | None = None
) -> TestResult:
    """Run a production job locally and return the verdict, compared with production's.

    Raises:
        SpecError: the Describe response is not valid (the message names the field).
        UsageError: no code to run, a bad ``--input``, or the job cannot be described.
        InfrastructureError: no engine, or the image cannot be had.
    """
    job = load_job(request.job, sagemaker_client)
    plan = job_spec(job)
    workspace = Workspace(request.workspace).ensure()
    staging = _staging_folder(workspace, _job_name(job))
    code = stage_code(plan, request.code, staging, S3Cache(workspace.root / S3_CACHE_DIR))
    with engine_or_connect(engine) as connected:
        return _replay(job, plan, request, code, staging, connected)


def _replay(
    job: JobDescription,
    plan: JobSpec,
    request: ReplayRequest,
    code: StagedCode,
    staging: Path,
    engine: Engine,
) -> TestResult:
    image, image_findings = local_image(plan.spec["image"], engine)
    spec_file = _write_spec(plan, request, code.script, image, staging, source=request.job)
    result = run_script(
        RunRequest(
            script=str(code.script),
            source_dir=code.source_dir,
            scripts_dir=staging,
            spec_path=spec_file,
            overrides=Overrides(environment=plan.environment),
            inputs=dict(request.inputs),
            data_size=request.data_size,
            workspace=request.workspace,
            on_progress=request.on_progress,
        ),
        engine,
    )
    findings = [*image_findings, *plan.findings, compare_verdicts(job, result)]
    return save_result(result.model_copy(update={"findings": [*result.findings, *findings]}))


def _job_name(job: JobDescription) -> str:
    return job.ProcessingJobName if isinstance(job, ProcessingJob) else job.TrainingJobName


def _staging_folder(workspace: Workspace, job_name: str) -> Path:
    """``<workspace>/replay/<job>``, emptied: the staged code and the spec of the run."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", job_name)[:100] or "job"
    folder = workspace.root / _REPLAY_DIR / safe
    if folder.exists():
        shutil.rmtree(folder)
    make_private_folder(folder)
    return folder


def local_image(image_uri: str, engine: Engine) -> tuple[str, list[str]]:
    """The job's image when the engine has it, else the local profile of its framework."""
    profile = framework_profile(image_uri)
    if profile is None or engine.image(image_uri) is not None:
        return image_uri, []
    return profile, [
        f"image {image_uri}: not pulled (no registry here); ran the local profile "
        f"{profile}, which has that container's framework versions"
    ]


def _write_spec(
    plan: JobSpec,
    request: ReplayRequest,
    script: Path,
    image: str,
    staging: Path,
    *,
    source: str,
) -> Path:
    """The run's spec file: the job's fields, its S3 inputs unless overridden."""
    inputs = {
        name: {**channel, **_s3_fields(plan, name, request)}
        for name, channel in plan.spec["inputs"].items()
    }
    fields = {**plan.spec, "script": script.name, "image": image, "inputs": inputs}
    return write_spec_file(fields, staging / "spec.yaml", source)


def write_spec_file(fields: dict[str, Any], path: Path, source: str) -> Path:
    """Validate ``fields`` as a :class:`ScriptSpec` and write them as a spec file.

    Raises:
        SpecError: a field the spec refuses; the message names ``source`` and the field.
    """
    try:
        spec = ScriptSpec.model_validate(fields)
    except ValidationError as exc:
        raise SpecError(source, describe_validation_error(exc)) from exc
    payload = spec.model_dump(mode="json", exclude_none=True)
    path.write_text(yaml.safe_dump(payload, sort_keys=False), encoding="utf-8")
    return path


def _s3_fields(plan: JobSpec, channel: str, request: ReplayRequest) -> dict[str, str]:
    uri = plan.input_uris.get(channel)
    if uri is None or request.synthetic or channel in request.inputs:
        return {}
    return {"s3_uri": uri}


# code -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StagedCode:
    """The job's code, ready to run: the entry script and, when the job's code holds
    more than that script (a ``source_dir``), the whole tree around it."""

    script: Path
    source_dir: Path | None = None


def stage_code(plan: JobSpec, local: Path | None, staging: Path, cache: S3Cache) -> StagedCode:
    """The entry script under the name production runs, in ``staging``.

    Raises:
        UsageError: no code to run: the job names none and no ``--code`` was given, or
            its code in S3 does not hold the entry script.
        S3SourceError: the code cannot be read from S3.
    """
    if local is not None:
        if not local.is_file():
            raise UsageError(f"--code {local}: not a file")
        source = local
    elif plan.code_uri is None:
        raise UsageError("the job names no code in S3; give the entry script with --code PATH")
    else:
        tree = _fetch_code(plan.code_uri, staging / "source", cache)
        source = _entry_script(tree, plan.script_name, plan.code_uri)
        if sum(1 for path in tree.rglob("*") if path.is_file()) > 1:
            return StagedCode(source, tree)
    target = staging / (plan.script_name or source.name)
    shutil.copyfile(source, target)
    return StagedCode(target)


def _fetch_code(uri: str, tree: Path, cache: S3Cache) -> Path:
    """The code's files in ``tree``: a script, a prefix's objects, or an unpacked archive."""
    try:
        folder = cache.fetch(S3Source(uri)).folder
    except S3SourceError as exc:
        raise S3SourceError(
            uri, f"{exc.problem} (the job's code: --code gives it instead)"
        ) from exc
    if uri.endswith(".tar.gz"):
        return _unpack(folder / uri.rsplit("/", 1)[-1], tree)
    shutil.copytree(folder, tree)  # the cache stays as it was, whatever the run does
    return tree


def _entry_script(tree: Path, script_name: str | None, uri: str) -> Path:
    if script_name is not None and (tree / script_name).is_file():
        return tree / script_name
    scripts = sorted(tree.glob("*.py"))
    if script_name is None and len(scripts) == 1:
        return scripts[0]
    wanted = script_name or "one .py entry script"
    raise UsageError(f"code {uri}: holds no {wanted}; give the entry script with --code PATH")


def _unpack(archive: Path, target: Path) -> Path:
    """Unpack a ``sourcedir.tar.gz`` safely (no links out, no absolute paths)."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(target, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise UsageError(f"code archive {archive.name}: cannot unpack it ({exc})") from exc
    return target


# verdicts ---------------------------------------------------------------------------


def compare_verdicts(job: JobDescription, result: TestResult) -> str:
    """One finding line: production's status and FailureReason beside the local verdict,
    and whether they agree (same exit code, same exception type)."""
    status = job.ProcessingJobStatus if isinstance(job, ProcessingJob) else job.TrainingJobStatus
    local = f"locally {result.status.value}"
    if status == "Completed":
        agree = "they agree" if result.status is Status.PASS else "they DISAGREE"
        return f"production verdict: Completed; {local}: {agree}"
    if status == "Stopped" and getattr(job, "SecondaryStatus", None) == _OVER_TIME:
        agree = "they agree" if result.status is Status.TIMEOUT else "they DISAGREE"
        return f"production verdict: Stopped ({_OVER_TIME}); {local}: {agree}"
    if status != "Failed":
        return f"production verdict: {status}; {local}: nothing to compare"
    reason = job.FailureReason or ""
    production_text = "\n".join(filter(None, [reason, getattr(job, "ExitMessage", None)]))
    shown = f"Failed ({_one_line(reason) or 'no FailureReason'})"
    if result.status is Status.PASS:
        return f"production verdict: {shown}; {local}: they DISAGREE"
    return f"production verdict: {shown}; {local}: {_agreement(production_text, result)}"


def _agreement(production_text: str, result: TestResult) -> str:
    local_text = "\n".join(
        filter(None, [result.error_message, result.exit_message, *result.stderr_tail])
    )
    production_code, production_type = _exit_code(production_text), _exception(production_text)
    local_type = _exception(local_text)
    same: list[str] = []
    different: list[str] = []
    if production_code is not None and result.exit_code is not None:
        entry = f"exit code {production_code} vs {result.exit_code}"
        (same if production_code == result.exit_code else different).append(entry)
    if production_type is not None and local_type is not None:
        entry = f"{production_type} vs {local_type}"
        (same if production_type == local_type else different).append(entry)
    if different:
        return f"they DISAGREE ({', '.join(different)})"
    if same:
        return f"they agree ({', '.join(same)})"
    local = f"exit code {result.exit_code}" + (f", {local_type}" if local_type else "")
    return f"cannot tell (production names no exit code or exception type; locally {local})"


def _one_line(text: str, limit: int = 300) -> str:
    """The reason on one line: SageMaker's spans several."""
    line = " ".join(text.split())
    return line if len(line) <= limit else f"{line[: limit - 3]}..."


def _exit_code(text: str) -> int | None:
    match = _EXIT_CODE.search(text)
    return int(match.group(1)) if match else None


def _exception(text: str) -> str | None:
    """The last exception type named in ``text`` (a traceback names the raised one last)."""
    names = [name for name in _EXCEPTION.findall(text) if name not in _PLATFORM_WORDS]
    return names[-1] if names else None
