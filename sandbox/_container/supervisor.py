"""Run the entry point as a child and report exact resource figures at exit.

Usage: python3 supervisor.py --report FILE [--chown UID:GID PATH ...] -- COMMAND [ARG ...]

It is PID 1 of the container: it forwards SIGTERM and SIGINT to the child, reaps
orphans, passes the child's exit code through unchanged (128 + N for a signal), and at
exit writes FILE (JSON) with the cgroup's memory peak, page cache, the peak RSS of the
process tree, CPU seconds and wall seconds. The cgroup disappears when the container
exits, so this is the only moment the peak can still be read exactly.
"""

import json
import os
import resource
import signal
import subprocess
import sys
import time

CGROUP_V1 = "/sys/fs/cgroup/memory"
CGROUP_V2 = "/sys/fs/cgroup"


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


def parse_args(argv):
    report, owner, chown_paths = None, None, []
    index = 0
    while index < len(argv) and argv[index] != "--":
        if argv[index] == "--report":
            report = argv[index + 1]
            index += 2
        elif argv[index] == "--chown":
            owner = argv[index + 1]
            index += 2
        elif argv[index] == "--chown-path":
            chown_paths.append(argv[index + 1])
            index += 2
        else:
            raise SystemExit("supervisor: unknown option " + argv[index])
    return report, owner, chown_paths, argv[index + 1 :]


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


def hand_back(owner, paths):
    uid, gid = (int(part) for part in owner.split(":"))
    for top in paths:
        for folder, dirs, files in os.walk(top):
            for name in dirs + files:
                try:
                    os.lchown(os.path.join(folder, name), uid, gid)
                except OSError:
                    pass


def write_report(path, report):
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(report, handle)
    os.rename(temporary, path)


def main(argv):
    report_path, owner, chown_paths, command = parse_args(argv)
    if not command:
        raise SystemExit("supervisor: no command after --")
    forwarded = []
    children = []

    def forward(signum, _frame):
        forwarded.append(signum)
        for child in children:
            try:
                os.kill(child.pid, signum)
            except OSError:
                pass

    # Installed before the child starts, so a stop request is never lost in between;
    # one that arrives before the child exists is sent to it as soon as it does.
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    started = time.time()
    try:
        child = subprocess.Popen(command)
    except OSError as exc:
        sys.stderr.write("sandbox: cannot start %s: %s\n" % (command[0], exc))
        return 127
    children.append(child)
    for signum in forwarded:
        os.kill(child.pid, signum)
    status = wait_for(child.pid)
    child.returncode = exit_code_of(status)
    wall_s = time.time() - started
    reap_orphans()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = {
        "exit_code": child.returncode,
        "wall_s": wall_s,
        "cpu_user_s": usage.ru_utime,
        "cpu_system_s": usage.ru_stime,
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "signals_forwarded": forwarded,
    }
    report.update(cgroup_memory())
    if owner:
        hand_back(owner, chown_paths)
    if report_path:
        write_report(report_path, report)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
