"""Pipeline files (sandbox.pipeline.spec) and plans (sandbox.pipeline.plan): every problem
is one line naming the pipeline file, found before any container starts."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.errors import SpecError
from sandbox.pipeline.plan import critical_path, plan_pipeline, topological_order
from sandbox.pipeline.spec import parse_endpoint, pipeline_json_schema

STEP_SCRIPT = """\
import pandas as pd

INPUT_PATH = "/opt/ml/processing/input/data"
OUTPUT_PATH = "/opt/ml/processing/output/data"

if __name__ == "__main__":
    pd.read_csv(INPUT_PATH + "/part.csv").to_csv(OUTPUT_PATH + "/part.csv")
"""


def _pipeline(tmp_path: Path, steps: list[str], edges: list[tuple[str, str]], **extra: Any) -> Path:
    (tmp_path / "step.py").write_text(STEP_SCRIPT, encoding="utf-8")
    document = {
        "steps": [{"name": name, "script": "step.py"} for name in steps],
        "edges": [{"from": source, "to": target} for source, target in edges],
        **extra,
    }
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _problem(path: Path) -> str:
    with pytest.raises(SpecError) as caught:
        plan_pipeline(path, path.parent / "scripts")
    assert caught.value.source == str(path)
    assert "\n" not in str(caught.value)
    return caught.value.problem


def test_a_valid_pipeline_is_ordered_with_channels_from_zero_config_steps(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, ["c", "b", "a"], [("a.data/train", "b.data"), ("b.data", "c.data")])
    plan = plan_pipeline(path, tmp_path)
    assert plan.order == ["a", "b", "c"]
    assert plan.name == "pipeline"
    assert plan.steps["a"].input_channels == ["data"]
    assert plan.steps["a"].output_channels == ["data"]
    assert plan.edges[0].source.sub_path == "train"
    assert plan.descendants("a") == {"b", "c"}


def test_unknown_field_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, ["a"], [], stpes=[])
    assert _problem(path) == "field 'stpes': unknown field (check the spelling)"


def test_unknown_step_in_an_edge(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, ["a", "b"], [("a.data", "nope.data")])
    assert _problem(path) == "edge a.data -> nope.data: unknown step 'nope' (steps: a, b)"


def test_unknown_output_channel(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, ["a", "b"], [("a.model", "b.data")])
    assert _problem(path) == (
        "edge a.model -> b.data: step a has no output channel 'model' (outputs: data)"
    )


def test_unknown_input_channel(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, ["a", "b"], [("a.data", "b.train")])
    assert _problem(path) == (
        "edge a.data -> b.train: step b has no input channel 'train' (inputs: data)"
    )


def test_an_input_fed_twice(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, ["a", "b", "c"], [("a.data", "c.data"), ("b.data/x", "c.data")])
    assert _problem(path) == "input c.data is fed twice (by a.data and b.data/x)"


def test_a_cycle_is_reported_in_the_direction_data_flows(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, ["a", "b"], [("a.data", "b.data"), ("b.data", "a.data")])
    assert _problem(path) in {"cycle: a -> b -> a", "cycle: b -> a -> b"}


def test_a_three_step_cycle_names_each_step_once(tmp_path: Path) -> None:
    edges = [("a.data", "b.data"), ("b.data", "c.data"), ("c.data", "a.data")]
    problem = _problem(_pipeline(tmp_path, ["a", "b", "c"], edges))
    steps = problem.removeprefix("cycle: ").split(" -> ")
    assert steps[0] == steps[-1] and sorted(steps[:-1]) == ["a", "b", "c"]
    flows = {("a", "b"), ("b", "c"), ("c", "a")}
    assert all(pair in flows for pair in itertools.pairwise(steps))


def test_duplicate_step_names(tmp_path: Path) -> None:
    problem = _problem(_pipeline(tmp_path, ["a", "a"], []))
    assert "step name 'a' appears twice" in problem


def test_a_missing_script_names_the_step(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, ["a"], [])
    document = yaml.safe_load(path.read_text())
    document["steps"][0]["script"] = "missing_script"
    path.write_text(yaml.safe_dump(document))
    assert _problem(path).startswith("step a: script 'missing_script' not found")


def test_a_training_step_offers_the_platform_outputs(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        'import os\nMODEL = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")\n'
        'TRAIN = "/opt/ml/input/data/train"\n',
        encoding="utf-8",
    )
    path = _pipeline(tmp_path, ["a"], [("t.output_data", "a.data")])
    document = yaml.safe_load(path.read_text())
    document["steps"].append({"name": "t", "script": "train.py"})
    path.write_text(yaml.safe_dump(document))
    plan = plan_pipeline(path, tmp_path)
    assert {"model", "output_data", "checkpoints"} <= set(plan.steps["t"].output_channels)


@pytest.mark.parametrize(
    ("text", "allow_sub", "expected"),
    [
        ("pre.data_output/train", True, ("pre", "data_output", "train")),
        ("pre.data.v2", True, ("pre", "data.v2", "")),
        ("train.train", False, ("train", "train", "")),
    ],
)
def test_endpoints_parse(text: str, allow_sub: bool, expected: tuple[str, str, str]) -> None:
    end = parse_endpoint(text, allow_sub_path=allow_sub)
    assert (end.step, end.channel, end.sub_path) == expected


@pytest.mark.parametrize(
    ("text", "allow_sub"), [("nodot", True), ("a.b/../c", True), ("a.b/sub", False)]
)
def test_bad_endpoints_are_refused(text: str, allow_sub: bool) -> None:
    with pytest.raises(ValueError):
        parse_endpoint(text, allow_sub_path=allow_sub)


def test_an_input_endpoint_takes_no_sub_folder(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, ["a", "b"], [("a.data", "b.data/train")])
    assert "an input channel takes no sub-folder" in _problem(path)


def test_topological_order_puts_every_step_after_its_feeders() -> None:
    graph = {"d": {"b", "c"}, "b": {"a"}, "c": {"a"}, "a": set(), "e": set()}
    order = topological_order(graph, source="p.yaml")
    for step, feeders in graph.items():
        assert all(order.index(feeder) < order.index(step) for feeder in feeders)


def test_critical_path_is_the_longest_chain_by_time() -> None:
    graph = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}, "lone": set()}
    durations = {"a": 1.0, "b": 5.0, "c": 2.0, "d": 1.5, "lone": 6.0}
    assert critical_path(graph, durations) == (7.5, ["a", "b", "d"])
    assert critical_path(graph, {**durations, "lone": 9.0}) == (9.0, ["lone"])
    assert critical_path({}, {}) == (0.0, [])


def test_pipeline_schema_is_json_with_the_edge_fields() -> None:
    schema = json.loads(pipeline_json_schema())
    assert schema["$id"].endswith("pipeline-spec-v1.json")
    edge = schema["$defs"]["EdgeSpec"]
    assert set(edge["required"]) == {"from", "to"}
    assert edge["additionalProperties"] is False


def _with_inputs(path: Path, inputs: dict[str, str], step: int = 0) -> Path:
    document = yaml.safe_load(path.read_text())
    for each in document["steps"]:
        each.pop("inputs", None)
    document["steps"][step]["inputs"] = inputs
    path.write_text(yaml.safe_dump(document))
    return path


def test_real_inputs_are_checked_against_channels_and_edges(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    path = _pipeline(tmp_path, ["a", "b"], [("a.data", "b.data")])
    plan = plan_pipeline(_with_inputs(path, {"data": "real"}), tmp_path)
    assert plan.steps["a"].real_inputs == {"data": (tmp_path / "real").resolve()}
    assert _problem(_with_inputs(path, {"train": "real"})) == (
        "step a: inputs.train: no such input channel (inputs: data)"
    )
    assert _problem(_with_inputs(path, {"data": "real"}, step=1)) == (
        "step b: inputs.data: the channel is fed by an edge too"
    )
    assert _problem(_with_inputs(path, {"data": "missing"})).endswith("missing is not a folder")
    bad_uri = _problem(_with_inputs(path, {"data": "s3://my bucket/data"}))
    assert "steps.0.inputs" in bad_uri and "data: invalid S3 bucket name 'my bucket'" in bad_uri


def test_the_downstream_expectation_is_known_at_load(tmp_path: Path) -> None:
    spec = {
        "script": "step.py",
        "inputs": {
            "data": {
                "path": "/opt/ml/processing/input/data",
                "data": {"format": "parquet", "label": "${LABEL_FIELD}"},
            }
        },
        "outputs": {"data": {"path": "/opt/ml/processing/output/data"}},
    }
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    path = _pipeline(tmp_path, ["a", "b"], [("a.data", "b.data")])
    document = yaml.safe_load(path.read_text())
    document["steps"][1]["spec"] = "b.yaml"
    path.write_text(yaml.safe_dump(document))
    problem = _problem(path)
    assert problem.startswith("edge a.data -> b.data: placeholder ${LABEL_FIELD} in")
    document["steps"][1]["environment"] = {"LABEL_FIELD": "y"}
    path.write_text(yaml.safe_dump(document))
    expectation = plan_pipeline(path, tmp_path).edges[0].expectation
    assert (expectation.suffixes, expectation.columns) == ((".parquet",), ("y",))
