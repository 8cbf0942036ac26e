"""Hyperparameters as the platform stores them and the training toolkit hands them over.

The platform keeps every value as a string (``hyperparameters.json``); the toolkit
JSON-decodes each one it can and passes them to the script as sorted arguments.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["decode_hyperparameters", "stringify_hyperparameters", "toolkit_arguments"]


def stringify_hyperparameters(hyperparameters: dict[str, Any]) -> dict[str, str]:
    """Every value a string, as the platform stores them (lists and maps as JSON)."""
    return {
        str(name): value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, (dict, list, bool)) or value is None
        else str(value)
        for name, value in hyperparameters.items()
    }


def decode_hyperparameters(stored: dict[str, str]) -> dict[str, Any]:
    """What the training toolkit hands the script: each stored string JSON-decoded where
    it can be (``"6"`` -> 6, ``"true"`` -> True), else kept as the string."""
    decoded: dict[str, Any] = {}
    for name, value in stored.items():
        try:
            decoded[name] = json.loads(value)
        except ValueError:
            decoded[name] = value
    return decoded


def toolkit_arguments(decoded: dict[str, Any]) -> list[str]:
    """Script-mode arguments as the toolkit builds them: sorted names, ``-x`` for a
    one-letter name, ``str()`` of each value (``True``), maps as ``k=v,k=v``."""
    arguments: list[str] = []
    for name in sorted(decoded):
        value = decoded[name]
        arguments.append(f"-{name}" if len(name) == 1 else f"--{name}")
        if isinstance(value, dict):
            arguments.append(",".join(f"{k}={v}" for k, v in sorted(value.items())))
        else:
            arguments.append(str(value))
    return arguments
