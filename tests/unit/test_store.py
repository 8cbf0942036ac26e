"""The results store (sandbox.results.store): robust listing, filters, look-up by id, cleaning."""

from __future__ import annotations

from pathlib import Path

import fakes
import pytest
from results_factory import at, make_result, new_workspace, run_id_at, store

from sandbox.errors import EngineUnavailableError, RunNotFoundError, UsageError, WorkspaceError
from sandbox.results.models import Status
from sandbox.results.store import clean_workspace, find_result, load_results, parse_age


class FakeEngine(fakes.FakeEngine):
    """Counts what cleaning asks of the engine; never touches a real one.

    ``running`` are run ids whose container runs; ``exited`` those whose container stopped.
    """

    def __init__(
        self, labelled: int = 2, running: tuple[str, ...] = (), exited: tuple[str, ...] = ()
    ) -> None:
        super().__init__()
        self.containers = labelled
        self.running, self.exited = running, exited
        self.counted: list[str] = []

    def remove_labelled(self, label: str, *, stopped_only: bool = False) -> int:
        assert stopped_only, "clean-workspace must keep running containers"
        self.removed.append(label)
        return self.containers

    def count_labelled(self, label: str, *, stopped_only: bool = False) -> int:
        key, _, run_id = label.partition("=")
        if key == "sandbox.run-id":
            return (run_id in self.exited) + (not stopped_only and run_id in self.running)
        assert stopped_only, "clean-workspace must keep running containers"
        self.counted.append(label)
        return self.containers


def no_engine() -> FakeEngine:
    raise EngineUnavailableError("socket missing")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return new_workspace(tmp_path / "ws")


def test_listing_is_oldest_first_and_skips_unreadable_run_folders(workspace: Path) -> None:
    newer = make_result("b", when=at(1))
    older = make_result("a", Status.FAIL, when=at(10))
    store(workspace, newer)
    store(workspace, older)
    runs = workspace / "runs"
    (runs / run_id_at(at(5), "running")).mkdir()  # no result.json yet
    corrupt = runs / run_id_at(at(6), "corrupt")
    corrupt.mkdir()
    (corrupt / "result.json").write_text("{not json")
    half = store(workspace, make_result("half", when=at(7)))
    text = (half / "result.json").read_text()
    (half / "result.json").write_text(text[: len(text) // 2])  # a write cut in the middle
    (store(workspace, make_result("list", when=at(8))) / "result.json").write_text("[1, 2]")
    future = store(workspace, make_result("future", when=at(9)))
    (future / "result.json").write_text('{"schema_version": 99}')
    invalid = store(workspace, make_result("invalid", when=at(9)))
    (invalid / "result.json").write_text('{"schema_version": 1, "status": "MAYBE"}')

    listing = load_results(workspace)

    assert [r.script_name for r in listing.results] == ["a", "b"]
    reasons = {s.run_id.split("-")[3]: s.reason for s in listing.skipped}
    assert set(reasons) == {"running", "corrupt", "half", "list", "future", "invalid"}
    assert "still running" in reasons["running"]
    assert "unreadable" in reasons["half"]
    assert "schema version 99" in reasons["future"]


def test_listing_ignores_what_the_tool_did_not_make(workspace: Path) -> None:
    store(workspace, make_result("a"))
    (workspace / "runs" / "notes").mkdir()
    (workspace / "runs" / ".20261129-000000-000000-x-abcd.tmp").mkdir()
    (workspace / "runs" / "README.txt").write_text("hello")
    listing = load_results(workspace)
    assert len(listing.results) == 1
    assert listing.skipped == []


def test_a_missing_workspace_holds_no_results(tmp_path: Path) -> None:
    listing = load_results(tmp_path / "nowhere")
    assert listing.results == [] and listing.skipped == []


def test_filters_by_status_script_glob_and_last(workspace: Path) -> None:
    for minutes, (script, status) in enumerate(
        [
            ("tab_a", Status.PASS),
            ("tab_b", Status.FAIL),
            ("xgb", Status.FAIL),
            ("tab_c", Status.OOM),
        ]
    ):
        store(workspace, make_result(script, status, when=at(100 - minutes)))

    failed = load_results(workspace, statuses=[Status.FAIL])
    assert [r.script_name for r in failed.results] == ["tab_b", "xgb"]
    tabs = load_results(workspace, script="tab*")
    assert [r.script_name for r in tabs.results] == ["tab_a", "tab_b", "tab_c"]
    exact = load_results(workspace, script="xgb")
    assert [r.script_name for r in exact.results] == ["xgb"]
    last_two = load_results(workspace, last=2)
    assert [r.script_name for r in last_two.results] == ["xgb", "tab_c"]
    both = load_results(workspace, statuses=[Status.FAIL, Status.OOM], script="tab*", last=1)
    assert [r.script_name for r in both.results] == ["tab_c"]


def test_find_result_by_id_and_by_unique_prefix(workspace: Path) -> None:
    first = make_result("a", when=at(60))
    second = make_result("b", when=at(1))
    store(workspace, first)
    store(workspace, second)
    assert find_result(workspace, first.run_id).run_id == first.run_id
    assert find_result(workspace, second.run_id[:22]).run_id == second.run_id


def test_find_result_errors_name_the_id(workspace: Path) -> None:
    store(workspace, make_result("a", when=at(1)))
    store(workspace, make_result("b", when=at(1)))
    with pytest.raises(RunNotFoundError, match=r"'nope'.*no such run") as unknown:
        find_result(workspace, "nope")
    assert unknown.value.exit_code == 2
    with pytest.raises(RunNotFoundError, match="ambiguous"):
        find_result(workspace, "20")
    with pytest.raises(RunNotFoundError, match="no such run"):
        find_result(workspace, "")


def test_find_result_of_a_run_without_result_says_why(workspace: Path) -> None:
    run_id = run_id_at(at(1), "running")
    (workspace / "runs" / run_id).mkdir()
    with pytest.raises(RunNotFoundError, match="still running"):
        find_result(workspace, run_id)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("7d", 604800), ("12h", 43200), ("30m", 1800), ("1.5h", 5400), ("2w", 1209600), ("45s", 45)],
)
def test_parse_age(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["7", "d", "7y", "-1d", "", "seven days"])
def test_parse_age_rejects_what_is_not_an_age(text: str) -> None:
    with pytest.raises(UsageError, match="expected a number and a unit"):
        parse_age(text)


def test_clean_refuses_a_folder_that_is_not_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "runs" / run_id_at(at(1), "a")).mkdir(parents=True)
    with pytest.raises(WorkspaceError, match="not a sandbox workspace") as refused:
        clean_workspace(tmp_path, connect=FakeEngine)
    assert refused.value.exit_code == 2
    assert (tmp_path / "runs").is_dir() and any((tmp_path / "runs").iterdir())
    with pytest.raises(WorkspaceError):
        clean_workspace(tmp_path / "missing", connect=FakeEngine)


def test_clean_removes_only_run_folders_and_the_tools_containers(workspace: Path) -> None:
    run_dir = store(workspace, make_result("a"))
    (run_dir / "outputs" / "big.bin").write_bytes(b"x" * 5000)
    (workspace / "data" / "abc").mkdir(parents=True)
    (workspace / "runs" / "keep-me").mkdir()
    engine = FakeEngine(labelled=3)

    report = clean_workspace(workspace, connect=lambda: engine)

    assert report.removed_runs == [run_dir.name]
    assert report.freed_bytes >= 5000
    assert not run_dir.exists()
    assert (workspace / "data" / "abc").is_dir()
    assert (workspace / "runs" / "keep-me").is_dir()
    assert (workspace / ".sandbox-workspace").is_file()
    assert engine.removed == ["sandbox.tool=sandbox"] and engine.closed
    assert report.containers_removed == 3


def test_clean_keeps_the_newest_and_those_younger_than_the_age(workspace: Path) -> None:
    ages_min = {"d10": 14400, "d3": 4320, "h2": 120, "m1": 1}
    dirs = {name: store(workspace, make_result(name, when=at(m))) for name, m in ages_min.items()}

    report = clean_workspace(workspace, older_than_s=parse_age("1d"), keep=1, connect=no_engine)

    assert sorted(report.removed_runs) == sorted([dirs["d10"].name, dirs["d3"].name])
    assert dirs["h2"].exists() and dirs["m1"].exists()
    assert report.kept_runs == 2
    assert report.containers_removed is None  # no engine: containers not checked

    report = clean_workspace(workspace, keep=1, connect=no_engine)
    assert report.removed_runs == [dirs["h2"].name]
    assert dirs["m1"].exists()


def test_dry_run_removes_nothing_and_only_counts_containers(workspace: Path) -> None:
    run_dir = store(workspace, make_result("a"))
    engine = FakeEngine(labelled=4)
    report = clean_workspace(workspace, dry_run=True, connect=lambda: engine)
    assert report.dry_run and report.removed_runs == [run_dir.name]
    assert run_dir.exists()
    assert engine.removed == [] and engine.counted == ["sandbox.tool=sandbox"]
    assert report.containers_removed == 4


def _unfinished(workspace: Path, script: str, minutes_ago: float) -> Path:
    """A run folder without result.json: a run in progress, or one that was killed."""
    run_dir = workspace / "runs" / run_id_at(at(minutes_ago), script)
    (run_dir / "outputs").mkdir(parents=True)
    return run_dir


def test_clean_skips_a_run_whose_container_still_runs(workspace: Path) -> None:
    done = store(workspace, make_result("done", when=at(120)))
    going = _unfinished(workspace, "going", minutes_ago=90)
    killed = _unfinished(workspace, "killed", minutes_ago=60)
    engine = FakeEngine(running=(going.name,), exited=(killed.name,))

    report = clean_workspace(workspace, connect=lambda: engine)

    assert sorted(report.removed_runs) == sorted([done.name, killed.name])
    assert going.is_dir() and not killed.exists()
    assert [(s.run_id, s.reason) for s in report.skipped_runs] == [
        (going.name, "its container is still running")
    ]
    dry = clean_workspace(workspace, dry_run=True, connect=lambda: engine)
    assert dry.removed_runs == [] and [s.run_id for s in dry.skipped_runs] == [going.name]


def test_without_an_engine_clean_skips_recent_runs_without_result(workspace: Path) -> None:
    recent = _unfinished(workspace, "recent", minutes_ago=20)
    stale = _unfinished(workspace, "stale", minutes_ago=61)
    finished = store(workspace, make_result("finished", when=at(1)))

    report = clean_workspace(workspace, connect=no_engine)

    assert sorted(report.removed_runs) == sorted([stale.name, finished.name])
    (skipped,) = report.skipped_runs
    assert skipped.run_id == recent.name and recent.is_dir()
    assert skipped.reason.startswith("no result yet, started 20 min ago: it may still be")
    assert report.kept_runs == 0 and report.containers_removed is None


def test_clean_removes_staging_folders_an_interrupted_generation_left(tmp_path: Path) -> None:
    import os
    import time

    from sandbox.results.store import clean_workspace
    from sandbox.results.workspace import Workspace

    workspace = Workspace(tmp_path / "ws").ensure()
    stale = workspace.data_cache / ".staging-abc-123"
    fresh = workspace.data_cache / ".staging-def-456"
    for folder in (stale, fresh):
        (folder / "data").mkdir(parents=True)
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    clean_workspace(workspace.root, connect=no_engine)
    assert not stale.exists() and fresh.exists()


def test_find_result_by_latest_and_by_unique_suffix(workspace: Path) -> None:
    older = make_result("a", when=at(60))
    newer = make_result("b", when=at(1))
    store(workspace, older)
    store(workspace, newer)
    assert find_result(workspace, "latest").run_id == newer.run_id
    assert find_result(workspace, "latest~1").run_id == older.run_id
    assert find_result(workspace, older.run_id[-6:]).run_id == older.run_id
    with pytest.raises(RunNotFoundError, match="no such run"):
        find_result(workspace, "latest~2")


def test_an_ambiguous_reference_lists_every_candidate(workspace: Path) -> None:
    first = make_result("a", when=at(60))
    second = make_result("b", when=at(1))
    store(workspace, first)
    store(workspace, second)
    with pytest.raises(RunNotFoundError) as ambiguous:
        find_result(workspace, "20")
    assert ambiguous.value.exit_code == 2
    assert first.run_id in str(ambiguous.value) and second.run_id in str(ambiguous.value)
