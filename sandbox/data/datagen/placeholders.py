"""`${VAR}` placeholders in dataset specs, filled from the job's environment.

Scripts often name their label column through an environment variable
(`LABEL_FIELD`); a spec can say `${LABEL_FIELD}` and get whatever the job sets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.data.datagen.spec import DatasetSpec
from sandbox.errors import SpecError

__all__ = ["find_placeholders", "resolve_placeholders", "substitute_placeholders"]

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def resolve_placeholders(
    spec: DatasetSpec, env: Mapping[str, str], *, source: str = "dataset spec"
) -> DatasetSpec:
    """Replace `${VAR}` in column names, the label, file names and JSON content.

    Args:
        spec: The spec to resolve.
        env: Variable name -> value (the job's environment).
        source: Names the spec in error messages.

    Returns:
        A new, validated spec without placeholders in those places.

    Raises:
        SpecError: A placeholder names a variable that `env` does not set.
    """

    def fill(text: str, where: str) -> str:
        return _substitute(text, env, source=source, where=where)

    data = spec.model_dump()
    if data["label"] is not None:
        data["label"] = fill(data["label"], "label")
    if data["file_name"] is not None:
        data["file_name"] = fill(data["file_name"], "file_name")
    for column in data["columns"] or ():
        column["name"] = fill(column["name"], "column name")
    data["files"] = {fill(name, "files"): text for name, text in data["files"].items()}
    data["content"] = _fill_json(data["content"], lambda text: fill(text, "content"))
    return DatasetSpec.model_validate(data)


def substitute_placeholders(
    text: str, env: Mapping[str, str], *, source: str = "spec", where: str = "name"
) -> str:
    """Replace every `${VAR}` in one string; an unset variable is a SpecError."""
    return _substitute(text, env, source=source, where=where)


def find_placeholders(spec: DatasetSpec) -> list[str]:
    """Placeholders still present in column names or the label, in order."""
    names = [column.name for column in spec.columns or ()]
    if spec.label is not None:
        names.append(spec.label)
    return [match.group(0) for name in names for match in _PLACEHOLDER.finditer(name)]


def _substitute(text: str, env: Mapping[str, str], *, source: str, where: str) -> str:
    def value_of(match: re.Match[str]) -> str:
        variable = match.group(1)
        if variable not in env:
            raise SpecError(
                source,
                f"placeholder ${{{variable}}} in {where} {text!r}: "
                f"environment variable {variable} is not set",
            )
        return env[variable]

    return _PLACEHOLDER.sub(value_of, text)


def _fill_json(value: Any, fill: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fill(value)
    if isinstance(value, dict):
        return {fill(key): _fill_json(item, fill) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill_json(item, fill) for item in value]
    return value
