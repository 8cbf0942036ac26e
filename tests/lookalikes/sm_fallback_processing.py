"""A processing script that mentions SM_MODEL_DIR in a fallback and SM_CHANNEL_DATA in a
debug print: it is still a processing script."""

import os
import tempfile

DATA_DIR = "/opt/ml/processing/input/data"
OUT_DIR = "/opt/ml/processing/output/result"


def scratch_dir() -> str:
    return os.environ.get("SM_MODEL_DIR", tempfile.gettempdir())


if __name__ == "__main__":
    print("channel:", os.environ.get("SM_CHANNEL_DATA", "(not training)"))
    names = sorted(os.listdir(DATA_DIR))
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "files.txt"), "w") as handle:
        handle.write("\n".join(names) + "\n")
    print("scratch:", scratch_dir())
