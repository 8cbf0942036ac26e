"""Output checks on the host (sandbox.results.checks): bounded reads, no symlink followed."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.contract.spec import OutputCheck
from sandbox.results.checks import HEADER_BYTES, check_outputs, table_columns

EXPECT = {"out": OutputCheck(files=["train/*.csv"], columns=["amount", "label"])}


def outputs(tmp_path: Path) -> Path:
    folder = tmp_path / "outputs"
    (folder / "train").mkdir(parents=True)
    return folder


def users_file(tmp_path: Path) -> Path:
    """A private file of the user's that has exactly the columns the check wants."""
    secret = tmp_path / "home" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("amount,label\n1.0,0\n")
    secret.chmod(0o600)
    return secret


def test_a_plain_table_with_the_columns_passes(tmp_path: Path) -> None:
    folder = outputs(tmp_path)
    (folder / "train" / "a.csv").write_text("amount,label\r\n1.0,0\r\n")
    report = check_outputs(EXPECT, {"out": folder}, {})
    assert (report.problems, report.skipped) == ([], [])


def test_a_link_to_a_users_file_is_not_read_and_does_not_pass(tmp_path: Path) -> None:
    folder = outputs(tmp_path)
    (folder / "train" / "a.csv").symlink_to(users_file(tmp_path))
    report = check_outputs(EXPECT, {"out": folder}, {})
    assert report.problems == ["output out: no file matches 'train/*.csv'"]
    assert report.skipped == ["output out: train/a.csv is a symlink: not checked"]


def test_a_linked_folder_is_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "train").symlink_to(users_file(tmp_path).parent, target_is_directory=True)
    report = check_outputs(
        {"out": OutputCheck(files=["train/*.csv"], columns=["amount"])}, {"out": folder}, {}
    )
    assert report.problems == ["output out: no file matches 'train/*.csv'"]
    assert report.skipped == [
        "output out: train/secret.csv is under a symlinked folder: not checked"
    ]


def test_a_fifo_is_skipped_not_waited_on(tmp_path: Path) -> None:
    folder = outputs(tmp_path)
    os.mkfifo(folder / "train" / "a.csv")
    (folder / "train" / "b.csv").write_text("amount,label\n1.0,0\n")
    report = check_outputs(EXPECT, {"out": folder}, {})
    assert report.problems == []
    assert report.skipped == ["output out: train/a.csv is a FIFO: not checked"]


def test_table_columns_refuses_a_link_itself(tmp_path: Path) -> None:
    link = tmp_path / "a.csv"
    link.symlink_to(users_file(tmp_path))
    with pytest.raises(OSError):
        table_columns(link)


def test_a_header_without_end_is_a_problem_not_a_whole_read(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(b"c," * HEADER_BYTES)
    with pytest.raises(ValueError, match="no line end in the first 64 KiB"):
        table_columns(path)


def test_a_huge_parquet_footer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 100 + (2**31).to_bytes(4, "little") + b"PAR1")
    with pytest.raises(ValueError, match="footer of 2147483648 bytes"):
        table_columns(path)


def test_a_parquet_file_still_gives_its_columns(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"amount": [1.0], "label": [0]}), path)
    assert table_columns(path) == (["amount", "label"], True)


def test_an_8_gib_sparse_output_is_checked_in_little_memory(tmp_path: Path) -> None:
    folder = outputs(tmp_path)
    with (folder / "train" / "big.csv").open("wb") as handle:
        handle.write(b"amount,label\n")
        handle.truncate(8 * 1024**3)
    # In a process that cannot hold the file: reading it whole fails there.
    code = (
        "import sys; from pathlib import Path; from sandbox.results.checks import check_outputs;"
        "from sandbox.contract.spec import OutputCheck;"
        "r = check_outputs({'out': OutputCheck(files=['train/*.csv'], columns=['amount'])},"
        " {'out': Path(sys.argv[1])}, {}); print(r.problems)"
    )
    limit = 2 * 1024**3

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        capture_output=True,
        text=True,
        preexec_fn=cap_memory,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
