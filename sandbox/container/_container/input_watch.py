"""Which input channels the job opened anything in, as the kernel saw it (inotify).

The supervisor makes an ``InputWatch`` before it starts the job and asks for its
``report()`` after the job exited: ``{path: {"state": "read" | "unread" | "unknown"}}``.

Every folder of each channel is watched for IN_OPEN before the job starts, so an open by
any process of the job counts: Python's ``open``, a listing, a native reader (pyarrow
opens files in C++, where no Python hook sees it), a subprocess. A ``stat`` does not.
Watches are one-shot: the kernel drops each at its first event, so a job that opens
thousands of files pays for one event per folder. Where the record cannot be complete
(no inotify, a channel too large to watch, the event queue overflowed) the state is
"unknown", never "unread".

Paths in ``skip`` (the code folder, a channel nested in another) are not part of an
enclosing channel: they are not watched with it, and opening them does not read it.

A file bind-mounted into a folder (the input root read as one channel is mounted entry by
entry) is watched itself: the kernel reports its opens to the folder it comes from on
the host, not to the folder it is mounted in.
"""

import errno
import os
import re
import struct

IN_OPEN = 0x00000020
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONESHOT = 0x80000000
MAX_WATCHES = 4096
"""Folders and linked files watched per job; a larger channel is "unknown"."""
MAX_ENTRIES = 100000
"""Entries looked at per job before the start; beyond, a channel is "unknown"."""
READ_BYTES = 65536
EVENT = struct.Struct("iIII")


def inode_of(path):
    """(st_dev, st_ino) of what ``path`` names, links followed; None when it is gone."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino)


class Incomplete(Exception):
    """A channel whose every open cannot be seen."""


class InputWatch:
    """IN_OPEN watches on every folder of each input channel, set up at once."""

    def __init__(self, paths, skip=(), libc=None):
        self.paths = [os.path.normpath(path) for path in paths]
        self.skip = set(os.path.normpath(path) for path in skip) | set(self.paths)
        self.states = dict((path, "unknown") for path in self.paths)
        self.reasons = {}
        self.watches = {}  # watch descriptor -> (channel, watched path)
        self.inodes = {}  # (st_dev, st_ino) watched -> channel
        self.budget = {"watches": MAX_WATCHES, "entries": MAX_ENTRIES}
        self.mounts = set()
        self.libc = libc
        self.fd = -1
        try:
            self.libc = libc or load_libc()
            self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        except (OSError, AttributeError, ImportError) as exc:
            self.fail_all("no inotify: %s" % exc)
            return
        if self.fd < 0:
            self.fail_all("no inotify instance: %s" % os.strerror(self.libc.errno()))
            return
        try:
            self.mounts = mount_points()
        except OSError as exc:
            self.fail_all("no mount table: %s" % exc)
            return
        self.watch_all()

    def watch_all(self):
        # Every channel is looked at before any is watched: looking opens folders.
        planned = []
        for path in self.paths:
            try:
                planned.append((path, self.targets(path)))
            except (Incomplete, OSError) as exc:
                self.reasons[path] = str(exc)
        for path, targets in planned:
            self.watch_channel(path, targets)

    def fail_all(self, reason):
        for path in self.paths:
            self.reasons[path] = reason

    def watch_channel(self, channel, targets):
        """Watch every target of one channel; on failure the channel stays unknown."""
        added = []
        try:
            for path, keep, link in targets:
                # A watch belongs to an inode: adding it again for another channel would
                # replace the first channel's mask, so a shared one is refused first.
                inode = inode_of(path)
                if self.inodes.get(inode, channel) != channel:
                    raise Incomplete("%s is shared with another channel" % path)
                wd = self.add(path, keep)
                if wd is None and link:
                    continue  # a dangling link: nothing can be read through it
                if wd is None:
                    raise Incomplete("cannot watch %s" % path)
                if self.watches.get(wd, (channel,))[0] != channel:
                    raise Incomplete("%s is shared with another channel" % path)
                self.watches[wd] = (channel, path)
                if inode is not None:
                    self.inodes[inode] = channel
                added.append(wd)
        except Incomplete as exc:
            for wd in added:
                self.libc.inotify_rm_watch(self.fd, wd)
                self.watches.pop(wd, None)
            self.inodes = dict(
                (key, owner) for key, owner in self.inodes.items() if owner != channel
            )
            self.reasons[channel] = str(exc)
            return
        self.states[channel] = "unread"

    def targets(self, channel):
        """(path, keep, link) to watch: every folder of the channel (links followed,
        each folder once), and files reached through a link, which the kernel reports
        to the target's own folder. ``keep``: a folder holding a skipped path stays
        watched after its first event, which may be an open of that path."""
        if not os.path.isdir(channel):
            return [(channel, False, False)]
        found, seen, pending = [], set(), [channel]
        while pending:
            folder = pending.pop()
            status = os.stat(folder)
            if (status.st_dev, status.st_ino) in seen:
                continue
            seen.add((status.st_dev, status.st_ino))
            keep = False
            for entry in scan(folder, self.budget):
                if entry.path in self.skip:
                    keep = True
                elif entry.is_dir():
                    pending.append(entry.path)
                elif entry.is_symlink():
                    found.append((entry.path, False, True))
                elif entry.path in self.mounts:
                    found.append((entry.path, False, False))
            found.append((folder, keep, False))
            if len(found) > self.budget["watches"]:
                raise Incomplete("more than %d folders to watch" % MAX_WATCHES)
        self.budget["watches"] -= len(found)
        return found

    def add(self, path, keep):
        mask = IN_OPEN if keep else IN_OPEN | IN_ONESHOT
        wd = self.libc.inotify_add_watch(self.fd, os.fsencode(path), mask)
        return wd if wd >= 0 else None

    def report(self):
        """Each channel's state, from the events queued while the job ran."""
        if self.fd >= 0:
            try:
                self.read_events()
            finally:
                os.close(self.fd)
                self.fd = -1
        report = {}
        for path in self.paths:
            report[path] = {"state": self.states[path]}
            if path in self.reasons:
                report[path]["reason"] = self.reasons[path]
        return report

    def read_events(self):
        while True:
            try:
                data = os.read(self.fd, READ_BYTES)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                    self.lose_unread("events not read: %s" % exc)
                return
            if not data:
                return
            for wd, mask, name in events(data):
                if mask & IN_Q_OVERFLOW:
                    self.lose_unread("the event queue overflowed")
                elif not mask & IN_IGNORED and wd in self.watches:
                    self.record(wd, name)

    def record(self, wd, name):
        channel, path = self.watches[wd]
        opened = path + "/" + name if name else path
        if opened not in self.skip or opened == channel:
            self.states[channel] = "read"

    def lose_unread(self, reason):
        for path, state in self.states.items():
            if state == "unread":
                self.states[path] = "unknown"
                self.reasons[path] = reason


def scan(folder, budget):
    with os.scandir(folder) as entries:
        for entry in entries:
            budget["entries"] -= 1
            if budget["entries"] < 0:
                raise Incomplete("more than %d entries to look at" % MAX_ENTRIES)
            yield entry


def mount_points(mountinfo="/proc/self/mountinfo"):
    """Every mount point of this mount namespace (the fifth field of each line, its
    spaces and other special bytes written as octal escapes)."""
    with open(mountinfo, "rb") as handle:
        lines = handle.read().splitlines()
    points = set()
    for line in lines:
        fields = line.split(b" ")
        if len(fields) > 4:
            unescaped = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), fields[4])
            points.add(os.fsdecode(unescaped))
    return points


def events(data):
    """(wd, mask, name) of each ``struct inotify_event`` in ``data``."""
    offset = 0
    while offset + EVENT.size <= len(data):
        wd, mask, _cookie, length = EVENT.unpack_from(data, offset)
        start = offset + EVENT.size
        name = data[start : start + length].split(b"\0", 1)[0]
        yield wd, mask, os.fsdecode(name)
        offset = start + length


class Libc:
    """The three inotify calls of the C library, with ``errno`` after a failure."""

    def __init__(self):
        import ctypes

        self.ctypes = ctypes
        self.cdll = ctypes.CDLL(None, use_errno=True)
        self.inotify_init1 = self.cdll.inotify_init1
        self.inotify_add_watch = self.cdll.inotify_add_watch
        self.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self.inotify_rm_watch = self.cdll.inotify_rm_watch

    def errno(self):
        return self.ctypes.get_errno()


def load_libc():
    return Libc()
