"""Labels rows with rules from a nested JSON file: a list of rules, each a check on a
column against a threshold (or any of several checks), read through a class, ``.get``
chains with defaults and a loop; unknown operators and missing columns fail."""

import json
import os
from pathlib import Path

import pandas as pd

RULES_DIR = "/opt/ml/processing/input/rules"
DATA_DIR = "/opt/ml/processing/input/data"
OUT_DIR = "/opt/ml/processing/output/labelled"


class Labeller:
    def __init__(self, config):
        self.output = config["output"]
        self.rules = [rule for rule in config["rules"] if rule.get("active", True)]
        self.fallback = self.output["fallback"]

    def matches(self, check, row):
        if "any" in check:
            return any(self.matches(part, row) for part in check["any"])
        value = row[check["column"]]
        if check["op"] == "above":
            return value > float(check["threshold"])
        if check["op"] == "below":
            return value < float(check["threshold"])
        raise ValueError(f"unknown operator {check['op']!r}")

    def label(self, row):
        for rule in self.rules:
            if self.matches(rule["when"], row):
                return rule["label"]
        return self.fallback


def main():
    with open(os.path.join(RULES_DIR, "rules.json")) as handle:
        config = json.load(handle)
    minimum = int(config["limits"]["min_rows"])
    labeller = Labeller(config)
    frame = pd.concat(pd.read_csv(path) for path in sorted(Path(DATA_DIR).glob("*.csv")))
    if len(frame) < minimum:
        raise SystemExit(f"{len(frame)} rows, fewer than {minimum}")
    frame[labeller.output["label_column"]] = frame.apply(labeller.label, axis=1)
    name = config.get("settings", {}).get("name", "rules")
    os.makedirs(OUT_DIR, exist_ok=True)
    frame.to_csv(os.path.join(OUT_DIR, f"{name}_labelled.csv"), index=False)
    print(f"{len(frame)} rows labelled by {len(labeller.rules)} rule(s)")


if __name__ == "__main__":
    main()
