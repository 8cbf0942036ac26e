"""The results store (sandbox.results.store): robust listing, filters, look-up by id, cleaning."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from results_factory import at, make_result, new_workspace, run_id_at, store

from sandbox.constants import CONTROLLER_LABEL, WORKSPACE_LABEL
from sandbox.container.seam import ContainerInfo
from sandbox.errors import EngineUnavailableError, RunNotFoundError, UsageError, WorkspaceError
from sandbox.results.controller import Controller
from sandbox.results.models import Status
from sandbox.results.store import clean_workspace, find_result, load_results, parse_age
from sandbox.results.workspace import Workspace
from tests import fakes


class FakeEngine(fakes.FakeEngine):
    """Containers as :class:`ContainerInfo` values; records what cleaning removes.

    ``running`` are run ids whose container runs; ``exited`` those whose container stopped.
    """

    def __init__(
        self,
        containers: Sequence[ContainerInfo] = (),
        running: tuple[str, ...] = (),
        exited: tuple[str, ...] = (),
    ) -> None:
        super().__init__(listed=containers)
        self.running, self.exited = running, exited
        self.asked: list[str] = []

    def containers(self, label: str) -> list[ContainerInfo]:
        self.asked.append(label)
        return super().containers(label)

    def remove_container(self, container_id: str) -> bool:
        self.removed.append(container_id)
        return super().remove_container(container_id)

    def count_labelled(self, label: str, *, stopped_only: bool = False) -> int:
        key, _, run_id = label.partition("=")
        assert key == "sandbox.run-id"
        return (run_id in self.exited) + (not stopped_only and run_id in self.running)


def container(
    workspace: Path | str,
    status: str = "exited",
    *,
    stopped_s_ago: float | None = 300,
    created_s_ago: float = 600,
    controller: str | None = None,
) -> ContainerInfo:
    """A container of ``workspace`` (its root, or another workspace's id)."""
    now = datetime.now(timezone.utc)
    workspace_id = Workspace(workspace).identity() if isinstance(workspace, Path) else workspace
    labels = {WORKSPACE_LABEL: workspace_id, "sandbox.tool": "sandbox"}
    if controller is not None:
        labels[CONTROLLER_LABEL] = controller
    return ContainerInfo(
        id=secrets.token_hex(32),
        status=status,
        labels=labels,
        created_at=now - timedelta(seconds=created_s_ago),
        finished_at=None if stopped_s_ago is None else now - timedelta(seconds=stopped_s_ago),
    )


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


def test_clean_removes_only_run_folders_and_the_workspaces_containers(workspace: Path) -> None:
    run_dir = store(workspace, make_result("a"))
    (run_dir / "outputs" / "big.bin").write_bytes(b"x" * 5000)
    (workspace / "data" / "abc").mkdir(parents=True)
    (workspace / "runs" / "keep-me").mkdir()
    engine = FakeEngine([container(workspace) for _ in range(3)])

    report = clean_workspace(workspace, connect=lambda: engine)

    assert report.removed_runs == [run_dir.name]
    assert report.freed_bytes >= 5000
    assert not run_dir.exists()
    assert (workspace / "data" / "abc").is_dir()
    assert (workspace / "runs" / "keep-me").is_dir()
    assert (workspace / ".sandbox-workspace").is_file()
    assert len(engine.removed) == 3 and engine.closed
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
    engine = FakeEngine([container(workspace) for _ in range(4)])
    report = clean_workspace(workspace, dry_run=True, connect=lambda: engine)
    assert report.dry_run and report.removed_runs == [run_dir.name]
    assert run_dir.exists()
    assert engine.removed == []
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


def test_clean_refuses_a_symlinked_runs_folder_and_deletes_nothing_behind_it(
    tmp_path: Path,
) -> None:
    workspace = new_workspace(tmp_path / "ws")
    elsewhere = tmp_path / "elsewhere"
    victims = [elsewhere / run_id_at(at(m), "precious") for m in (120, 600)]
    for victim in victims:
        (victim / "outputs").mkdir(parents=True)
        (victim / "result.json").write_text("{}")
    (workspace / "runs").rmdir()
    (workspace / "runs").symlink_to(elsewhere, target_is_directory=True)

    with pytest.raises(WorkspaceError, match="runs/ is a symbolic link") as refused:
        clean_workspace(workspace, connect=no_engine)

    assert refused.value.exit_code == 2 and "\n" not in str(refused.value)
    assert all((victim / "result.json").is_file() for victim in victims)


def test_clean_never_follows_a_link_inside_a_run_folder(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "keep.txt").write_text("mine")
    run_dir = store(workspace, make_result("a"))
    (run_dir / "outputs" / "link").symlink_to(outside / "deep", target_is_directory=True)
    (run_dir / "outputs" / "file-link").symlink_to(outside / "deep" / "keep.txt")

    report = clean_workspace(workspace, connect=no_engine)

    assert report.removed_runs == [run_dir.name] and not run_dir.exists()
    assert (outside / "deep" / "keep.txt").read_text() == "mine"


def test_clean_refuses_a_run_folder_that_resolves_outside(workspace: Path, tmp_path: Path) -> None:
    from sandbox.results import store as store_module

    run_dir = store(workspace, make_result("a"))
    report = store_module.CleanReport(workspace=str(workspace), dry_run=False)
    store_module._remove_run(tmp_path / "another-root", run_dir, report)
    assert run_dir.is_dir() and report.removed_runs == []
    assert "resolves outside the workspace" in report.failures[run_dir.name]


def test_clean_removes_only_this_workspaces_containers_stopped_a_minute(
    workspace: Path,
) -> None:
    old_exited = container(workspace, "exited", stopped_s_ago=300)
    old_dead = container(workspace, "dead", stopped_s_ago=None, created_s_ago=300)
    old_created = container(workspace, "created", stopped_s_ago=None, created_s_ago=120)
    keep = [
        container(workspace, "exited", stopped_s_ago=5),  # its run may still read it
        container(workspace, "created", stopped_s_ago=None, created_s_ago=2),  # about to start
        container(workspace, "running", stopped_s_ago=None),
        container("another-workspace", "exited", stopped_s_ago=3600),
        container("another-workspace", "created", stopped_s_ago=None, created_s_ago=1),
    ]
    engine = FakeEngine([old_exited, old_dead, old_created, *keep])

    report = clean_workspace(workspace, connect=lambda: engine)

    assert sorted(engine.removed) == sorted([old_exited.id, old_dead.id, old_created.id])
    assert report.containers_removed == 3


def _dead_controller() -> Controller:
    here = Controller.current()
    pid = os.getpid()
    while True:  # a pid no process holds
        pid += 1
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return Controller(host=here.host, pid=pid, started="1")
        except PermissionError:
            continue


def test_a_run_whose_controller_died_is_saved_as_interrupted_and_its_container_removed(
    workspace: Path,
) -> None:
    dead, alive = _dead_controller(), Controller.current()
    orphan = _unfinished(workspace, "orphan", minutes_ago=0.2)
    going = _unfinished(workspace, "going", minutes_ago=0.2)
    for run_dir, controller in ((orphan, dead), (going, alive)):
        (run_dir / "controller.json").write_text(
            f'{{"host": "{controller.host}", "pid": {controller.pid}, '
            f'"started": "{controller.started}"}}'
        )
    orphaned = container(workspace, "running", stopped_s_ago=None, controller=dead.label())
    owned = container(workspace, "running", stopped_s_ago=None, controller=alive.label())
    abroad = Controller("another-host/1", dead.pid, "1").label()
    foreign = container(workspace, "running", stopped_s_ago=None, controller=abroad)
    engine = FakeEngine([orphaned, owned, foreign], running=(going.name, orphan.name))

    report = clean_workspace(workspace, keep=2, connect=lambda: engine)

    assert report.interrupted_runs == [orphan.name]
    assert engine.removed == [orphaned.id]
    (result,) = load_results(workspace).results
    assert result.run_id == orphan.name and result.status is Status.ERROR
    assert (
        result.error_message == f"interrupted: its controller (pid {dead.pid}) died before it ended"
    )
    assert not (going / "result.json").exists()


def test_no_module_but_the_store_writes_a_result_file() -> None:
    """``result.json`` and ``pipeline_result.json`` are written only by ``save_result`` and
    ``save_pipeline_result``: no other module of the package names them in a write."""
    package = Path(__file__).resolve().parents[2] / "sandbox"
    writers = []
    for source in sorted(package.rglob("*.py")):
        if source == package / "results" / "store.py":
            continue
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
            if ("write_json_atomic(" in line or ".write_json(" in line) and (
                "result_file" in line or "RESULT_FILE" in line or "result.json" in line
            ):
                writers.append(f"{source.relative_to(package)}:{number}")
    assert writers == []


def test_only_the_run_folder_writes_files_into_run_folders() -> None:
    """The atomic writers are called by ``RunFolder`` (every file the tool puts in a run
    folder) and by the three writers of files outside any run folder: a report the user
    asked for, a spec from a contract, the S3 cache's manifest."""
    package = Path(__file__).resolve().parents[2] / "sandbox"
    outside_run_folders = {
        Path("report/files.py"),
        Path("contract/from_contract.py"),
        Path("data/s3source.py"),
    }
    callers = set()
    for source in sorted(package.rglob("*.py")):
        text = source.read_text(encoding="utf-8")
        calls = text.count("write_json_atomic(") + text.count("write_text_atomic(")
        calls -= text.count("def write_json_atomic(") + text.count("def write_text_atomic(")
        if calls:
            callers.add(source.relative_to(package))
    assert callers == {Path("results/workspace.py"), *outside_run_folders}


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
