"""The Processing layout (sandbox.container.layout): mounts, config files, entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.constants import CODE_PATH, CONFIG_DIR
from sandbox.container.layout import (
    InputBinding,
    JobLayout,
    argument_list,
    nested_mountpoints,
    processing_layout,
)
from sandbox.container.seam import Mount
from sandbox.contract.spec import ChannelSpec, ScriptSpec
from sandbox.results.workspace import RunFolder

IN_DATA = "/opt/ml/processing/input/data"
IN_CONFIG = "/opt/ml/processing/input/config"
OUT_TRAIN = "/opt/ml/processing/output/train"
IMAGE = "sandbox/sklearn-1.2:abc123"
JOB = "sandbox-job-1"


@pytest.fixture
def run(tmp_path: Path) -> RunFolder:
    return RunFolder(run_id="r1", root=tmp_path / "runs" / "r1").create()


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "tabular.py"
    path.parent.mkdir()
    path.write_text("print('hi')\n", encoding="utf-8")
    return path


@pytest.fixture
def bindings(tmp_path: Path) -> list[InputBinding]:
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "cfg"
    config.mkdir()
    return [
        InputBinding("data", IN_DATA, data, "synthetic"),
        InputBinding("config", IN_CONFIG, config, str(config)),
    ]


def _spec(**fields: Any) -> ScriptSpec:
    return ScriptSpec(
        script="tabular.py",
        inputs={"data": ChannelSpec(path=IN_DATA), "config": ChannelSpec(path=IN_CONFIG)},
        outputs={"train": ChannelSpec(path=OUT_TRAIN)},
        **fields,
    )


def _layout(
    spec: ScriptSpec,
    script: Path,
    bindings: list[InputBinding],
    run: RunFolder,
    source_dir: Path | None = None,
    run_as_module: bool = False,
) -> JobLayout:
    return processing_layout(
        spec,
        script,
        bindings,
        run,
        image=IMAGE,
        job_name=JOB,
        source_dir=source_dir,
        run_as_module=run_as_module,
    )


def _mount_at(layout: JobLayout, container_path: str) -> Mount:
    found = [m for m in layout.mounts if m.container_path == container_path]
    assert len(found) == 1, f"{container_path}: {found}"
    return found[0]


# argument_list --------------------------------------------------------------------


def test_argument_list_prefixes_names_and_keeps_order() -> None:
    arguments = {"job_type": "training", "label": "y"}
    assert argument_list(arguments) == ["--job_type", "training", "--label", "y"]


def test_argument_list_empty_value_is_a_flag_and_dashes_are_kept() -> None:
    assert argument_list({"verbose": "", "-k": "3"}) == ["--verbose", "-k", "3"]
    assert argument_list({}) == []


# Mounts ---------------------------------------------------------------------------


def test_script_file_alone_is_mounted_read_only_as_code(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    layout = _layout(_spec(), script, bindings, run)
    code = _mount_at(layout, f"{CODE_PATH}/tabular.py")
    assert code.host_path == script.resolve()
    assert code.read_only
    assert not any(m.container_path == CODE_PATH for m in layout.mounts)
    assert layout.entrypoint == ["python3", f"{CODE_PATH}/tabular.py"]


def test_inputs_read_only_outputs_writable(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    layout = _layout(_spec(), script, bindings, run)
    for binding in bindings:
        mount = _mount_at(layout, binding.container_path)
        assert mount.host_path == binding.host_path
        assert mount.read_only
    output = _mount_at(layout, OUT_TRAIN)
    assert not output.read_only
    assert output.host_path == run.outputs / "train"
    assert layout.outputs == {"train": run.outputs / "train"}
    assert layout.output_paths == {"train": OUT_TRAIN}
    assert layout.input_paths == {"data": IN_DATA, "config": IN_CONFIG}


def test_config_read_only_and_ml_output_writable(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    layout = _layout(_spec(), script, bindings, run)
    config = _mount_at(layout, CONFIG_DIR)
    assert (config.host_path, config.read_only) == (run.config, True)
    ml_output = _mount_at(layout, "/opt/ml/output")
    assert (ml_output.host_path, ml_output.read_only) == (run.ml_output, False)


def test_arguments_and_environment_come_from_the_spec(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    spec = _spec(arguments={"job_type": "training"}, environment={"LABEL_FIELD": "y"})
    layout = _layout(spec, script, bindings, run)
    assert layout.arguments == ["--job_type", "training"]
    assert layout.environment == {"LABEL_FIELD": "y"}


def test_container_entrypoint_and_arguments_are_used_verbatim(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    spec = _spec(
        container_entrypoint=["bash", "-c", "python3 x.py"],
        container_arguments=["--a", "1"],
        arguments={"ignored": "yes"},
    )
    layout = _layout(spec, script, bindings, run)
    assert layout.entrypoint == ["bash", "-c", "python3 x.py"]
    assert layout.arguments == ["--a", "1"]


# processingjobconfig.json ---------------------------------------------------------


def _job_config(layout: JobLayout) -> dict[str, Any]:
    config: dict[str, Any] = layout.config_files["processingjobconfig.json"]
    return config


def test_job_config_inputs_include_code(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    config = _job_config(_layout(_spec(), script, bindings, run))
    inputs = {i["InputName"]: i["S3Input"]["LocalPath"] for i in config["ProcessingInputs"]}
    assert inputs == {"data": IN_DATA, "config": IN_CONFIG, "code": CODE_PATH}
    outputs = config["ProcessingOutputConfig"]["Outputs"]
    assert [(o["OutputName"], o["S3Output"]["LocalPath"]) for o in outputs] == [
        ("train", OUT_TRAIN)
    ]
    assert config["ProcessingJobName"] == JOB
    assert config["ProcessingJobArn"].endswith(f"processing-job/{JOB}")


def test_job_config_app_specification(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    spec = _spec(arguments={"job_type": "training"})
    app = _job_config(_layout(spec, script, bindings, run))["AppSpecification"]
    assert app == {
        "ImageUri": IMAGE,
        "ContainerEntrypoint": ["python3", f"{CODE_PATH}/tabular.py"],
        "ContainerArguments": ["--job_type", "training"],
    }


def test_job_config_without_arguments_has_no_container_arguments(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    app = _job_config(_layout(_spec(), script, bindings, run))["AppSpecification"]
    assert "ContainerArguments" not in app


def test_job_config_cluster_stopping_environment_network(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    spec = _spec(
        instance_type="ml.r5.large",
        max_runtime_s=600,
        environment={"LABEL_FIELD": "y"},
    )
    config = _job_config(_layout(spec, script, bindings, run))
    assert config["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.r5.large"
    assert config["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 1
    assert config["StoppingCondition"] == {"MaxRuntimeInSeconds": 600}
    assert config["Environment"] == {"LABEL_FIELD": "y"}
    assert config["NetworkConfig"] == {"EnableNetworkIsolation": True}


def test_job_config_defaults(script: Path, bindings: list[InputBinding], run: RunFolder) -> None:
    layout = _layout(_spec(network=True), script, bindings, run)
    config = _job_config(layout)
    assert config["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert config["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert config["NetworkConfig"] == {"EnableNetworkIsolation": False}
    assert layout.config_files["resourceconfig.json"] == {
        "current_host": "algo-1",
        "hosts": ["algo-1"],
    }


# --source-dir ---------------------------------------------------------------------


def test_source_dir_mounts_the_whole_tree_as_code(
    tmp_path: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    source = tmp_path / "project"
    script = source / "jobs" / "tabular.py"
    script.parent.mkdir(parents=True)
    script.write_text("print('hi')\n", encoding="utf-8")
    layout = _layout(_spec(), script, bindings, run, source_dir=source)
    code = _mount_at(layout, CODE_PATH)
    assert (code.host_path, code.read_only) == (source.resolve(), True)
    assert layout.entrypoint == ["python3", f"{CODE_PATH}/jobs/tabular.py"]
    app = _job_config(layout)["AppSpecification"]
    assert app["ContainerEntrypoint"] == ["python3", f"{CODE_PATH}/jobs/tabular.py"]
    # runproc.sh changes into the code folder: files shipped beside it read relatively.
    assert layout.working_dir == CODE_PATH


def test_source_dir_with_relative_imports_runs_as_a_module(
    tmp_path: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    source = tmp_path / "project"
    script = source / "jobs" / "tabular.py"
    script.parent.mkdir(parents=True)
    script.write_text("from .helpers import x\n", encoding="utf-8")
    layout = _layout(_spec(), script, bindings, run, source_dir=source, run_as_module=True)
    assert layout.entrypoint == ["python3", "-m", "jobs.tabular"]
    assert layout.script_target == "module:jobs.tabular"
    assert layout.working_dir == CODE_PATH
    assert _mount_at(layout, CODE_PATH).host_path == source.resolve()


def test_script_alone_has_no_working_dir(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    layout = _layout(_spec(), script, bindings, run)
    assert layout.script_target == f"{CODE_PATH}/tabular.py"
    assert layout.working_dir is None


# nested_mountpoints ---------------------------------------------------------------


def test_nested_mountpoint_inside_a_writable_mount_is_listed(tmp_path: Path) -> None:
    outer = tmp_path / "out"
    outer.mkdir()
    mounts = [
        Mount(outer, "/opt/ml/processing/output", read_only=False),
        Mount(tmp_path / "a", "/opt/ml/processing/output/train/extra", read_only=True),
        Mount(tmp_path / "b", "/opt/ml/processing/input/data", read_only=True),
    ]
    assert nested_mountpoints(mounts) == [outer / "train" / "extra"]


def test_nested_mountpoints_ignore_read_only_outer_and_missing_host_folders(
    tmp_path: Path,
) -> None:
    existing = tmp_path / "ro"
    existing.mkdir()
    mounts = [
        Mount(existing, "/opt/ml/processing/input", read_only=True),
        Mount(tmp_path / "missing", "/opt/ml/processing/output", read_only=False),
        Mount(tmp_path / "x", "/opt/ml/processing/input/data", read_only=True),
        Mount(tmp_path / "y", "/opt/ml/processing/output/train", read_only=False),
    ]
    assert nested_mountpoints(mounts) == []


def test_sibling_prefix_is_not_nesting(tmp_path: Path) -> None:
    outer = tmp_path / "out"
    outer.mkdir()
    mounts = [
        Mount(outer, "/opt/ml/processing/output", read_only=False),
        Mount(tmp_path / "z", "/opt/ml/processing/output2", read_only=True),
    ]
    assert nested_mountpoints(mounts) == []


def test_only_container_arguments_run_the_images_entrypoint(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    spec = _spec(container_arguments=["--mode", "fast"])
    layout = processing_layout(
        spec,
        script,
        bindings,
        run,
        image=IMAGE,
        job_name=JOB,
        image_entrypoint=["/usr/bin/entry", "serve"],
    )
    assert layout.entrypoint == ["/usr/bin/entry", "serve"]
    assert layout.arguments == ["--mode", "fast"]
    app = _job_config(layout)["AppSpecification"]
    assert "ContainerEntrypoint" not in app
    assert app["ContainerArguments"] == ["--mode", "fast"]


def test_container_entrypoint_replaces_the_images_entrypoint(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    spec = _spec(container_entrypoint=["bash", "run.sh"], container_arguments=["x"])
    layout = processing_layout(
        spec, script, bindings, run, image=IMAGE, job_name=JOB, image_entrypoint=["/entry"]
    )
    assert (layout.entrypoint, layout.arguments) == (["bash", "run.sh"], ["x"])
    assert _job_config(layout)["AppSpecification"]["ContainerEntrypoint"] == ["bash", "run.sh"]


def test_job_config_masks_secret_values_the_container_still_gets(
    script: Path, bindings: list[InputBinding], run: RunFolder
) -> None:
    environment = {"LABEL_FIELD": "y", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "DB_URL": "pg://x"}
    spec = _spec(environment=environment, secret_env=["DB_URL"])
    layout = _layout(spec, script, bindings, run)
    assert _job_config(layout)["Environment"] == {
        "LABEL_FIELD": "y",
        "AWS_SECRET_ACCESS_KEY": "***",
        "DB_URL": "***",
    }
    assert layout.environment == environment
