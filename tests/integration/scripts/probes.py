"""Reports what the container looks like from inside, into its output channel."""

import json
import os

INPUT = "/opt/ml/processing/input/data"
OUTPUT = "/opt/ml/processing/output/probe"


def try_write_input():
    try:
        with open(os.path.join(INPUT, "tampered.txt"), "w") as handle:
            handle.write("x")
    except OSError as exc:
        return f"refused: {exc.strerror}"
    return "written"


def main(input_paths, output_paths, environ_vars, job_args):
    out = output_paths["probe"]
    with open("/opt/ml/config/processingjobconfig.json") as handle:
        job_config = json.load(handle)
    with open("/opt/ml/config/resourceconfig.json") as handle:
        resource_config = json.load(handle)
    report = {
        "uid": os.getuid(),
        "gid": os.getgid(),
        "interfaces": sorted(os.listdir("/sys/class/net")),
        "environ": sorted(os.environ),
        "home_writable": os.access(os.path.expanduser("~"), os.W_OK),
        "input_write": try_write_input(),
        "code_files": sorted(os.listdir("/opt/ml/processing/input/code")),
        "job_config": job_config,
        "resource_config": resource_config,
        "input_files": sorted(os.listdir(input_paths["data"])),
    }
    with open(os.path.join(out, "probe.json"), "w") as handle:
        json.dump(report, handle, sort_keys=True)


if __name__ == "__main__":
    main({"data": INPUT}, {"probe": OUTPUT}, {}, None)
