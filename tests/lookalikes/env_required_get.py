"""Reads its variables with .get, refuses to run without one, and reads others through
helpers: a float helper and a dict of defaults."""

import os
import sys

DEFAULTS = {"SAMPLING_MODE": "balanced", "SEED": "7"}


def _float_env(name, default):
    raw = os.environ.get(name)
    return default if raw in (None, "", "None") else float(raw)


if __name__ == "__main__":
    strata = os.environ.get("STRATA_COLUMN")
    if not strata:
        raise RuntimeError("STRATA_COLUMN environment variable must be set.")
    group = os.environ.get("GROUP_FIELD", "")
    if group == "":
        sys.exit("GROUP_FIELD is required")
    ratio = _float_env("TRAIN_RATIO", 0.7)
    settings = {}
    for key, value in DEFAULTS.items():
        settings[key] = os.environ.get(key, value)
    out = "/opt/ml/processing/output/settings"
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "settings.txt"), "w") as handle:
        handle.write(f"{strata} {group} {ratio} {settings}\n")
