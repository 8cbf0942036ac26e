"""The nested shape of loaded JSON, read from how the code indexes it."""

from __future__ import annotations

import ast
from pathlib import Path

from sandbox.contract._json_shape import infer_json_shape

SCRIPTS = Path(__file__).resolve().parents[1] / "integration" / "scripts"


def shape_of(source: str):  # type: ignore[no-untyped-def]
    return infer_json_shape(ast.parse(source))


def test_keys_lists_and_leaves_through_a_class_loops_and_get_chains() -> None:
    shape = shape_of((SCRIPTS / "rule_labeller.py").read_text())

    assert shape.members() == ["limits", "settings", "output", "rules"]
    assert shape.keys["limits"].keys["min_rows"].numeric
    assert shape.keys["settings"].defaults == {"name": "rules"}
    assert shape.keys["output"].members() == ["fallback", "label_column"]
    rule = shape.keys["rules"].item
    assert rule is not None
    assert rule.members() == ["active", "when", "label"]
    assert rule.defaults["active"] is True
    check = rule.keys["when"]
    assert check.members() == ["column", "op", "threshold"], "'any' is read only when present"
    assert check.keys["op"].literals[:2] == ["above", "below"]
    assert check.keys["threshold"].numeric


def test_a_key_read_outside_its_membership_test_is_needed() -> None:
    source = """
import json
cfg = json.load(open("/opt/ml/processing/input/config/c.json"))
if "extra" in cfg:
    print(cfg["extra"])
print(cfg["name"], cfg["items"][0]["id"])
"""
    shape = shape_of(source)
    assert shape.members() == ["name", "items"]
    assert shape.keys["items"].item.members() == ["id"]


def test_no_json_load_gives_no_shape() -> None:
    assert shape_of("import pandas as pd\nframe = pd.read_csv('x.csv')\nframe['a']\n") is None
