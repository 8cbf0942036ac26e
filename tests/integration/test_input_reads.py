"""A PASS that read nothing from an input channel gets a finding; a script that read it
in any way (pandas, pyarrow's native reader, a listing, a glob) gets none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sandbox.contract.resolve import Overrides
from sandbox.data.datagen import DataSize
from sandbox.results.models import Status, TestResult
from sandbox.runner import RunRequest, run_script

pytestmark = pytest.mark.usefixtures("offline_image")

LOOKALIKES = Path(__file__).resolve().parents[1] / "lookalikes"
UNREAD = (
    "input channel {!r} (/opt/ml/processing/input/{}) was mounted but the script read nothing "
    "from it"
)


def run(
    engine: Any, tmp_path: Path, script: str, inputs: dict[str, Path] | None = None
) -> TestResult:
    request = RunRequest(
        script=str(LOOKALIKES / f"{script}.py"),
        workspace=tmp_path / "ws",
        overrides=Overrides(),
        data_size=DataSize.SMALL,
        inputs=inputs or {},
    )
    result = run_script(request, engine)
    assert result.status is Status.PASS, (result.error_message, result.stderr_tail)
    return result


def unread_findings(result: TestResult) -> list[str]:
    return [f for f in result.findings if f.startswith("input channel")]


def folder(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    path = tmp_path / name
    path.mkdir()
    for filename, text in files.items():
        (path / filename).write_text(text)
    return path


def test_a_script_that_never_opens_its_generated_input_passes_with_a_finding(
    engine: Any, tmp_path: Path
) -> None:
    result = run(engine, tmp_path, "ignores_input")
    assert result.inputs["train"].startswith("generated")
    assert unread_findings(result) == [UNREAD.format("train", "train")]


def test_a_given_folder_left_unread_is_named_too(engine: Any, tmp_path: Path) -> None:
    train = folder(tmp_path, "train", {"train.csv": "a,b\n1,2\n"})
    result = run(engine, tmp_path, "ignores_input", {"train": train})
    assert unread_findings(result) == [UNREAD.format("train", "train")]


def test_a_csv_read_with_pandas_is_no_finding(engine: Any, tmp_path: Path) -> None:
    train = folder(tmp_path, "train", {"train.csv": "a,b\n1,2\n3,4\n"})
    result = run(engine, tmp_path, "reads_csv_pandas", {"train": train})
    assert (Path(result.run_dir) / "outputs" / "summary" / "rows.txt").read_text() == "2\n"
    assert unread_findings(result) == []


def test_parquet_read_natively_by_pyarrow_is_no_finding(engine: Any, tmp_path: Path) -> None:
    train = folder(tmp_path, "train", {})
    pq.write_table(pa.table({"a": [1, 2, 3]}), train / "train.parquet")
    result = run(engine, tmp_path, "reads_parquet_arrow", {"train": train})
    assert (Path(result.run_dir) / "outputs" / "summary" / "rows.txt").read_text() == "3\n"
    assert unread_findings(result) == []


def test_a_listing_or_a_glob_reads_a_channel(engine: Any, tmp_path: Path) -> None:
    train = folder(tmp_path, "train", {"a.csv": "a\n1\n", "b.csv": "a\n2\n"})
    validation = folder(tmp_path, "validation", {"v.csv": "a\n3\n"})
    result = run(engine, tmp_path, "lists_and_globs", {"train": train, "validation": validation})
    assert (Path(result.run_dir) / "outputs" / "summary" / "counts.txt").read_text() == "2 1\n"
    assert unread_findings(result) == []


def test_a_file_read_from_the_input_root_mounted_entry_by_entry_is_no_finding(
    engine: Any, tmp_path: Path
) -> None:
    """The input root is mounted one entry at a time, beside the code folder in it."""
    census = folder(tmp_path, "census", {"census-income.csv": "age,income\n1,2\n3,4\n"})
    result = run(engine, tmp_path, "tutorial_preprocess", {"input": census})
    assert unread_findings(result) == []


def test_the_input_root_never_opened_is_a_finding(engine: Any, tmp_path: Path) -> None:
    data = folder(tmp_path, "root", {"part-0.csv": "a\n1\n"})
    artifacts = folder(tmp_path, "artifacts", {"model.bst": "m"})
    result = run(
        engine, tmp_path, "reads_nested_only", {"input_data": data, "model_artifacts": artifacts}
    )
    assert unread_findings(result) == [
        "input channel 'input_data' (/opt/ml/processing/input) was mounted but the script "
        "read nothing from it"
    ]
