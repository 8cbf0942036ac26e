"""Per-channel content read from a script's source: file names through variables,
parameters, f-strings and loops; split folders; columns; JSON keys; optional channels."""

from __future__ import annotations

from pathlib import Path

from sandbox.contract.channel_content import infer_channel_content
from sandbox.contract.inference import infer_contract

SCRIPTS = Path(__file__).resolve().parents[1] / "integration" / "scripts"


def content_of(source: str):  # type: ignore[no-untyped-def]
    return infer_channel_content(source, infer_contract(source).inputs)


def test_split_files_named_through_a_parameter_and_a_loop_over_candidates() -> None:
    found = content_of((SCRIPTS / "split_reader.py").read_text())

    data = found.channels["data"]
    assert ("{split}/{split}_processed_data.csv", "csv") in {
        (use.relative, use.reader) for use in data.files
    }
    assert {use.relative for use in found.channels["settings"].files} == {"settings.json"}
    assert found.json_keys.keys() == {"min_amount"}


def test_columns_named_by_subscripts_groupby_and_constants_but_not_created_ones() -> None:
    found = content_of((SCRIPTS / "split_reader.py").read_text())

    assert list(found.columns) == ["customer_id", "signup_date", "purchase_amount"]
    source = 'import pandas as pd\ndf = pd.read_csv("/opt/ml/processing/input/data/x.csv")\n'
    source += 'df["made_here"] = 1\nprint(df["made_here"], df["real"])\n'
    assert list(content_of(source).columns) == ["real"]


def test_a_channel_checked_for_before_reading_is_optional_but_not_one_that_raises() -> None:
    found = content_of((SCRIPTS / "split_reader.py").read_text())
    assert found.channels["signature"].optional
    assert not found.channels["data"].optional

    source = (
        "import os\nIN = '/opt/ml/processing/input/data'\n"
        "if not os.path.exists(IN):\n    raise SystemExit('no data')\n"
    )
    assert not content_of(source).channels["data"].optional


def test_a_file_at_the_channel_root_from_a_path_constant_and_an_alias_key() -> None:
    source = """
import pandas as pd
PATHS = {"RAW": "/opt/ml/processing/input/raw"}
def main(input_paths):
    frame = pd.read_csv(input_paths["raw_input"] + "/census-income.csv", usecols=["age", "income"])
if __name__ == "__main__":
    main({"raw_input": PATHS["RAW"]})
"""
    found = content_of(source)
    (channel,) = found.channels.values()
    assert [(use.relative, use.reader) for use in channel.files] == [("census-income.csv", "csv")]
    assert list(found.columns) == ["age", "income"]


def test_source_that_does_not_parse_gives_empty_content() -> None:
    found = infer_channel_content("def (:", {"data": "/opt/ml/processing/input/data"})
    assert found.channels["data"].files == []


def test_a_helper_called_per_split_names_each_split_file_after_its_first_candidate() -> None:
    found = content_of((SCRIPTS / "candidate_finder.py").read_text())

    uses = {(use.relative, use.reader) for use in found.channels["features"].files}
    assert ("{split_name}/{split_name}_features.parquet", "exists") in uses
    assert ("{job_type}/{job_type}_features.parquet", "exists") in uses


def test_candidate_names_in_a_list_of_f_strings_give_the_first() -> None:
    source = """
from pathlib import Path
import pandas as pd
def find(folder, split):
    for name in [f"{split}.csv.gz", f"{split}.parquet"]:
        if (folder / name).exists():
            return pd.read_csv(folder / name)
for split in ["train", "val"]:
    find(Path("/opt/ml/processing/input/data") / split, split)
"""
    uses = {(use.relative, use.reader) for use in content_of(source).channels["data"].files}
    assert ("{split}/{split}.csv.gz", "csv") in uses


def test_a_nested_channel_wired_by_a_keyed_assignment_and_checked_for_is_optional() -> None:
    found = content_of((SCRIPTS / "candidate_finder.py").read_text())

    artifacts = found.channels["artifacts"]
    assert artifacts.optional
    assert {use.reader for use in artifacts.files} == {"exists", "list"}
    assert not found.channels["features"].optional
