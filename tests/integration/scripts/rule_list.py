"""Look-alike: a config file whose top level is a list of rules, each naming a column."""

import json
import os

import pandas as pd

RULES = "/opt/ml/processing/input/rules/rules.json"
DATA = "/opt/ml/processing/input/data"
OUTPUT = "/opt/ml/processing/output/flags"

if __name__ == "__main__":
    with open(RULES) as handle:
        rules = json.load(handle)
    first = rules[0]
    frame = pd.concat(pd.read_csv(os.path.join(DATA, name)) for name in os.listdir(DATA))
    for rule in rules:
        frame[rule["name"]] = frame[rule["column"]] > float(rule["threshold"])
    os.makedirs(OUTPUT, exist_ok=True)
    frame.to_csv(os.path.join(OUTPUT, f"flags_{first['name']}.csv"), index=False)
