"""Many scripts at once (sandbox.batch): names, globs, --all, up-front checks; and the
progress display (sandbox.cli.progress) that shows a batch on a console; Ctrl-C with fakes."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import threading
import time
from pathlib import Path

import pytest
from interrupt_fakes import FakeDocker, FakeEngine, Interrupt, patch_runs
from results_factory import make_result
from rich.console import Console

from sandbox.cli.progress import LineStreamer, ProgressDisplay
from sandbox.errors import OptionError, UsageError
from sandbox.pipeline import scheduler
from sandbox.pipeline.batch import (
    INTERRUPTED_REASON,
    expand_scripts,
    names_one_script,
    plan_runs,
    run_batch,
)
from sandbox.results.models import Status
from sandbox.results.workspace import Workspace
from sandbox.runner import RunRequest
from tests import fakes

SCRIPT = 'OUT = "/opt/ml/processing/output/result"\nprint("hi")\n'


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    folder = tmp_path / "scripts"
    folder.mkdir()
    for name in ("b_prep.py", "a_train.py", "__init__.py", "notes.txt"):
        (folder / name).write_text(SCRIPT)
    return folder


def test_names_and_paths_pass_through_in_order(scripts: Path) -> None:
    names = expand_scripts(["prep", str(scripts / "a_train.py")], scripts, all_scripts=False)
    assert names == ["prep", str(scripts / "a_train.py")]


def test_globs_are_expanded_here_sorted_without_init(scripts: Path) -> None:
    names = expand_scripts([str(scripts / "*.py")], scripts, all_scripts=False)
    assert [Path(n).name for n in names] == ["a_train.py", "b_prep.py"]


def test_a_glob_is_tried_in_the_scripts_dir_too(scripts: Path) -> None:
    names = expand_scripts(["b_*.py"], scripts, all_scripts=False)
    assert [Path(n).name for n in names] == ["b_prep.py"]


def test_all_takes_every_python_file_and_duplicates_go(scripts: Path) -> None:
    names = expand_scripts([str(scripts / "a_train.py")], scripts, all_scripts=True)
    assert [Path(n).name for n in names] == ["a_train.py", "b_prep.py"]


@pytest.mark.parametrize(
    ("patterns", "all_scripts", "single"),
    [
        (["x"], False, True),
        (["x", "y"], False, False),
        (["*.py"], False, False),
        (["x"], True, False),
    ],
)
def test_one_script_keeps_the_one_script_output(
    patterns: list[str], all_scripts: bool, single: bool
) -> None:
    assert names_one_script(patterns, all_scripts=all_scripts) is single


def test_plan_names_every_script_that_cannot_run(scripts: Path) -> None:
    (scripts / "needs_env.py").write_text(
        'import os\nOUT = "/opt/ml/processing/output"\nLABEL = os.environ["LABEL_FIELD"]\n'
    )
    requests = [
        RunRequest(script=name, scripts_dir=scripts) for name in ("a_train", "ghost", "needs_env")
    ]
    with pytest.raises(UsageError) as error:
        plan_runs(requests)
    assert "2 script(s) cannot run" in str(error.value)
    assert "'ghost'" in str(error.value) and "LABEL_FIELD" in str(error.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cpus": float("nan")}, "--cpus 'nan': give a number of CPUs"),
        ({"memory": "4"}, "--memory '4': below Docker's minimum of 6 MiB"),
        ({"cpus": 3.0}, "--cpus '3': the engine has 2 CPUs"),
        ({"memory": "2g"}, "--memory '2g': more than the engine's 1024 MiB"),
    ],
)
def test_limits_that_cannot_be_had_stop_the_batch_before_any_run(
    scripts: Path, tmp_path: Path, options: dict[str, object], message: str
) -> None:
    requests = [
        RunRequest(script=name, scripts_dir=scripts, workspace=tmp_path / "ws", **options)  # type: ignore[arg-type]
        for name in ("a_train", "b_prep")
    ]
    with pytest.raises(OptionError, match=re.escape(message)):
        run_batch(requests, connect=lambda: fakes.FakeEngine(memory_bytes=1024**3))
    assert not (tmp_path / "ws").exists()


def test_jobs_below_one_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--jobs 0"):
        run_batch([], jobs=0)


def test_line_streamer_prints_whole_lines_with_a_prefix() -> None:
    out = io.StringIO()
    streamer = LineStreamer(Console(file=out, width=200), prefix="[prep] ")
    for chunk in (b"first li", b"ne\nsecond line\nthi", b"rd [bold]not markup[/]"):
        streamer(chunk)
    assert out.getvalue() == "[prep] first line\n[prep] second line\n"
    streamer.flush()
    assert out.getvalue().splitlines()[-1] == "[prep] third [bold]not markup[/]"


def test_line_streamer_prints_a_line_without_end_in_parts_not_all_at_once() -> None:
    out = io.StringIO()
    streamer = LineStreamer(Console(file=out, width=200))
    for _ in range(20):
        streamer(b"x" * 16384)
    printed = out.getvalue().splitlines()
    assert printed and all(len(line) <= 80 * 1024 for line in printed)
    streamer.flush()
    assert len("".join(out.getvalue().splitlines())) == 20 * 16384


def test_progress_off_a_terminal_prints_one_line_per_finished_step() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)
    assert not console.is_terminal
    with ProgressDisplay(console, ["a", "b"], stream_output=True) as display:
        display.image_started("sklearn-1.2")
        display.image_line("sklearn-1.2", "Step 1/9 : FROM base")
        display.image_ready("sklearn-1.2", "sandbox/sklearn-1.2:abc", built_now=True)
        display.run_started(0, "a")
        display.run_progress(0, "running a")
        display.run_output(1, b"from b\n")
        display.run_finished(0, make_result("a", Status.FAIL, execution_time=0.5))
    lines = out.getvalue().splitlines()
    assert lines == [
        "image sklearn-1.2: built (sandbox/sklearn-1.2:abc)",
        "[b] from b",
        "FAIL a (processing, entrypoint) in 0.50 s",
    ]


# Ctrl-C --------------------------------------------------------------------------


def test_ctrl_c_stops_only_this_batch_and_does_not_wait_for_runs_preparing_data(
    scripts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("sleeper", "prep"):
        (scripts / f"{name}.py").write_text(SCRIPT)
    workspace = Workspace(tmp_path / "ws").ensure().root
    docker = FakeDocker()
    fake = Interrupt(docker, workspace)
    others: list[threading.Event] = []

    def other_process_starts_a_run() -> None:  # on the same workspace, during the batch
        (workspace / "runs" / "theirs").mkdir()
        others.append(docker.start({"sandbox.batch": "0123456789ab", "sandbox.run-id": "theirs"}))

    fake.meanwhile = other_process_starts_a_run
    main_engine = FakeEngine(docker)
    engines = iter([main_engine, FakeEngine(docker), FakeEngine(docker)])
    patch_runs(monkeypatch, fake.run_script)
    monkeypatch.setattr(scheduler, "wait_interruptibly", fake.wait)
    monkeypatch.setattr(scheduler, "ensure_image", lambda *_a, **_k: _Image())
    requests = [
        RunRequest(script=name, scripts_dir=scripts, workspace=workspace)
        for name in ("sleeper", "prep")
    ]

    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_batch(requests, jobs=2, connect=lambda: next(engines))
    assert time.monotonic() - began < 3  # prep is still generating its data

    (own_id,) = {label.partition("=")[2] for label in main_engine.removed}
    assert re.fullmatch(r"[0-9a-f]{12}", own_id)
    assert set(main_engine.removed) == {f"sandbox.batch={own_id}"}
    assert docker.running("sandbox.batch") == ["0123456789ab"] and not others[0].is_set()
    assert not (workspace / "runs" / "theirs" / "result.json").exists()
    stored = json.loads((workspace / "runs" / "run-sleeper" / "result.json").read_text())
    assert (stored["status"], stored["error_message"]) == ("ERROR", INTERRUPTED_REASON)

    fake.release.set()  # prep's data is ready: it must start no container
    deadline = time.monotonic() + 5
    while not fake.cancelled and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.cancelled == ["prep"]
    started = [tags["sandbox.batch"] for tags, _ in docker.containers]
    assert started == [own_id, "0123456789ab"]  # the sleeper's and the other process's


@dataclasses.dataclass
class _Image:
    reference: str = "sandbox/sklearn-1.2:fake"
    built_now: bool = False


def test_a_run_the_infrastructure_stopped_shows_no_secret_value(tmp_path: Path) -> None:
    from sandbox.contract.resolve import Overrides, resolve_script
    from sandbox.errors import InfrastructureError
    from sandbox.runner import RunRequest, run_to_result

    script = tmp_path / "prep.py"
    script.write_text("print('hello')\n")
    environment = {"DB_PASSWORD": "hunter22", "MODE": "x"}
    resolved = resolve_script(script, None, Overrides(environment=environment))

    def engine_gone() -> fakes.FakeEngine:
        raise InfrastructureError("engine gone while hunter22 was set")

    result = run_to_result(RunRequest(script=str(script)), resolved, connect=engine_gone)
    assert result.status is Status.ERROR
    assert result.spec["environment"] == {"DB_PASSWORD": "***", "MODE": "x"}
    assert "hunter22" not in str(result.to_json_dict())
