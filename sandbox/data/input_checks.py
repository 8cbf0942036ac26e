"""Checks that real data feeds the channels it is meant for, and how a channel's
source is described in the verdict.

A ``--data-source`` whose folders match no required channel would otherwise be ignored
while generated data stood in for it, and a run could pass on data the user never gave:
that is refused, naming the channels and what the folder holds.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from sandbox.contract.spec import ChannelSpec, ScriptSpec
from sandbox.data.datagen import DatasetSpec, DataSize, effective_columns
from sandbox.data.location import DataLocation
from sandbox.errors import UsageError

__all__ = ["check_source_feeds", "describe_generated"]

_LISTED_COLUMNS = 16
_LISTED_NAMES = 5


def check_source_feeds(
    spec: ScriptSpec,
    locations: Mapping[str, object],
    data_source: DataLocation,
    folders: Mapping[str, object],
    *,
    optional: frozenset[str] = frozenset(),
) -> None:
    """Refuse a data source that leaves a required channel without data.

    Args:
        spec: The script's spec.
        locations: Channel -> where its data comes from (None: nothing given).
        data_source: The ``--data-source`` folder or S3 URI.
        folders: Folder (or sub-prefix) name -> location, as found in the source.
        optional: Channels the script can run without.

    Raises:
        UsageError: A required channel is not fed; the message names the channels, what
            the source holds, and the closest folder name.
    """
    missing = [
        name
        for name, channel in spec.inputs.items()
        if locations.get(name) is None and channel.required and name not in optional
    ]
    if not missing:
        return
    wanted = ", ".join(f"{name!r} (folder {spec.inputs[name].folder_name}/)" for name in missing)
    raise UsageError(
        f"--data-source {data_source}: {_holds(data_source, folders)}; the script reads "
        f"channel{'s' if len(missing) > 1 else ''} {wanted}"
        f"{_closest(missing, spec.inputs, folders)}. Name one folder per channel, or give "
        "--input CHANNEL=DIR"
    )


def _holds(data_source: DataLocation, folders: Mapping[str, object]) -> str:
    name = Path(str(data_source)).name or str(data_source)
    if folders:
        listed = ", ".join(sorted(folders)[:_LISTED_NAMES])
        more = ", ..." if len(folders) > _LISTED_NAMES else ""
        return f"{name}/ holds the folders {listed}{more}"
    if isinstance(data_source, Path) and data_source.is_dir():
        files = [child for child in data_source.iterdir() if child.is_file()]
        if files:
            kinds = sorted({"".join(child.suffixes).lstrip(".").upper() or "?" for child in files})
            return f"{name}/ holds {len(files)} {'/'.join(kinds)} file(s) at its top, no folder"
    return f"{name}/ holds no folder"


def _closest(
    missing: list[str], inputs: Mapping[str, ChannelSpec], folders: Mapping[str, object]
) -> str:
    for name in missing:
        candidates = (name, inputs[name].folder_name)
        for candidate in candidates:
            match = difflib.get_close_matches(candidate, list(folders), n=1, cutoff=0.5)
            if match:
                return f"; closest folder: {match[0]!r} (rename it {inputs[name].folder_name!r})"
    return ""


def describe_generated(dataset: DatasetSpec, size: DataSize) -> str:
    """``generated (columns: a, b, ...)``, or the files for JSON and file recipes."""
    columns = [column.name for column in effective_columns(dataset)]
    if columns:
        listed = ", ".join(columns[:_LISTED_COLUMNS])
        more = f", ... ({len(columns)} columns)" if len(columns) > _LISTED_COLUMNS else ""
        return f"generated ({size.value}; columns: {listed}{more})"
    names = [dataset.file_name or "data.json"] if dataset.content is not None else []
    names += list(dataset.files)
    return f"generated (files: {', '.join(names)})"
