"""Leaves a FIFO, a socket, a setuid 0777 file and a 0777 folder in its output, and
records the privileges it ran with."""

import os
import socket

OUTPUT = "/opt/ml/processing/output/result"


def status_fields():
    with open("/proc/self/status") as handle:
        pairs = (line.split(":", 1) for line in handle if ":" in line)
        return {key: value.strip() for key, value in pairs}


if __name__ == "__main__":
    os.mkfifo(os.path.join(OUTPUT, "pipe"))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(os.path.join(OUTPUT, "sock"))
    listener.close()
    tool = os.path.join(OUTPUT, "tool")
    with open(tool, "w") as handle:
        handle.write("#!/bin/sh\n")
    os.chmod(tool, 0o4777)
    shared = os.path.join(OUTPUT, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o777)
    fields = status_fields()
    with open(os.path.join(OUTPUT, "status.txt"), "w") as handle:
        handle.write(f"uid {os.getuid()}\n")
        handle.write(f"NoNewPrivs {fields.get('NoNewPrivs')}\n")
        handle.write(f"CapEff {fields.get('CapEff')}\n")
