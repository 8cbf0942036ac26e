"""What each channel gets, shaped after the script; real data never silently swapped
for generated data; optional channels left out; gen-data --explain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.container.engine import DockerEngine
from sandbox.contract.inference import infer_contract_from_file
from sandbox.contract.resolve import Overrides, resolve_script
from sandbox.data.datagen import DataSize
from sandbox.data.export import GenDataRequest, gen_data
from sandbox.data.inputs import bind_inputs, check_inputs
from sandbox.errors import UsageError

SCRIPT = Path(__file__).resolve().parents[1] / "integration" / "scripts" / "split_reader.py"
TRAINING = Overrides(arguments={"job_type": "training"})


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(cls: type[DockerEngine]) -> DockerEngine:
        raise AssertionError("Engine.connect() was called")

    monkeypatch.setattr(DockerEngine, "connect", classmethod(refuse))


def generated(tmp_path: Path, overrides: Overrides = TRAINING) -> Path:
    out = tmp_path / "gen"
    gen_data(GenDataRequest(script=str(SCRIPT), out_dir=out, overrides=overrides))
    return out


def test_split_folders_get_the_file_names_and_columns_the_script_reads(tmp_path: Path) -> None:
    out = generated(tmp_path)

    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == [
        "data/test/test_processed_data.csv",
        "data/train/train_processed_data.csv",
        "data/val/val_processed_data.csv",
        "settings/settings.json",
    ]
    header = (out / "data/train/train_processed_data.csv").read_text().splitlines()[0]
    assert {"customer_id", "signup_date", "purchase_amount"} <= set(header.split(","))
    settings = json.loads((out / "settings/settings.json").read_text())
    assert isinstance(settings["min_amount"], int | float)


def test_a_job_type_other_than_training_names_the_one_split(tmp_path: Path) -> None:
    out = generated(tmp_path, Overrides(arguments={"job_type": "calibration"}))
    assert [p.name for p in (out / "data").iterdir()] == ["calibration"]
    assert (out / "data/calibration/calibration_processed_data.csv").is_file()


def test_an_optional_channel_is_left_out_not_generated(tmp_path: Path) -> None:
    resolved = resolve_script(SCRIPT, None, TRAINING)
    plan = bind_inputs(
        resolved.spec,
        resolved.contract,
        data_source=None,
        explicit={},
        cache_root=tmp_path / "cache",
        size=DataSize.SMALL,
        script_path=SCRIPT,
    )
    assert [b.channel for b in plan.bindings] == ["data", "settings"]
    sources = {b.channel: b.source for b in plan.bindings}
    assert sources["data"].startswith("generated (small; columns: record_id, ")
    assert sources["settings"] == "generated (files: settings.json)"


def test_required_false_in_a_spec_is_honoured(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(
        "script: split_reader.py\narguments: {job_type: training}\ninputs:\n"
        "  data: {path: /opt/ml/processing/input/data}\n"
        "  settings: {path: /opt/ml/processing/input/settings, required: false}\n"
    )
    resolved = resolve_script(SCRIPT, spec_file, Overrides())
    plan = bind_inputs(
        resolved.spec,
        resolved.contract,
        data_source=None,
        explicit={},
        cache_root=tmp_path / "cache",
        size=DataSize.SMALL,
        script_path=SCRIPT,
    )
    assert [b.channel for b in plan.bindings] == ["data"]


def refusal(tmp_path: Path, source: Path) -> str:
    resolved = resolve_script(SCRIPT, None, TRAINING)
    contract = infer_contract_from_file(SCRIPT)
    with pytest.raises(UsageError) as caught:
        check_inputs(resolved.spec, contract, data_source=source, explicit={}, script_path=SCRIPT)
    return str(caught.value)


def test_files_at_the_top_of_a_data_source_are_refused_naming_the_channels(
    tmp_path: Path,
) -> None:
    source = tmp_path / "real"
    source.mkdir()
    for index in range(3):
        (source / f"part-{index}.csv").write_text("a,b\n1,2\n")

    message = refusal(tmp_path, source)

    assert "real/ holds 3 CSV file(s) at its top" in message
    assert "'data' (folder data/)" in message and "'settings' (folder settings/)" in message
    assert "signature" not in message  # optional: never demanded


def test_a_misnamed_folder_is_refused_with_the_closest_match(tmp_path: Path) -> None:
    source = tmp_path / "real"
    (source / "dta").mkdir(parents=True)
    (source / "settings").mkdir()

    message = refusal(tmp_path, source)

    assert "the script reads channel 'data' (folder data/)" in message
    assert "closest folder: 'dta'" in message


def test_a_data_source_feeding_every_required_channel_binds_them_all(tmp_path: Path) -> None:
    out = generated(tmp_path)
    resolved = resolve_script(SCRIPT, None, TRAINING)
    check_inputs(resolved.spec, resolved.contract, data_source=out, explicit={}, script_path=SCRIPT)
    plan = bind_inputs(
        resolved.spec,
        resolved.contract,
        data_source=out,
        explicit={},
        cache_root=tmp_path / "cache",
        size=DataSize.SMALL,
        script_path=SCRIPT,
    )
    assert {b.channel: b.source for b in plan.bindings} == {
        "data": f"from {(out / 'data').resolve()}",
        "settings": f"from {(out / 'settings').resolve()}",
    }
    assert not (tmp_path / "cache").exists(), "nothing was generated"


def test_explain_names_files_columns_types_and_lines(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["gen-data", str(SCRIPT), "--explain", "--arg", "job_type=training"]
    )

    assert result.exit_code == 0, result.output
    assert "files: test/test_processed_data.csv, train/train_processed_data.csv" in result.output
    assert "customer_id (id)" in result.output and "signup_date (datetime)" in result.output
    assert "why: line 24 reads {split}/{split}_processed_data.csv" in result.output
    assert "why: optional: line 33 checks that it exists; left out" in result.output
    assert not any(tmp_path.iterdir())


def test_gen_data_without_out_or_explain_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["gen-data", str(SCRIPT), "--arg", "job_type=training"])
    assert result.exit_code == 2
    assert "--out" in result.output


def test_a_split_folder_named_literally_joins_the_looped_splits(tmp_path: Path) -> None:
    script = tmp_path / "sampler.py"
    script.write_text(
        "import os\nimport pandas as pd\nDATA = '/opt/ml/processing/input/data'\n"
        "for split_name in ['train', 'val']:\n"
        "    pd.read_csv(os.path.join(DATA, split_name, f'{split_name}_processed_data.csv'))\n"
        "holdout = os.path.join(DATA, 'test', 'test_processed_data.csv')\n"
        "if os.path.exists(holdout):\n    pd.read_csv(holdout)\n"
    )
    out = tmp_path / "out"
    gen_data(GenDataRequest(script=str(script), out_dir=out))

    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv")) == [
        "data/test/test_processed_data.csv",
        "data/train/train_processed_data.csv",
        "data/val/val_processed_data.csv",
    ]


def test_split_files_found_through_a_helper_are_generated_in_the_first_candidate_format(
    tmp_path: Path,
) -> None:
    script = SCRIPT.parent / "candidate_finder.py"
    out = tmp_path / "gen"
    gen_data(GenDataRequest(script=str(script), out_dir=out, overrides=TRAINING))

    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == [
        "input/test/test_features.parquet",
        "input/train/train_features.parquet",
        "input/val/val_features.parquet",
    ], "the optional artifacts channel is left out"


def test_a_nested_json_file_gets_the_shape_the_code_indexes(tmp_path: Path) -> None:
    script = SCRIPT.parent / "rule_labeller.py"
    out = tmp_path / "gen"
    gen_data(GenDataRequest(script=str(script), out_dir=out, overrides=Overrides()))

    rules = json.loads((out / "rules/rules.json").read_text())
    header = (next((out / "data").glob("*.csv"))).read_text().splitlines()[0].split(",")
    assert isinstance(rules["limits"]["min_rows"], int)
    assert rules["settings"] == {"name": "rules"}
    assert rules["output"]["label_column"] == "label"
    (rule,) = rules["rules"]
    assert rule["active"] is True
    assert rule["when"]["op"] == "above"
    assert rule["when"]["column"] in header, "a field the rules name is a column of the data"
    assert isinstance(rule["when"]["threshold"], int | float)
    assert "any" not in rule["when"]


def test_a_json_file_the_code_indexes_as_a_list_is_a_list(tmp_path: Path) -> None:
    script = SCRIPT.parent / "rule_list.py"
    out = tmp_path / "gen"
    gen_data(GenDataRequest(script=str(script), out_dir=out, overrides=Overrides()))

    rules = json.loads((out / "rules/rules.json").read_text())
    header = (next((out / "data").glob("*.csv"))).read_text().splitlines()[0].split(",")
    assert isinstance(rules, list) and len(rules) == 1
    (rule,) = rules
    assert rule["column"] in header
    assert isinstance(rule["threshold"], int | float)
    assert isinstance(rule["name"], str) and rule["name"]
