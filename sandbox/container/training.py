"""The production layout of a Training job (script mode), and its artifacts.

Channels sit read-only at ``/opt/ml/input/data/<channel>``; the platform writes
``hyperparameters.json`` (every value a string), ``resourceconfig.json`` and
``inputdataconfig.json`` under ``/opt/ml/input/config``; ``/opt/ml/model``,
``/opt/ml/output/data`` and ``/opt/ml/checkpoints`` are writable; the training toolkit
runs ``python script.py --hp value ...`` from ``/opt/ml/code`` with the ``SM_*``
environment. After a passing job the model and output data are packed as
``model.tar.gz`` and ``output.tar.gz``.
"""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path
from typing import Any

from sandbox.constants import (
    INPUT_CONFIG_DIR,
    ML_OUTPUT_DIR,
    MODEL_DIR,
    OUTPUT_DATA_DIR,
    TRAINING_CODE_DIR,
    TRAINING_DATA_DIR,
    TRAINING_INPUT_DIR,
    TRAINING_OUTPUT_PATHS,
)
from sandbox.container.hyperparameters import (
    decode_hyperparameters,
    stringify_hyperparameters,
    toolkit_arguments,
)
from sandbox.container.layout import InputBinding, JobLayout, argument_list, code_mount, entry_point
from sandbox.container.seam import Mount
from sandbox.contract.spec import ScriptSpec
from sandbox.results.models import Artifact
from sandbox.results.workspace import RunFolder

__all__ = [
    "TRAINING_CODE_DIR",
    "TRAINING_OUTPUTS",
    "pack_artifacts",
    "training_layout",
    "training_output_paths",
]

INPUT_DATA_DIR = TRAINING_DATA_DIR
TRAINING_OUTPUTS = TRAINING_OUTPUT_PATHS
_HOST = "algo-1"
_ARCHIVES = {MODEL_DIR: "model.tar.gz", OUTPUT_DATA_DIR: "output.tar.gz"}


def _env_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def training_output_paths(spec: ScriptSpec) -> dict[str, str]:
    """Output name -> container path: the spec's names, then the platform's writable
    folders that no spec output names (they exist in every Training job)."""
    paths = {name: channel.path for name, channel in spec.outputs.items()}
    for name, path in TRAINING_OUTPUTS.items():
        if path not in paths.values():
            paths[name if name not in paths else f"{name}_dir"] = path
    return paths


def training_layout(
    spec: ScriptSpec,
    script_path: Path,
    inputs: list[InputBinding],
    run: RunFolder,
    *,
    num_cpus: int,
    source_dir: Path | None = None,
    run_as_module: bool = False,
    image_entrypoint: list[str] | None = None,
    multi_valued: frozenset[str] = frozenset(),
) -> JobLayout:
    """Lay a Training job out as the platform and its training toolkit do."""
    hyperparameters = stringify_hyperparameters(spec.hyperparameters)
    decoded = decode_hyperparameters(hyperparameters)
    start = entry_point(
        spec,
        TRAINING_CODE_DIR,
        script_path,
        source_dir,
        run_as_module,
        [*toolkit_arguments(decoded), *argument_list(spec.arguments, multi_valued)],
        image_entrypoint=image_entrypoint,
    )
    channels = {b.container_path.rsplit("/", 1)[-1]: b.container_path for b in inputs}
    output_paths = training_output_paths(spec)
    outputs = {name: run.outputs / name for name in output_paths}
    mounts = [
        code_mount(TRAINING_CODE_DIR, script_path, source_dir),
        *(Mount(b.host_path, b.container_path, read_only=True) for b in inputs),
        Mount(run.config, INPUT_CONFIG_DIR, read_only=True),
        Mount(run.ml_output, ML_OUTPUT_DIR, read_only=False),
        *(Mount(outputs[name], path, read_only=False) for name, path in output_paths.items()),
    ]
    environment = {
        **_sm_environment(channels, decoded, start.arguments, num_cpus, script_path),
        **spec.environment,
    }
    return JobLayout(
        entrypoint=start.entrypoint,
        arguments=start.arguments,
        environment=environment,
        mounts=mounts,
        outputs=outputs,
        output_paths=output_paths,
        input_paths={b.channel: b.container_path for b in inputs},
        config_files=_config_files(channels, hyperparameters),
        code_dir=TRAINING_CODE_DIR,
        script_target=start.script_target,
        working_dir=TRAINING_CODE_DIR,
    )


def _config_files(channels: dict[str, str], hyperparameters: dict[str, str]) -> dict[str, Any]:
    return {
        "hyperparameters.json": hyperparameters,
        "resourceconfig.json": {
            "current_host": _HOST,
            "hosts": [_HOST],
            "network_interface_name": "eth0",
        },
        "inputdataconfig.json": {
            name: {
                "ContentType": "text/csv",
                "TrainingInputMode": "File",
                "S3DistributionType": "FullyReplicated",
                "RecordWrapperType": "None",
            }
            for name in channels
        },
    }


def _sm_environment(
    channels: dict[str, str],
    hyperparameters: dict[str, Any],
    arguments: list[str],
    num_cpus: int,
    script_path: Path,
) -> dict[str, str]:
    environment = {
        "SM_MODEL_DIR": TRAINING_OUTPUTS["model"],
        "SM_OUTPUT_DATA_DIR": TRAINING_OUTPUTS["output_data"],
        "SM_OUTPUT_DIR": ML_OUTPUT_DIR,
        "SM_INPUT_DIR": TRAINING_INPUT_DIR,
        "SM_INPUT_CONFIG_DIR": INPUT_CONFIG_DIR,
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(hyperparameters),
        "SM_CURRENT_HOST": _HOST,
        "SM_HOSTS": json.dumps([_HOST]),
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_NUM_CPUS": str(num_cpus),
        "SM_NUM_GPUS": "0",
        "SM_LOG_LEVEL": "20",
        "SM_MODULE_NAME": script_path.stem,
        "SM_USER_ENTRY_POINT": script_path.name,
        "SM_USER_ARGS": json.dumps(arguments),
    }
    environment.update({f"SM_CHANNEL_{name.upper()}": path for name, path in channels.items()})
    environment.update(
        {f"SM_HP_{name.upper()}": _env_value(value) for name, value in hyperparameters.items()}
    )
    environment["SM_TRAINING_ENV"] = json.dumps(
        {
            "channel_input_dirs": channels,
            "hyperparameters": hyperparameters,
            "current_host": _HOST,
            "hosts": [_HOST],
            "model_dir": TRAINING_OUTPUTS["model"],
            "output_data_dir": TRAINING_OUTPUTS["output_data"],
            "num_cpus": num_cpus,
            "num_gpus": 0,
            "module_name": script_path.stem,
            "user_entry_point": script_path.name,
        }
    )
    return environment


def pack_artifacts(layout: JobLayout, run_root: Path) -> list[Artifact]:
    """Pack ``/opt/ml/model`` and ``/opt/ml/output/data`` as the platform does."""
    folders = {path: layout.outputs[name] for name, path in layout.output_paths.items()}
    return [
        _pack(folders[path], run_root / archive_name)
        for path, archive_name in _ARCHIVES.items()
        if path in folders and folders[path].is_dir()
    ]


def _pack(folder: Path, archive: Path) -> Artifact:
    """Write ``archive`` atomically (a temporary file renamed into place)."""
    partial = archive.with_name(f".{archive.name}.partial")
    try:
        with tarfile.open(partial, "w:gz") as tar:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=path.relative_to(folder).as_posix())
        with tarfile.open(partial, "r:gz") as tar:
            members = tar.getnames()
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)
    return Artifact(
        name=archive.name, path=str(archive), size_bytes=archive.stat().st_size, members=members
    )
