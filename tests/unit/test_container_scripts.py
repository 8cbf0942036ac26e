"""The in-container scripts (sandbox.container._container), run on the host with this Python.

They are plain standard-library scripts, so a subprocess on the host exercises them
exactly as the container's ``python3`` would, minus the cgroup figures.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import sandbox.container._container
from sandbox.container import containerize
from sandbox.results.workspace import RunFolder

CONTAINER_DIR = Path(sandbox.container._container.__file__).resolve().parent
SUPERVISOR = CONTAINER_DIR / "supervisor.py"
MAIN_RUNNER = CONTAINER_DIR / "main_runner.py"
TIMEOUT_S = 10


# supervisor.py --------------------------------------------------------------------


def _supervise(report: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(SUPERVISOR),
            "--report",
            str(report),
            "--",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def _supervisor_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("sandbox_supervisor", SUPERVISOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_timeline_keeps_at_most_max_samples_evenly(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    supervisor = _supervisor_module()
    monkeypatch.setattr(supervisor, "MAX_SAMPLES", 8)
    timeline = supervisor.Timeline(lambda: (1, 2), time.time(), threading.Event())
    for _ in range(20):
        timeline.record()
    assert len(timeline.samples) < 8
    # full at the 8th, 12th, 16th and 20th sample: halved four times, the interval doubled
    assert len(timeline.samples) == 4
    assert timeline.interval_s == pytest.approx(supervisor.SAMPLE_INTERVAL_S * 16)
    assert all(memory == 1 and cpu == 2 for _, memory, cpu in timeline.samples)


def test_timeline_thread_samples_until_the_job_ends() -> None:
    import threading

    supervisor = _supervisor_module()
    finished = threading.Event()
    timeline = supervisor.Timeline(lambda: (5, None), time.time(), finished)
    thread = threading.Thread(target=timeline.run)
    thread.start()
    time.sleep(0.35)
    finished.set()
    thread.join(TIMEOUT_S)
    assert not thread.is_alive()
    assert 3 <= len(timeline.samples) <= 6  # one at start, ~every 0.1 s, one at the end
    times = [t for t, _, _ in timeline.samples]
    assert times == sorted(times)


def test_cgroup_file_reads_a_number_or_one_key_again_and_again(tmp_path: Path) -> None:
    supervisor = _supervisor_module()
    stat_file = tmp_path / "memory.stat"
    stat_file.write_text("cache 10\ntotal_inactive_file 7\ninactive_file 3\n")
    stat_ = supervisor.CgroupFile(str(stat_file))
    assert stat_.number(b"inactive_file") == 3
    assert stat_.number(b"total_inactive_file") == 7
    assert stat_.number(b"cache") == 10
    assert stat_.number(b"absent") is None
    usage_file = tmp_path / "usage"
    usage_file.write_text("4096\n")
    usage = supervisor.CgroupFile(str(usage_file))
    assert (usage.number(), usage.number()) == (4096, 4096)
    assert supervisor.CgroupFile(str(tmp_path / "absent")).number() is None
    assert supervisor.without(100, 30) == 70
    assert supervisor.without(100, 300) == 100
    assert supervisor.without(None, 3) is None


@pytest.mark.parametrize("code", [0, 3])
def test_supervisor_passes_the_exit_code_through(tmp_path: Path, code: int) -> None:
    report = tmp_path / "supervisor.json"
    done = _supervise(report, f"import sys; print('child out'); sys.exit({code})")
    assert done.returncode == code
    assert done.stdout == "child out\n"
    figures = json.loads(report.read_text(encoding="utf-8"))
    assert figures["exit_code"] == code
    assert {"exit_code", "wall_s", "cpu_user_s", "cpu_system_s", "peak_rss_bytes"} <= set(figures)
    assert figures["wall_s"] > 0
    assert figures["peak_rss_bytes"] > 1024 * 1024  # a Python child uses megabytes
    assert figures["signals_forwarded"] == []
    assert not (tmp_path / "supervisor.json.tmp").exists()


def test_supervisor_reports_which_input_channels_the_job_opened(tmp_path: Path) -> None:
    for name in ("train", "test", "code"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "part.csv").write_text("a\n1\n")
    run = RunFolder("r1", tmp_path / "run")
    run.supervisor.mkdir(parents=True)
    report = containerize.report_file(run)
    watch = ["--watch-input", str(tmp_path / "train"), "--watch-input", str(tmp_path / "test")]
    code = f"open({str(tmp_path / 'train' / 'part.csv')!r}).read()"
    watch += ["--watch-skip", str(tmp_path / "code"), "--report", str(report)]
    done = subprocess.run(
        [sys.executable, str(SUPERVISOR), *watch, "--", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text(encoding="utf-8"))["input_reads"] == {
        str(tmp_path / "train"): {"state": "read"},
        str(tmp_path / "test"): {"state": "unread"},
    }
    assert containerize.unread_inputs(run) == {str(tmp_path / "test")}


def test_only_a_channel_watched_whole_is_unread(tmp_path: Path) -> None:
    report = {
        "input_reads": {
            "/opt/ml/processing/input/a": {"state": "unread"},
            "/opt/ml/processing/input/b/": {"state": "unread"},
            "/opt/ml/processing/input/c": {"state": "unknown", "reason": "no inotify"},
            "/opt/ml/processing/input/d": {"state": "read"},
            "/opt/ml/processing/input/e": None,
        }
    }
    run = RunFolder("r1", tmp_path)
    run.supervisor.mkdir()
    containerize.report_file(run).write_text(json.dumps(report))
    assert containerize.unread_inputs(run) == {
        "/opt/ml/processing/input/a",
        "/opt/ml/processing/input/b",
    }
    containerize.report_file(run).write_text('{"exit_code": 0}')
    assert containerize.unread_inputs(run) == set()
    containerize.report_file(run).unlink()
    assert containerize.unread_inputs(run) == set()


def test_a_report_that_cannot_be_written_leaves_the_scripts_exit_code(tmp_path: Path) -> None:
    # As on a full disk: the script's own verdict must not become the supervisor's crash.
    done = _supervise(tmp_path / "gone" / "supervisor.json", "import sys; sys.exit(0)")
    assert done.returncode == 0
    assert "supervisor report not written" in done.stderr
    assert "Traceback" not in done.stderr


def test_supervisor_reports_a_signal_as_128_plus_n(tmp_path: Path) -> None:
    report = tmp_path / "supervisor.json"
    done = _supervise(report, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert done.returncode == 128 + signal.SIGKILL
    assert json.loads(report.read_text(encoding="utf-8"))["exit_code"] == 137


def test_supervisor_cannot_start_the_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SUPERVISOR), "--", str(tmp_path / "no-such-program")],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 127
    assert "cannot start" in done.stderr


def test_supervisor_forwards_sigterm_to_the_child(tmp_path: Path) -> None:
    ready, marker, report = tmp_path / "ready", tmp_path / "marker", tmp_path / "report.json"
    child = textwrap.dedent(
        f"""
        import signal, sys, time
        def stop(signum, frame):
            open({str(marker)!r}, "w").write(str(signum))
            sys.exit(0)
        signal.signal(signal.SIGTERM, stop)
        open({str(ready)!r}, "w").close()
        time.sleep(30)
        sys.exit(5)
        """
    )
    process = subprocess.Popen(
        [
            sys.executable,
            str(SUPERVISOR),
            "--report",
            str(report),
            "--",
            sys.executable,
            "-c",
            child,
        ]
    )
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not ready.exists():
            assert time.monotonic() < deadline, "the child never got ready"
            assert process.poll() is None, "the supervisor exited early"
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=TIMEOUT_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert marker.read_text(encoding="utf-8") == str(int(signal.SIGTERM))
    figures = json.loads(report.read_text(encoding="utf-8"))
    assert figures["signals_forwarded"] == [int(signal.SIGTERM)]
    assert figures["exit_code"] == 0


# main_runner.py -------------------------------------------------------------------


def _run_main(
    tmp_path: Path, source: str, filename: str = "job.py", *, as_module: str | None = None
) -> tuple[int, str, Path]:
    """Run ``source`` as a script under the main runner; return (code, stderr, report)."""
    code_dir = tmp_path / "code"
    script = code_dir / filename
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(textwrap.dedent(source), encoding="utf-8")
    report = tmp_path / "main.json"
    call = {
        "script": f"module:{as_module}" if as_module else str(script),
        "code_dir": str(code_dir),
        "input_paths": {"data": "/opt/ml/processing/input/data"},
        "output_paths": {"train": str(tmp_path)},
        "environ_vars": {"LABEL_FIELD": "y"},
        "job_args": {"job_type": "training", "ratio": None},
        "report": str(report),
    }
    call_file = tmp_path / "call.json"
    call_file.write_text(json.dumps(call), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(MAIN_RUNNER), str(call_file)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
        cwd=tmp_path,
    )
    return done.returncode, done.stderr, report


def _report(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


RECORDING_MAIN = """
    import json, os

    def main(input_paths, output_paths, environ_vars, job_args):
        record = {
            "input_paths": input_paths,
            "output_paths": output_paths,
            "environ_vars": environ_vars,
            "job_type": job_args.job_type,
            "ratio": job_args.ratio,
        }
        with open(os.path.join(output_paths["train"], "seen.json"), "w") as handle:
            json.dump(record, handle)
"""


def test_main_runner_calls_main_with_the_four_arguments(tmp_path: Path) -> None:
    code, stderr, report = _run_main(tmp_path, RECORDING_MAIN)
    assert code == 0, stderr
    seen = json.loads((tmp_path / "seen.json").read_text(encoding="utf-8"))
    assert seen == {
        "input_paths": {"data": "/opt/ml/processing/input/data"},
        "output_paths": {"train": str(tmp_path)},
        "environ_vars": {"LABEL_FIELD": "y"},
        "job_type": "training",
        "ratio": None,
    }
    assert _report(report) == {"returned": True}


def test_main_runner_loads_a_file_name_that_is_not_an_identifier(tmp_path: Path) -> None:
    code, stderr, _ = _run_main(tmp_path, RECORDING_MAIN, filename="tabular-job.py")
    assert code == 0, stderr
    assert (tmp_path / "seen.json").is_file()


def test_main_runner_imports_a_package_module_with_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "code" / "jobs"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "helpers.py").write_text("LABEL = 'from helpers'\n", encoding="utf-8")
    source = """
        import sys
        from .helpers import LABEL

        def main(input_paths, output_paths, environ_vars, job_args):
            sys.stderr.write(LABEL + " " + __name__ + "\\n")
    """
    code, stderr, report = _run_main(tmp_path, source, "jobs/tabular.py", as_module="jobs.tabular")
    assert code == 0, stderr
    assert "from helpers jobs.tabular" in stderr
    assert _report(report) == {"returned": True}


def test_main_runner_passes_a_callable_logger_when_main_asks(tmp_path: Path) -> None:
    source = """
        def main(input_paths, output_paths, environ_vars, job_args, logger):
            assert callable(logger), type(logger)
            logger("rows: %d", 42)
            logger.info("via info")
    """
    code, stderr, _ = _run_main(tmp_path, source)
    assert code == 0, stderr
    assert "rows: 42" in stderr
    assert "via info" in stderr


def test_main_runner_logger_is_callable_even_if_the_module_made_one(tmp_path: Path) -> None:
    # The usual `logger = logging.getLogger(__name__)` at module level must not turn the
    # injected logger into a plain, non-callable Logger.
    source = """
        import logging
        log = logging.getLogger(__name__)

        def main(input_paths, output_paths, environ_vars, job_args, logger=None):
            logger("rows: %d", 42)
    """
    code, stderr, _ = _run_main(tmp_path, source)
    assert code == 0, stderr
    assert "rows: 42" in stderr


def test_main_runner_passes_no_logger_to_main_without_the_parameter(tmp_path: Path) -> None:
    source = """
        import sys

        def main(input_paths, output_paths, environ_vars, job_args, **extra):
            sys.exit(10 + len(extra))
    """
    code, stderr, report = _run_main(tmp_path, source)
    assert code == 10, stderr
    assert _report(report) == {"sys_exit_code": 10}


@pytest.mark.parametrize(
    ("statement", "code"), [("sys.exit(3)", 3), ("sys.exit()", 0), ("sys.exit('bad input')", 1)]
)
def test_main_runner_reports_sys_exit_and_exits_with_it(
    tmp_path: Path, statement: str, code: int
) -> None:
    source = f"""
        import sys

        def main(input_paths, output_paths, environ_vars, job_args):
            {statement}
    """
    exit_code, stderr, report = _run_main(tmp_path, source)
    assert exit_code == code
    assert _report(report) == {"sys_exit_code": code}
    if code == 1:
        assert "bad input" in stderr


def test_main_runner_exception_propagates_as_a_traceback(tmp_path: Path) -> None:
    source = """
        def main(input_paths, output_paths, environ_vars, job_args):
            raise KeyError("label")
    """
    code, stderr, report = _run_main(tmp_path, source)
    assert code == 1
    assert stderr.strip().splitlines()[-1] == "KeyError: 'label'"
    assert not report.exists()


def test_main_runner_without_main_exits_2(tmp_path: Path) -> None:
    code, stderr, report = _run_main(tmp_path, "VALUE = 1\n")
    assert code == 2
    assert "defines no main()" in stderr
    assert _report(report) == {"missing_main": True}


def test_main_runner_script_named_like_a_loaded_stdlib_module(tmp_path: Path) -> None:
    # main_runner imports `inspect` itself; a script called inspect.py must still be
    # the module whose main() runs, not the cached standard-library module.
    code, stderr, _ = _run_main(tmp_path, RECORDING_MAIN, filename="inspect.py")
    assert code == 0, stderr
    assert (tmp_path / "seen.json").is_file()


def test_supervisor_stops_the_job_when_the_controller_heartbeat_goes_silent(
    tmp_path: Path,
) -> None:
    heartbeat = tmp_path / "heartbeat"
    heartbeat.touch()
    marker = tmp_path / "stopped"
    child = textwrap.dedent(
        f"""
        import signal, sys, time
        def on_term(*_):
            open({str(marker)!r}, "w").write("stopped")
            sys.exit(0)
        signal.signal(signal.SIGTERM, on_term)
        time.sleep(60)
        """
    )
    report = tmp_path / "report.json"
    started = time.monotonic()
    completed = subprocess.run(
        [
            sys.executable,
            str(SUPERVISOR),
            "--report",
            str(report),
            "--heartbeat",
            str(heartbeat),
            "--heartbeat-timeout",
            "1",
            "--",
            sys.executable,
            "-c",
            child,
        ],
        timeout=30,
    )
    assert completed.returncode == 0
    assert time.monotonic() - started < 10
    assert marker.read_text() == "stopped"
    assert json.loads(report.read_text())["abandoned_after_s"] >= 1


def test_supervisor_leaves_a_job_alone_while_the_heartbeat_is_fresh(tmp_path: Path) -> None:
    heartbeat = tmp_path / "heartbeat"
    heartbeat.touch()
    report = tmp_path / "report.json"
    completed = subprocess.run(
        [
            sys.executable,
            str(SUPERVISOR),
            "--report",
            str(report),
            "--heartbeat",
            str(heartbeat),
            "--heartbeat-timeout",
            "30",
            "--",
            sys.executable,
            "-c",
            "import time; time.sleep(2.5)",
        ],
        timeout=30,
    )
    assert completed.returncode == 0
    assert json.loads(report.read_text())["abandoned_after_s"] is None


def test_supervisor_hands_back_outputs_safe_to_keep(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    code = textwrap.dedent(
        f"""
        import os, socket
        os.mkfifo({str(outputs / "pipe")!r})
        socket.socket(socket.AF_UNIX).bind({str(outputs / "sock")!r})
        with open({str(outputs / "tool")!r}, "w") as handle:
            handle.write("x")
        os.chmod({str(outputs / "tool")!r}, 0o6777)
        os.symlink("tool", {str(outputs / "link")!r})
        """
    )
    report = tmp_path / "report.json"
    owner = f"{os.getuid()}:{os.getgid()}"
    options = ["--report", str(report), "--chown", owner, "--chown-path", str(outputs)]
    completed = subprocess.run(
        [sys.executable, str(SUPERVISOR), *options, "--", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in outputs.iterdir()) == ["link", "tool"]
    assert stat.S_IMODE((outputs / "tool").lstat().st_mode) == 0o775
    assert sorted(json.loads(report.read_text())["removed_special_files"]) == [
        f"{outputs / 'pipe'} (FIFO)",
        f"{outputs / 'sock'} (socket)",
    ]


def test_supervisor_records_a_signal_on_arrival_even_if_it_is_killed_next(
    tmp_path: Path,
) -> None:
    ready, signals = tmp_path / "ready", tmp_path / "signals.json"
    child = textwrap.dedent(
        f"""
        import os, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor = os.getppid()
        open({str(ready)!r}, "w").close()
        deadline = time.monotonic() + 30
        while os.getppid() == supervisor and time.monotonic() < deadline:
            time.sleep(0.05)  # ends once the supervisor is gone
        """
    )
    command = [sys.executable, str(SUPERVISOR), "--signals", str(signals), "--"]
    process = subprocess.Popen([*command, sys.executable, "-c", child])
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not ready.exists():
            assert time.monotonic() < deadline, "the child never got ready"
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        while not signals.exists():
            assert time.monotonic() < deadline, "the signal was not recorded"
            time.sleep(0.01)
    finally:
        process.kill()  # as the engine does after its grace period
        process.wait()
    assert json.loads(signals.read_text(encoding="utf-8")) == [int(signal.SIGTERM)]
