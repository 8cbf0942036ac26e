"""Evaluate a pipeline definition's Condition step on local results.

The operands a condition can compare here: literals, ``Parameters``, and ``Std:JsonGet``
of a property file that a step wrote into one of its outputs in this run. Anything
else (an execution variable, a step's job status) cannot be known locally: the
condition is then reported as not evaluated, naming that operand.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ConditionContext", "NotEvaluable", "PropertyFile", "evaluate_conditions"]

_COMPARISONS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "Equals": ("==", operator.eq),
    "GreaterThan": (">", operator.gt),
    "GreaterThanOrEqualTo": (">=", operator.ge),
    "LessThan": ("<", operator.lt),
    "LessThanOrEqualTo": ("<=", operator.le),
}
_PROPERTY_FILE = re.compile(r"^Steps\.([^.]+)\.PropertyFiles\.(.+)$")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class NotEvaluable(Exception):
    """An operand that cannot be known locally; the message says which and why."""


@dataclass(frozen=True)
class PropertyFile:
    """A step's ``PropertyFiles`` entry: a JSON file inside one of its outputs."""

    output_name: str
    file_path: str


@dataclass(frozen=True)
class ConditionContext:
    """What a condition may read: parameter values and the outputs of passing steps."""

    parameters: Mapping[str, Any]
    property_files: Mapping[tuple[str, str], PropertyFile]
    """(step, property file name) -> where the file is."""
    output_dirs: Mapping[str, Path]
    """A step that passed -> its run folder's ``outputs``."""


def evaluate_conditions(conditions: list[Any], context: ConditionContext) -> tuple[bool, str]:
    """All ``conditions`` (they are ANDed, as SageMaker does) and how they read.

    Raises:
        NotEvaluable: an operand cannot be known locally.
    """
    outcomes = [_condition(item, context) for item in conditions]
    value = all(outcome for outcome, _ in outcomes)
    return value, " and ".join(text for _, text in outcomes) or "(no conditions)"


def _condition(item: Any, context: ConditionContext) -> tuple[bool, str]:
    kind = item.get("Type") if isinstance(item, dict) else None
    if kind in _COMPARISONS:
        symbol, compare = _COMPARISONS[kind]
        left, left_text = _operand(item.get("LeftValue"), context)
        right, right_text = _operand(item.get("RightValue"), context)
        try:
            return bool(compare(left, right)), f"{left_text} {symbol} {right_text}"
        except TypeError as exc:
            raise NotEvaluable(f"{left_text} {symbol} {right_text}: {exc}") from exc
    if kind == "Not":
        value, text = _condition(item.get("Condition"), context)
        return not value, f"not ({text})"
    if kind == "Or":
        outcomes = [_condition(inner, context) for inner in item.get("Conditions", [])]
        return any(v for v, _ in outcomes), "(" + " or ".join(t for _, t in outcomes) + ")"
    if kind == "In":
        value, text = _operand(item.get("QueryValue"), context)
        choices = [_operand(choice, context)[0] for choice in item.get("Values", [])]
        return value in choices, f"{text} in {choices!r}"
    raise NotEvaluable(f"a condition of type {kind!r}")


def _operand(value: Any, context: ConditionContext) -> tuple[Any, str]:
    if not isinstance(value, dict):
        return value, repr(value)
    if set(value) == {"Get"} and str(value["Get"]).startswith("Parameters."):
        name = str(value["Get"]).removeprefix("Parameters.")
        if name not in context.parameters:
            raise NotEvaluable(f"parameter {name} has no value")
        return context.parameters[name], f"{name} ({context.parameters[name]!r})"
    if set(value) == {"Std:JsonGet"}:
        return _json_get(value["Std:JsonGet"], context)
    raise NotEvaluable(f"{json.dumps(value)} is only known in production")


def _json_get(spec: dict[str, Any], context: ConditionContext) -> tuple[Any, str]:
    reference = spec.get("PropertyFile", {})
    reference = reference.get("Get", "") if isinstance(reference, dict) else str(reference)
    match = _PROPERTY_FILE.match(reference)
    if not match:
        raise NotEvaluable(f"JsonGet of {reference!r}")
    step, name = match.groups()
    declared = context.property_files.get((step, name))
    if declared is None:
        raise NotEvaluable(f"step {step} declares no property file {name}")
    outputs = context.output_dirs.get(step)
    if outputs is None:
        raise NotEvaluable(f"step {step} did not pass here, so {name} was not written")
    path = outputs / declared.output_name / declared.file_path
    json_path = str(spec.get("Path", ""))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotEvaluable(f"{step}'s {name} ({path}) cannot be read: {exc}") from exc
    found = _walk(data, json_path, f"{step}'s {name}")
    return found, f"{step}'s {name} {json_path} ({found!r})"


def _walk(data: Any, json_path: str, where: str) -> Any:
    for key, index in _PATH_PART.findall(json_path):
        try:
            data = data[int(index)] if index else data[key]
        except (KeyError, IndexError, TypeError) as exc:
            raise NotEvaluable(f"{where} has no {json_path}") from exc
    return data
