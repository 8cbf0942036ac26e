"""The workspace (sandbox.results.workspace): run ids, atomic files, refusing foreign folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.errors import WorkspaceError
from sandbox.results import workspace as workspace_module
from sandbox.results.controller import Controller
from sandbox.results.workspace import (
    MARKER_FILE,
    Workspace,
    new_run_id,
    write_json_atomic,
    write_text_atomic,
)

# Run ids --------------------------------------------------------------------------


def test_run_ids_are_unique_and_sorted_by_creation_time() -> None:
    names = ["zeta", "alpha", "tabular_preprocessing", "m"]
    ids = [new_run_id(names[i % len(names)]) for i in range(400)]
    assert len(set(ids)) == len(ids)
    assert sorted(ids) == ids


def test_run_id_keeps_a_safe_script_name() -> None:
    run_id = new_run_id("my script/../x.v2")
    assert "-my_script____x_v2-" in run_id
    assert all(ch.isalnum() or ch in "_-" for ch in run_id)
    assert len(new_run_id("n" * 100).split("-")[3]) == 40


# Atomic writes --------------------------------------------------------------------


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_write_json_atomic_writes_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "result.json"
    write_json_atomic(target, {"status": "PASS", "n": 1})
    assert json.loads(target.read_text(encoding="utf-8")) == {"status": "PASS", "n": 1}
    assert _siblings(target) == ["result.json"]
    assert target.stat().st_mode & 0o777 == 0o600  # private, as the run folder


def test_a_shared_file_can_ask_for_another_mode(tmp_path: Path) -> None:
    target = tmp_path / "spec.yaml"
    write_text_atomic(target, "script: x.py\n", mode=0o644)
    assert target.stat().st_mode & 0o777 == 0o644


def test_run_folders_are_private_to_the_user(tmp_path: Path) -> None:
    run = Workspace(tmp_path / "ws").ensure().new_run("prep")
    folders = [run.root, run.outputs, run.config, run.ml_output, run.supervisor]
    assert {oct(folder.stat().st_mode & 0o777) for folder in folders} == {"0o700"}


def test_unserialisable_payload_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    write_json_atomic(target, {"version": 1})
    with pytest.raises(TypeError):
        write_json_atomic(target, {"version": 2, "bad": object()})
    assert json.loads(target.read_text(encoding="utf-8")) == {"version": 1}
    assert _siblings(target) == ["result.json"]


def test_failure_while_writing_keeps_the_old_file_and_removes_the_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "result.json"
    write_text_atomic(target, "old\n")

    def failing_replace(source: str, destination: Path) -> None:
        assert Path(source).read_text(encoding="utf-8") == "new\n"  # fully written first
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(workspace_module.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        write_text_atomic(target, "new\n")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old\n"
    assert _siblings(target) == ["result.json"]


def test_interrupt_while_writing_removes_the_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "result.json"

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(workspace_module.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_json_atomic(target, {"a": 1})
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


# Workspace.ensure -----------------------------------------------------------------


def test_ensure_creates_a_new_workspace(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws").ensure()
    assert (workspace.root / MARKER_FILE).is_file()
    assert workspace.runs.is_dir()
    assert workspace.data_cache.is_dir()


def test_ensure_accepts_an_empty_folder_and_its_own(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    Workspace(root).ensure()
    (root / "runs" / "old-run").mkdir()
    again = Workspace(root).ensure()
    assert (again.runs / "old-run").is_dir()
    assert (root / MARKER_FILE).is_file()


def test_ensure_refuses_a_foreign_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "important.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(WorkspaceError) as caught:
        Workspace(tmp_path).ensure()
    assert MARKER_FILE in str(caught.value)
    assert caught.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["important.txt"]


def test_ensure_refuses_a_file(tmp_path: Path) -> None:
    path = tmp_path / "not-a-folder"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="not a folder"):
        Workspace(path).ensure()
    assert path.read_text(encoding="utf-8") == "x"


def test_ensure_unwritable_is_a_workspace_error(tmp_path: Path) -> None:
    # A file where a parent folder should be fails for root too.
    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="cannot be written"):
        Workspace(blocker / "ws").ensure()


def test_new_run_creates_its_folders(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws").ensure()
    run = workspace.new_run("tabular")
    assert run.root.parent == workspace.runs
    for folder in (run.outputs, run.config, run.ml_output, run.supervisor):
        assert folder.is_dir()
    assert workspace.run(run.run_id) == run


def test_the_workspace_id_is_made_once_and_kept_in_the_marker(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / MARKER_FILE).write_text("sandbox workspace\n")
    assert Workspace(legacy).read_identity() is None
    made = Workspace(legacy).ensure().identity()
    assert len(made) == 16 and Workspace(legacy).identity() == made
    assert Workspace(legacy).read_identity() == made
    assert (legacy / MARKER_FILE).read_text() == f"sandbox workspace\nid: {made}\n"
    fresh = Workspace(tmp_path / "fresh").ensure()
    assert fresh.read_identity() not in (None, made)


def test_a_new_run_records_its_controller(tmp_path: Path) -> None:
    run = Workspace(tmp_path / "ws").ensure().new_run("prep")
    assert run.controller() == Controller.current()
    assert Workspace(tmp_path / "ws").run("missing").controller() is None


def test_a_run_folder_made_by_id_records_its_controller(tmp_path: Path) -> None:
    # The runner makes the folder of an id chosen before the inputs were bound.
    workspace = Workspace(tmp_path / "ws").ensure()
    run = workspace.run(new_run_id("prep")).create()
    assert run.controller() == Controller.current()
