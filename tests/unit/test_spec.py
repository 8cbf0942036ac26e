"""Script specs (sandbox.contract.spec): strict, frozen models and errors that name the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sandbox.contract.spec import (
    CallStyle,
    ChannelSpec,
    ScriptSpec,
    load_spec,
    parse_spec,
    spec_json_schema,
)
from sandbox.errors import SpecError, UsageError

INPUT_PATH = "/opt/ml/processing/input/data"


def _spec(**fields: Any) -> dict[str, Any]:
    return {"script": "tabular.py", **fields}


def _problem(raw: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(raw, source="spec.yaml")
    assert caught.value.source == "spec.yaml"
    return caught.value.problem


# Unknown fields -------------------------------------------------------------------


def test_top_level_typo_is_an_error_naming_the_field() -> None:
    problem = _problem(_spec(inptus={"data": {"path": INPUT_PATH}}))
    assert "'inptus'" in problem
    assert "unknown field" in problem


def test_nested_typo_is_an_error_naming_the_dotted_field() -> None:
    # `pth` for `path`: the missing `path` is a consequence of the typo, so the message
    # must point at the field the user actually wrote.
    problem = _problem(_spec(inputs={"data": {"pth": INPUT_PATH}}))
    assert "inputs.data.pth" in problem


def test_typo_of_a_required_field_names_the_typo() -> None:
    problem = _problem({"scirpt": "tabular.py"})
    assert "scirpt" in problem


def test_spec_error_is_a_usage_error_with_exit_code_2() -> None:
    with pytest.raises(UsageError) as caught:
        parse_spec(_spec(inptus={}), source="my-spec.yaml")
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith("my-spec.yaml: ")


# Frozen ---------------------------------------------------------------------------


def test_specs_are_frozen() -> None:
    spec = ScriptSpec(script="tabular.py", inputs={"data": ChannelSpec(path=INPUT_PATH)})
    with pytest.raises(ValidationError):
        spec.image = "other"
    with pytest.raises(ValidationError):
        spec.inputs["data"].path = "/opt/ml/processing/input/x"
    assert spec.image is None
    assert spec.inputs["data"].path == INPUT_PATH


def test_defaults_are_production_like() -> None:
    spec = ScriptSpec(script="sub/tabular.py")
    assert spec.call_style is CallStyle.ENTRYPOINT
    assert spec.network is False
    assert spec.command == ["python3"]
    assert spec.script_name == "tabular"


# MaxRuntimeInSeconds --------------------------------------------------------------


def test_max_runtime_accepts_the_platform_name_and_its_own() -> None:
    assert parse_spec(_spec(MaxRuntimeInSeconds=3600), source="s").max_runtime_s == 3600
    assert parse_spec(_spec(max_runtime_s=60), source="s").max_runtime_s == 60


@pytest.mark.parametrize("seconds", [1, 777_600])
def test_max_runtime_bounds_are_inclusive(seconds: int) -> None:
    assert parse_spec(_spec(MaxRuntimeInSeconds=seconds), source="s").max_runtime_s == seconds


@pytest.mark.parametrize("seconds", [0, -5, 777_601])
def test_max_runtime_outside_the_platform_range_is_rejected(seconds: int) -> None:
    problem = _problem(_spec(MaxRuntimeInSeconds=seconds))
    assert "MaxRuntimeInSeconds" in problem or "max_runtime_s" in problem


# Environment ----------------------------------------------------------------------


def test_environment_of_100_entries_is_accepted_101_rejected() -> None:
    hundred = {f"VAR_{i}": "x" for i in range(100)}
    assert len(parse_spec(_spec(environment=hundred), source="s").environment) == 100
    problem = _problem(_spec(environment={**hundred, "ONE_MORE": "x"}))
    assert "environment" in problem
    assert "101" in problem


@pytest.mark.parametrize("name", ["1ABC", "MY-VAR", "HAS SPACE", ""])
def test_environment_names_must_be_shell_names(name: str) -> None:
    problem = _problem(_spec(environment={"GOOD": "1", name: "x"}))
    assert "environment" in problem
    assert repr(name) in problem


# ContainerEntrypoint / ContainerArguments ------------------------------------------


def test_container_entrypoint_of_100_items_is_accepted() -> None:
    spec = parse_spec(_spec(container_entrypoint=["x"] * 100), source="s")
    assert spec.container_entrypoint == ["x"] * 100


@pytest.mark.parametrize(
    "items",
    [["x"] * 101, ["python3", "y" * 257], []],
    ids=["101-items", "257-char-item", "empty"],
)
def test_container_entrypoint_limits(items: list[str]) -> None:
    problem = _problem(_spec(container_entrypoint=items))
    assert "container_entrypoint" in problem
    assert "1-100 strings" in problem


def test_container_entrypoint_item_of_256_chars_is_accepted() -> None:
    spec = parse_spec(_spec(container_entrypoint=["y" * 256]), source="s")
    assert spec.container_entrypoint == ["y" * 256]


def test_container_arguments_share_the_limits() -> None:
    assert "container_arguments" in _problem(_spec(container_arguments=["a"] * 101))


# Channels -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["opt/ml/processing/input/data", "data", "/opt/ml/processing/input/../code", "/.."],
)
def test_channel_paths_must_be_absolute_and_without_dotdot(path: str) -> None:
    problem = _problem(_spec(inputs={"data": {"path": path}}))
    assert "inputs.data.path" in problem
    assert "absolute container path" in problem


def test_channel_path_trailing_slash_is_dropped() -> None:
    channel = ChannelSpec(path="/opt/ml/processing/output/train/")
    assert channel.path == "/opt/ml/processing/output/train"
    assert channel.folder_name == "train"


def test_channel_names_are_checked() -> None:
    problem = _problem(_spec(outputs={"bad name": {"path": "/opt/ml/processing/output/x"}}))
    assert "outputs" in problem
    assert "'bad name'" in problem


# load_spec ------------------------------------------------------------------------


def test_load_spec_reads_yaml(tmp_path: Path) -> None:
    path = tmp_path / "tabular.yaml"
    path.write_text(
        f"script: tabular.py\nMaxRuntimeInSeconds: 120\ninputs:\n  data: {{path: {INPUT_PATH}}}\n",
        encoding="utf-8",
    )
    spec = load_spec(path)
    assert spec.max_runtime_s == 120
    assert spec.inputs["data"].path == INPUT_PATH


def test_load_spec_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.source == str(path)
    assert str(path) in str(caught.value)
    assert "not found" in str(caught.value)


def test_load_spec_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("script: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(path) in str(caught.value)
    assert "not valid YAML" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", ""])
def test_load_spec_non_mapping_names_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(path) in str(caught.value)
    assert "mapping" in str(caught.value)


def test_load_spec_field_error_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text("script: tabular.py\ninptus: {}\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(path) in str(caught.value)
    assert "inptus" in str(caught.value)


def test_load_spec_not_utf8_is_a_spec_error_naming_the_file(tmp_path: Path) -> None:
    # A binary or Latin-1 file must be a one-line spec error, not a UnicodeDecodeError.
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"script: caf\xe9.py\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(path) in str(caught.value)


# JSON schema ----------------------------------------------------------------------


def test_spec_json_schema_is_json_with_the_main_properties() -> None:
    schema = json.loads(spec_json_schema())
    assert {"inputs", "outputs", "image", "script"} <= set(schema["properties"])
    assert schema["$id"].endswith("script-spec-v1.json")
    assert schema.get("additionalProperties") is False
