"""gen-data (sandbox.data.export and its command): folders that --data-source gives back,
the same bytes test-script would generate, refusal of a non-empty folder."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from sandbox.cli import cli
from sandbox.cli.progressbar import DelayedProgress
from sandbox.container.engine import DockerEngine
from sandbox.contract.inference import infer_contract
from sandbox.contract.resolve import Overrides, resolve_script
from sandbox.contract.spec import ScriptSpec, parse_spec
from sandbox.data.datagen import DataSize, materialize
from sandbox.data.export import GenDataRequest, channel_folders, gen_data
from sandbox.data.inputs import bind_inputs, dataset_for_channel
from sandbox.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
TABULAR = dict(arguments={"job_type": "training"}, environment={"LABEL_FIELD": "label"})


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """gen-data runs nothing: asking for a Docker engine is a bug."""

    def refuse(cls: type[DockerEngine]) -> DockerEngine:
        raise AssertionError("DockerEngine.connect() was called")

    monkeypatch.setattr(DockerEngine, "connect", classmethod(refuse))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def spec_with_inputs(inputs: dict[str, str]) -> ScriptSpec:
    raw = {"script": "s.py", "inputs": {name: {"path": path} for name, path in inputs.items()}}
    return parse_spec(raw, source="test")


# folder names -----------------------------------------------------------------------


def test_a_channel_folder_is_its_container_path_last_component() -> None:
    spec = spec_with_inputs(
        {"data_input": "/opt/ml/processing/input/data", "config": "/opt/ml/processing/input/config"}
    )
    assert channel_folders(spec) == {"data_input": "data", "config": "config"}


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        # two channels ending in the same folder
        (
            {"a": "/opt/ml/processing/input/x/data", "b": "/opt/ml/processing/input/y/data"},
            {"a": "a", "b": "b"},
        ),
        # a folder named like another channel, which bind_inputs would match first
        (
            {"raw": "/opt/ml/processing/input/data", "data": "/opt/ml/processing/input/other"},
            {"raw": "raw", "data": "other"},
        ),
        # both at once
        (
            {"x": "/opt/ml/processing/input/data", "data": "/opt/ml/processing/input/sub/data"},
            {"x": "x", "data": "data"},
        ),
    ],
)
def test_ambiguous_folder_names_fall_back_to_logical_names_that_round_trip(
    inputs: dict[str, str], expected: dict[str, str], tmp_path: Path
) -> None:
    spec = spec_with_inputs(inputs)
    folders = channel_folders(spec)
    assert folders == expected
    for name, folder in folders.items():
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"{name}.csv").write_text(name)
    plan = bind_inputs(
        spec,
        infer_contract(""),
        data_source=tmp_path,
        explicit={},
        cache_root=tmp_path / "cache",
        size=DataSize.SMALL,
    )
    for binding in plan.bindings:
        assert (binding.host_path / f"{binding.channel}.csv").is_file(), binding


# writing ----------------------------------------------------------------------------


def test_gen_data_writes_what_test_script_would_mount_and_bind_inputs_takes_it_back(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    report = gen_data(
        GenDataRequest(script="tabular_preprocessing", out_dir=out, overrides=Overrides(**TABULAR))
    )

    [channel] = report.channels
    assert (channel.channel, channel.folder, channel.rows) == ("data_input", "data", 1000)
    assert sorted(files_of(out / "data")) == list(channel.files)
    assert channel.size_bytes == sum(len(body) for body in files_of(out / "data").values())
    assert b"label" in (out / "data" / channel.files[0]).read_bytes().splitlines()[0]

    resolved = resolve_script(
        REPO / "examples/scripts/tabular_preprocessing.py", None, Overrides(**TABULAR)
    )
    spec = resolved.spec
    dataset = dataset_for_channel("data_input", spec.inputs["data_input"], spec, resolved.contract)
    cached = materialize(dataset, tmp_path / "cache", size=DataSize.SMALL)
    assert files_of(cached) == files_of(out / "data")

    plan = bind_inputs(
        spec,
        resolved.contract,
        data_source=out,
        explicit={},
        cache_root=tmp_path / "unused-cache",
        size=DataSize.SMALL,
    )
    assert plan.bindings[0].source == f"from {(out / 'data').resolve()}"
    assert not (tmp_path / "unused-cache").exists()


def test_an_existing_empty_folder_is_filled_and_no_staging_folder_is_left(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    gen_data(
        GenDataRequest(script="tabular_preprocessing", out_dir=out, overrides=Overrides(**TABULAR))
    )
    assert [path.name for path in tmp_path.iterdir()] == ["out"]
    assert (out / "data").is_dir()


def test_a_non_empty_folder_is_refused_and_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        gen_data(
            GenDataRequest(
                script="tabular_preprocessing", out_dir=out, overrides=Overrides(**TABULAR)
            )
        )
    assert files_of(out) == {"keep.txt": b"mine"}


def test_progress_is_reported_per_channel_in_rows(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    gen_data(
        GenDataRequest(
            script="tabular_preprocessing",
            out_dir=tmp_path / "out",
            overrides=Overrides(**TABULAR),
            progress=lambda *call: calls.append(call),
        )
    )
    assert calls and calls[-1] == ("data_input", 1000, 1000)


def test_a_training_script_gets_one_folder_per_channel(tmp_path: Path) -> None:
    report = gen_data(
        GenDataRequest(
            script="xgboost_training",
            out_dir=tmp_path / "out",
            spec_path=REPO / "examples/specs/xgboost_training.yaml",
        )
    )
    assert {ch.folder: ch.rows for ch in report.channels} == {"train": 1000, "val": 300}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["train", "val"]


# the command ------------------------------------------------------------------------


def test_the_command_prints_each_channel_and_refuses_a_non_empty_folder_with_exit_2(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    args = ["gen-data", "tabular_preprocessing", "--out", str(out)]
    args += ["--arg", "job_type=training", "--env", "LABEL_FIELD=label"]

    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "data_input" in first.stdout and "1,000" in first.stdout
    assert f"--data-source {out}" in first.stdout

    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 2
    assert "not empty" in second.stderr


def test_the_command_json_is_one_document(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "gen-data",
            "tabular_preprocessing",
            "--out",
            str(tmp_path / "out"),
            "--arg",
            "job_type=training",
            "--env",
            "LABEL_FIELD=label",
            "--output-format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["channels"][0]["folder"] == "data"
    assert payload["channels"][0]["rows"] == 1000


def test_the_command_needs_what_test_script_needs(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["gen-data", "tabular_preprocessing", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "job_type" in result.stderr or "LABEL_FIELD" in result.stderr
    assert not (tmp_path / "out").exists()


# the progress bar -------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_bars_appear_only_after_the_delay() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=80)
    with DelayedProgress(console, delay_s=1.0, clock=clock) as bars:
        bars.update("data_input", 10, 100)
        clock.now += 0.5
        bars.update("data_input", 50, 100)
        assert not bars.shown
        clock.now += 0.6
        bars.update("data_input", 60, 100)
        assert bars.shown
    assert "data_input" in stream.getvalue()


def test_quick_work_draws_nothing() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=80)
    with DelayedProgress(console, delay_s=1.0, clock=FakeClock()) as bars:
        bars.update("data_input", 100, 100)
    assert not bars.shown and stream.getvalue() == ""
