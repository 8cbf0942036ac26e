"""Run the entry point as a child and report exact resource figures at exit.

Usage: python3 supervisor.py [--report FILE] [--timeline FILE]
       [--chown UID:GID --chown-path PATH ...]
       [--heartbeat FILE --heartbeat-timeout SECONDS] [--signals FILE]
       [--watch-input PATH ... --watch-skip PATH ...] -- COMMAND [ARG ...]

It is PID 1 of the container: it forwards SIGTERM and SIGINT to the child, reaps
orphans, passes the child's exit code through unchanged (128 + N for a signal), and at
exit writes FILE (JSON) with the cgroup's memory peak, page cache, the peak RSS of the
process tree, CPU seconds, wall seconds, and the forks the pids limit refused. The
cgroup disappears when the container exits, so this is the only moment the peak can
still be read exactly.

With ``--timeline``, a thread reads the cgroup's memory (without inactive page cache, as
``docker stats``) and CPU counter every 0.1 s while the job runs, sleeping in between,
and at exit writes FILE (JSON): ``{"samples": [[t_s, memory_bytes, cpu_usec], ...]}``.
At most MAX_SAMPLES are kept: when full, every other one is dropped and the interval
doubles, so a long run keeps an even timeline of bounded size.

With ``--chown`` (a root job), it hands the contents of each ``--chown-path`` to
UID:GID after the child exits, made safe to keep: device nodes, FIFOs and sockets are
removed and listed in the report, setuid, setgid and world-writable bits cleared.

With ``--heartbeat``, it stops the job (SIGTERM, then SIGKILL) when the controller has
not touched FILE for SECONDS: a controller that was killed, or that lost the engine,
can no longer stop the container itself.

With ``--signals``, every signal it receives is recorded in FILE (a JSON list) at once:
a job stopped from outside (the engine shutting down, ``docker stop``) may be killed
before any report is written, and this record tells it apart from a script's own exit.

With ``--watch-input PATH`` (repeated; ``--watch-skip PATH`` for the code folder), the
report's ``input_reads`` says for each input channel whether the job opened anything in
it: "read", "unread" or "unknown" (see input_watch.py).
"""

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
import time

CGROUP_V1 = "/sys/fs/cgroup/memory"
CGROUP_V1_PIDS = "/sys/fs/cgroup/pids"
STOP_GRACE_S = 2.0
"""Between SIGTERM and SIGKILL for an abandoned job: nobody waits for its outputs."""
WATCH_PERIOD_S = 0.5
CGROUP_V2 = "/sys/fs/cgroup"
CGROUP_V1_CPU = ("/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu")
SAMPLE_INTERVAL_S = 0.1
MAX_SAMPLES = 1200


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


def read_int(path):
    text = read_text(path)
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def read_keyed(path):
    text = read_text(path) or ""
    values = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            values[parts[0]] = int(parts[1])
    return values


def cgroup_memory():
    """Peak, page cache and OOM kills of this container's memory cgroup."""
    if os.path.exists(CGROUP_V1 + "/memory.max_usage_in_bytes"):
        stat = read_keyed(CGROUP_V1 + "/memory.stat")
        return {
            "cgroup_version": 1,
            "peak_memory_bytes": read_int(CGROUP_V1 + "/memory.max_usage_in_bytes"),
            "page_cache_bytes": stat.get("total_cache", stat.get("cache")),
            "oom_kill_count": read_keyed(CGROUP_V1 + "/memory.oom_control").get("oom_kill"),
            "memory_limit_bytes": read_int(CGROUP_V1 + "/memory.limit_in_bytes"),
        }
    if os.path.exists(CGROUP_V2 + "/memory.current"):
        stat = read_keyed(CGROUP_V2 + "/memory.stat")
        return {
            "cgroup_version": 2,
            "peak_memory_bytes": read_int(CGROUP_V2 + "/memory.peak"),
            "page_cache_bytes": stat.get("file"),
            "oom_kill_count": read_keyed(CGROUP_V2 + "/memory.events").get("oom_kill"),
            "memory_limit_bytes": read_int(CGROUP_V2 + "/memory.max"),
        }
    return {"cgroup_version": None}


def cgroup_pids():
    """The pids limit, how many forks it refused, and the peak number of tasks."""
    for folder in (CGROUP_V2, CGROUP_V1_PIDS):
        if os.path.exists(folder + "/pids.max"):
            limit = (read_text(folder + "/pids.max") or "").strip()
            return {
                "pids_limit": int(limit) if limit.isdigit() else None,
                "pids_limit_hits": read_keyed(folder + "/pids.events").get("max"),
                "peak_pids": read_int(folder + "/pids.peak"),
            }
    return {}


def cgroup_sampler():
    """A function returning (memory bytes without inactive page cache, CPU microseconds)
    of this container's cgroup, or None when neither cgroup version is readable. The
    files stay open and are re-read from offset 0: a sample costs a few system calls."""
    if os.path.exists(CGROUP_V1 + "/memory.usage_in_bytes"):
        cpu = next((f for f in CGROUP_V1_CPU if os.path.exists(f + "/cpuacct.usage")), None)
        usage = CgroupFile(CGROUP_V1 + "/memory.usage_in_bytes")
        stat = CgroupFile(CGROUP_V1 + "/memory.stat")
        cpu_ns = CgroupFile(cpu + "/cpuacct.usage" if cpu else None)

        def sample_v1():
            nanoseconds = cpu_ns.number()
            return (
                without(usage.number(), stat.number(b"total_inactive_file")),
                nanoseconds // 1000 if nanoseconds is not None else None,
            )

        return sample_v1
    if os.path.exists(CGROUP_V2 + "/memory.current"):
        current = CgroupFile(CGROUP_V2 + "/memory.current")
        stat = CgroupFile(CGROUP_V2 + "/memory.stat")
        cpu_stat = CgroupFile(CGROUP_V2 + "/cpu.stat")

        def sample_v2():
            return (
                without(current.number(), stat.number(b"inactive_file")),
                cpu_stat.number(b"usage_usec"),
            )

        return sample_v2
    return None


class CgroupFile:
    """One cgroup file kept open; ``number()`` re-reads it whole, or one key of it."""

    def __init__(self, path):
        try:
            self.fd = os.open(path, os.O_RDONLY) if path else None
        except OSError:
            self.fd = None

    def number(self, key=None):
        if self.fd is None:
            return None
        try:
            text = b"\n" + os.pread(self.fd, 16384, 0)
            if key is not None:
                found = text.find(b"\n" + key + b" ")
                if found < 0:
                    return None
                text = text[found + len(key) + 2 :].split(b"\n", 1)[0]
            return int(text)
        except (OSError, ValueError):
            return None


def without(usage, inactive):
    if usage is None:
        return None
    return usage - inactive if inactive is not None and inactive < usage else usage


class Timeline:
    """Samples of the cgroup taken on a thread until ``finished`` is set; bounded."""

    def __init__(self, sample, started, finished):
        self.sample, self.started, self.finished = sample, started, finished
        self.samples, self.interval_s = [], SAMPLE_INTERVAL_S

    def run(self):
        while True:
            self.record()
            if self.finished.wait(self.interval_s):
                self.record()  # the last figures, as the job ends
                return

    def record(self):
        memory_bytes, cpu_usec = self.sample()
        self.samples.append([round(time.time() - self.started, 3), memory_bytes, cpu_usec])
        if len(self.samples) >= MAX_SAMPLES:
            del self.samples[1::2]
            self.interval_s *= 2


def start_timeline(started, finished):
    sample = cgroup_sampler()
    if sample is None:
        return None
    timeline = Timeline(sample, started, finished)
    thread = threading.Thread(target=timeline.run)
    thread.daemon = True
    thread.start()
    return timeline, thread


OPTIONS = {
    "--report": "report",
    "--timeline": "timeline",
    "--chown": "owner",
    "--chown-path": "chown_paths",
    "--heartbeat": "heartbeat",
    "--heartbeat-timeout": "heartbeat_timeout",
    "--signals": "signals",
    "--watch-input": "watch_inputs",
    "--watch-skip": "watch_skip",
}
REPEATED = ("chown_paths", "watch_inputs", "watch_skip")


def parse_args(argv):
    """Options up to ``--``, then the command; the options of REPEATED may repeat."""
    options = dict((key, []) for key in REPEATED)
    index = 0
    while index < len(argv) and argv[index] != "--":
        key = OPTIONS.get(argv[index])
        if key is None or index + 1 >= len(argv):
            raise SystemExit("supervisor: bad option " + argv[index])
        if key in REPEATED:
            options[key].append(argv[index + 1])
        else:
            options[key] = argv[index + 1]
        index += 2
    return options, argv[index + 1 :]


def exit_code_of(status):
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def wait_for(child_pid):
    """Reap every child until ours exits; orphans are reparented to PID 1."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        if pid == child_pid:
            return status


def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


SPECIAL_FILES = (
    (stat.S_ISBLK, "block device"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
)
UNSAFE_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_IWOTH


def hand_back(owner, paths):
    """Give everything under ``paths`` to ``owner``, made safe to own: device nodes,
    FIFOs and sockets are removed (and returned, as ``path (kind)``), setuid, setgid
    and world-writable bits cleared. Symlinks are changed, never followed."""
    uid, gid = (int(part) for part in owner.split(":"))
    removed = []
    for top in paths:
        for folder, dirs, files in os.walk(top):
            for name in dirs + files:
                removed.extend(hand_back_one(os.path.join(folder, name), uid, gid))
    return removed


def hand_back_one(path, uid, gid):
    try:
        mode = os.lstat(path).st_mode
        for is_kind, kind in SPECIAL_FILES:
            if is_kind(mode):
                os.unlink(path)
                return ["%s (%s)" % (path, kind)]
        os.lchown(path, uid, gid)
        if not stat.S_ISLNK(mode) and mode & UNSAFE_BITS:
            os.chmod(path, stat.S_IMODE(mode) & ~UNSAFE_BITS)
    except OSError:
        pass
    return []


def write_report(path, report):
    temporary = path + ".tmp"
    try:
        # Private, as the run folder it lands in.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(report, handle)
        os.rename(temporary, path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def watch_controller(path, timeout_s, child, finished, abandoned):
    """Stop the job when the controller stops touching ``path``: it died or lost the
    engine, and nobody would stop or remove this container otherwise. (Only the main
    thread reaps children; this one watches ``finished`` instead of polling.)"""
    while not finished.wait(WATCH_PERIOD_S):
        try:
            age_s = time.time() - os.stat(path).st_mtime
        except OSError:
            age_s = timeout_s + 1
        if age_s > timeout_s:
            abandoned.append(round(age_s, 1))
            stop(child, finished)
            return


def stop(child, finished):
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(child.pid, signum)
        except OSError:
            return
        if finished.wait(STOP_GRACE_S):
            return


def start_child(command, forwarded, children, signals_path=None):
    def forward(signum, _frame):
        forwarded.append(signum)
        if signals_path:
            try:
                write_report(signals_path, forwarded)
            except OSError:
                pass
        for running in children:
            try:
                os.kill(running.pid, signum)
            except OSError:
                pass

    # Installed before the child starts, so a stop request is never lost in between;
    # one that arrives before the child exists is sent to it as soon as it does.
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    child = subprocess.Popen(command)
    children.append(child)
    for signum in list(forwarded):
        os.kill(child.pid, signum)
    return child


def measure(exit_code, started, forwarded, abandoned):
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    report = {
        "exit_code": exit_code,
        "supervisor_cpu_s": own.ru_utime + own.ru_stime,
        "wall_s": time.time() - started,
        "cpu_user_s": usage.ru_utime,
        "cpu_system_s": usage.ru_stime,
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "signals_forwarded": forwarded,
        "abandoned_after_s": abandoned[0] if abandoned else None,
    }
    report.update(cgroup_memory())
    report.update(cgroup_pids())
    return report


def main(argv):
    options, command = parse_args(argv)
    if not command:
        raise SystemExit("supervisor: no command after --")
    forwarded, children, abandoned = [], [], []
    watch = watch_inputs(options["watch_inputs"], options["watch_skip"])
    started = time.time()
    try:
        child = start_child(command, forwarded, children, options.get("signals"))
    except OSError as exc:
        sys.stderr.write("sandbox: cannot start %s: %s\n" % (command[0], exc))
        return 127
    finished = threading.Event()
    sampling = start_timeline(started, finished) if options.get("timeline") else None
    if options.get("heartbeat"):
        timeout_s = float(options.get("heartbeat_timeout", 60))
        watchdog = threading.Thread(
            target=watch_controller,
            args=(options["heartbeat"], timeout_s, child, finished, abandoned),
        )
        watchdog.daemon = True
        watchdog.start()
    exit_code = exit_code_of(wait_for(child.pid))
    finished.set()
    child.returncode = exit_code
    reap_orphans()
    if sampling is not None:
        sampling[1].join(1.0)
    report = measure(exit_code, started, forwarded, abandoned)
    if watch is not None:
        report["input_reads"] = quietly(watch.report)
    if options.get("owner"):
        report["removed_special_files"] = hand_back(options["owner"], options["chown_paths"])
    # The report first: on a full disk it matters more than the timeline.
    if options.get("report"):
        write_quietly(options["report"], report, "supervisor report")
    if sampling is not None:
        write_quietly(options["timeline"], {"samples": sampling[0].samples}, "timeline")
    return exit_code


def watch_inputs(paths, skip):
    """The watch on the input channels, set before the job starts; None without
    channels, or when it cannot be made (the report then has no ``input_reads``)."""
    if not paths:
        return None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import input_watch

        return input_watch.InputWatch(paths, skip)
    except Exception:  # a watch never stops the job from running
        return None
    finally:
        del sys.path[0]


def quietly(make):
    try:
        return make()
    except Exception:  # a record that failed is no record
        return None


def write_quietly(path, report, what):
    """Write a report; a failure (a full disk) is said on stderr, and the script's exit
    code still stands."""
    try:
        write_report(path, report)
    except OSError as exc:
        sys.stderr.write("sandbox: %s not written: %s\n" % (what, exc))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
