"""The production layout of a Processing job: mounts, config files, entry point.

Everything here is plain data computed from a spec; nothing touches Docker. The runner
writes :attr:`JobLayout.config_files`, creates the output folders and hands
:attr:`JobLayout.mounts` to the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox.constants import CODE_PATH, CONFIG_DIR, DEFAULT_INSTANCE_TYPE, ML_OUTPUT_DIR
from sandbox.container.seam import Mount
from sandbox.contract.spec import ScriptSpec
from sandbox.data.s3source import S3Source
from sandbox.errors import SpecError
from sandbox.results.masking import Masker
from sandbox.results.workspace import RunFolder

__all__ = [
    "CONFIG_DIR",
    "EntryPoint",
    "InputBinding",
    "JobLayout",
    "argument_list",
    "code_mount",
    "code_target",
    "entry_point",
    "input_mounts",
    "module_call",
    "nested_mountpoints",
    "processing_job_config",
    "processing_layout",
]

_ACCOUNT = "000000000000"
_REGION = "us-east-1"


@dataclass(frozen=True)
class InputBinding:
    """Where an input channel's data comes from on the host."""

    channel: str
    container_path: str
    host_path: Path
    source: str
    s3: S3Source | None = None
    """The S3 data it was downloaded from, which the job's config files name."""


@dataclass(frozen=True)
class JobLayout:
    """What production would run and where everything sits in the container."""

    entrypoint: list[str]
    arguments: list[str]
    environment: dict[str, str]
    mounts: list[Mount]
    outputs: dict[str, Path]
    output_paths: dict[str, str]
    input_paths: dict[str, str]
    config_files: dict[str, Any] = field(default_factory=dict)
    code_dir: str = CODE_PATH
    script_target: str = ""
    """The script's container path, or ``module:pkg.script`` when it runs as a module."""
    working_dir: str | None = None
    install_first: str | None = None
    """A requirements file (container path) that pip installs before the entry point."""


@dataclass(frozen=True)
class EntryPoint:
    """What the platform starts: ContainerEntrypoint, ContainerArguments, the script."""

    entrypoint: list[str]
    arguments: list[str]
    script_target: str
    from_image: bool = False
    """Only ContainerArguments were given: the image's ENTRYPOINT runs with them."""


def entry_point(
    spec: ScriptSpec,
    code_dir: str,
    script_path: Path,
    source_dir: Path | None,
    run_as_module: bool,
    default_arguments: list[str],
    *,
    image_entrypoint: list[str] | None = None,
) -> EntryPoint:
    """What the platform starts (CONTRACT.md): the spec's ContainerEntrypoint, else the
    image's own ENTRYPOINT when only ContainerArguments are given, else
    ``command script --arg value`` as the SDK's ScriptProcessor sets it."""
    target = code_target(code_dir, script_path, source_dir)
    program = module_call(code_dir, target) if run_as_module else [target]
    arguments = spec.container_arguments
    only_arguments = spec.container_entrypoint is None and arguments is not None
    if only_arguments:
        entrypoint = list(image_entrypoint or [])
    else:
        entrypoint = list(spec.container_entrypoint or [*spec.command, *program])
    return EntryPoint(
        entrypoint=entrypoint,
        arguments=list(default_arguments if arguments is None else arguments),
        script_target=f"module:{program[1]}" if run_as_module else target,
        from_image=only_arguments,
    )


def argument_list(
    arguments: dict[str, str], multi_valued: frozenset[str] = frozenset()
) -> list[str]:
    """``{"job_type": "training"}`` -> ``["--job_type", "training"]``; an empty value is a
    flag; the value of an argument in ``multi_valued`` (``nargs``) is split on spaces."""
    listed: list[str] = []
    for name, value in arguments.items():
        listed.append(name if name.startswith("-") else f"--{name}")
        if name.lstrip("-").replace("-", "_") in multi_valued:
            listed.extend(value.split())
        elif value != "":
            listed.append(value)
    return listed


def processing_layout(
    spec: ScriptSpec,
    script_path: Path,
    inputs: list[InputBinding],
    run: RunFolder,
    *,
    image: str,
    job_name: str,
    source_dir: Path | None = None,
    run_as_module: bool = False,
    image_entrypoint: list[str] | None = None,
    multi_valued: frozenset[str] = frozenset(),
) -> JobLayout:
    """Lay a Processing job out as the platform does (CONTRACT.md, Paths).

    ``multi_valued``: the script's arguments that take several values (argparse ``nargs``).
    """
    start = entry_point(
        spec,
        CODE_PATH,
        script_path,
        source_dir,
        run_as_module,
        argument_list(spec.arguments, multi_valued),
        image_entrypoint=image_entrypoint,
    )
    outputs = {name: run.outputs / name for name in spec.outputs}
    mounts = [
        code_mount(CODE_PATH, script_path, source_dir),
        *(mount for b in inputs for mount in input_mounts(b, inputs)),
        *(Mount(outputs[name], ch.path, read_only=False) for name, ch in spec.outputs.items()),
        Mount(run.config, CONFIG_DIR, read_only=True),
        Mount(run.ml_output, ML_OUTPUT_DIR, read_only=False),
    ]
    config = {
        "processingjobconfig.json": processing_job_config(
            spec,
            inputs,
            image=image,
            job_name=job_name,
            start=start,
        ),
        "resourceconfig.json": {"current_host": "algo-1", "hosts": ["algo-1"]},
    }
    return JobLayout(
        entrypoint=start.entrypoint,
        arguments=start.arguments,
        environment=dict(spec.environment),
        mounts=mounts,
        outputs=outputs,
        output_paths={name: ch.path for name, ch in spec.outputs.items()},
        input_paths={b.channel: b.container_path for b in inputs},
        config_files=config,
        script_target=start.script_target,
        # The FrameworkProcessor's runproc.sh changes into the code folder first.
        working_dir=CODE_PATH if run_as_module or source_dir is not None else None,
    )


def input_mounts(binding: InputBinding, inputs: list[InputBinding]) -> list[Mount]:
    """The read-only mounts of an input channel.

    A channel that holds the code folder or another input channel (the input root
    ``/opt/ml/processing/input`` read as one channel) cannot be one read-only mount: the
    engine could not make the nested mountpoints inside it. Its entries are mounted one
    by one instead, so the folders nested in it stay free, and its host folder is never
    written to.

    Raises:
        SpecError: An entry of the channel's folder has the name of a folder nested in it.
    """
    root = PurePosixPath(binding.container_path)
    nested = [
        PurePosixPath(path)
        for path in (CODE_PATH, *(b.container_path for b in inputs if b is not binding))
        if root in PurePosixPath(path).parents
    ]
    if not nested:
        return [Mount(binding.host_path, binding.container_path, read_only=True)]
    taken = {path.relative_to(root).parts[0]: str(path) for path in nested}
    mounts: list[Mount] = []
    for entry in sorted(binding.host_path.iterdir()):
        if entry.name in taken:
            raise SpecError(
                str(binding.host_path),
                f"input channel {binding.channel!r}: its entry {entry.name!r} would hide "
                f"{taken[entry.name]}; rename it or give the channel a folder of its own",
            )
        mounts.append(Mount(entry, f"{root}/{entry.name}", read_only=True))
    return mounts


def nested_mountpoints(mounts: list[Mount]) -> list[Path]:
    """Host folders to create so a mount nested in a writable mount needs no root mkdir.

    Docker creates a missing mountpoint as root; inside a host folder of ours that would
    leave a root-owned folder in the workspace, so the runner creates them first.
    """
    needed: list[Path] = []
    for outer in mounts:
        if outer.read_only or not outer.host_path.is_dir():
            continue
        outer_path = PurePosixPath(outer.container_path)
        for inner in mounts:
            inner_path = PurePosixPath(inner.container_path)
            if inner is not outer and outer_path in inner_path.parents:
                needed.append(outer.host_path / inner_path.relative_to(outer_path))
    return needed


def code_target(code_dir: str, script_path: Path, source_dir: Path | None) -> str:
    """The script's container path: alone in ``code_dir``, or at its place in the tree."""
    if source_dir is None:
        return f"{code_dir}/{script_path.name}"
    relative = script_path.resolve().relative_to(source_dir.resolve()).as_posix()
    return f"{code_dir}/{relative}"


def code_mount(code_dir: str, script_path: Path, source_dir: Path | None) -> Mount:
    """The SDK uploads only the script file; ``--source-dir`` mounts the whole tree."""
    if source_dir is not None:
        return Mount(source_dir.resolve(), code_dir, read_only=True)
    return Mount(script_path.resolve(), f"{code_dir}/{script_path.name}", read_only=True)


def module_call(code_dir: str, target: str) -> list[str]:
    """``["-m", "pkg.sub.script"]``: package-relative imports need the script run as a module."""
    relative = target[len(code_dir) + 1 :]
    return ["-m", relative.removesuffix(".py").replace("/", ".")]


def _s3_uri(job_name: str, direction: str, channel: str) -> str:
    return f"s3://sandbox-local/{job_name}/{direction}/{channel}"


def processing_job_config(
    spec: ScriptSpec,
    inputs: list[InputBinding],
    *,
    image: str,
    job_name: str,
    start: EntryPoint,
    s3_uri: Callable[[str, str], str] | None = None,
) -> dict[str, Any]:
    """The job as DescribeProcessingJob shows it, and as ``processingjobconfig.json`` holds it.

    ``s3_uri(direction, channel)`` places the code (channel ``code``), the inputs that
    have no S3 data of their own and the outputs (direction ``input`` or ``output``);
    by default under a stand-in bucket named after the job.
    """
    uri = s3_uri or (lambda direction, channel: _s3_uri(job_name, direction, channel))
    channels = [(b.channel, b.container_path, _s3_input(spec, b, uri)) for b in inputs]
    channels.append(("code", CODE_PATH, S3Source(uri("input", "code"))))
    app: dict[str, Any] = {"ImageUri": image}
    if not start.from_image:
        app["ContainerEntrypoint"] = start.entrypoint
    if start.arguments:
        app["ContainerArguments"] = start.arguments
    return {
        "ProcessingJobArn": f"arn:aws:sagemaker:{_REGION}:{_ACCOUNT}:processing-job/{job_name}",
        "ProcessingJobName": job_name,
        "AppSpecification": app,
        # The real values reach the container's environment only: this file stays on disk.
        "Environment": Masker.for_spec(spec).environment(spec.environment),
        "ProcessingInputs": [_processing_input(n, p, s3) for n, p, s3 in channels],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": name,
                    "AppManaged": False,
                    "S3Output": {
                        "LocalPath": channel.path,
                        "S3Uri": uri("output", name),
                        "S3UploadMode": "EndOfJob",
                    },
                }
                for name, channel in spec.outputs.items()
            ]
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": spec.instance_type or DEFAULT_INSTANCE_TYPE,
                "VolumeSizeInGB": 30,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": spec.max_runtime_s or 86400},
        "NetworkConfig": {"EnableNetworkIsolation": not spec.network},
        "RoleArn": f"arn:aws:iam::{_ACCOUNT}:role/sandbox-local",
    }


def _s3_input(
    spec: ScriptSpec, binding: InputBinding, s3_uri: Callable[[str, str], str]
) -> S3Source:
    """The real S3 input, or a stand-in URI with the S3 types the spec states."""
    if binding.s3 is not None:
        return binding.s3
    uri = s3_uri("input", binding.channel)
    channel = spec.inputs.get(binding.channel)
    if channel is None:
        return S3Source(uri)
    return S3Source(uri, channel.s3_data_type, channel.s3_data_distribution_type)


def _processing_input(name: str, path: str, s3: S3Source) -> dict[str, Any]:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "LocalPath": path,
            "S3Uri": s3.uri,
            "S3DataType": s3.data_type.value,
            "S3InputMode": "File",
            "S3DataDistributionType": s3.distribution.value,
            "S3CompressionType": "None",
        },
    }
