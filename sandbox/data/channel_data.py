"""The data set a channel gets when nothing else describes it, shaped by what the
script's source reads there (:mod:`sandbox.contract.channel_content`).

A split layout with the file names the script looks for
(``train/train_processed_data.csv``), a file named at the channel's root
(``census-income.csv``), JSON files with the keys the code indexes, and the columns the
code names, each with a type guessed from its name. Every choice keeps the line of the
source that asked for it, for ``gen-data --explain``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sandbox.contract._json_shape import JsonShape
from sandbox.contract.channel_content import ChannelContent, FileUse, ScriptContent
from sandbox.data.datagen import ColumnSpec, ColumnType, DataFormat, DatasetSpec, LayoutSpec, Recipe
from sandbox.data.datagen.layout import SPLIT_PLACEHOLDER
from sandbox.data.datagen.recipes import DEFAULT_HYPERPARAMETERS

__all__ = ["ShapedDataset", "shape_dataset"]

_TABLE_FORMATS = {
    ".csv.gz": DataFormat.CSV_GZ,
    ".csv": DataFormat.CSV,
    ".tsv": DataFormat.CSV,
    ".parquet": DataFormat.PARQUET,
    ".jsonl": DataFormat.JSONL,
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TRAINING_SPLITS = ("train", "val", "test")
_KNOWN_SPLITS = ("train", "val", "test", "validation", "calibration", "oot")
_TRAINING_JOB = "training"
_FEATURE_COUNT = 3
_MAX_JSON_DEPTH = 6
_FIELD_KEYS = ("field", "column", "col", "feature", "field_name", "column_name", "feature_name")
_INT_HINTS = ("num_", "max_", "n_", "count", "size", "epoch", "depth", "round")

# Column-name fragment -> type; first match wins.
_COLUMN_HINTS: tuple[tuple[str, ColumnType], ...] = (
    ("currency", ColumnType.CURRENCY),
    ("score", ColumnType.SCORE),
    ("prob", ColumnType.SCORE),
    ("date", ColumnType.DATETIME),
    ("time", ColumnType.DATETIME),
    ("_ts", ColumnType.DATETIME),
    ("label", ColumnType.LABEL),
    ("target", ColumnType.LABEL),
    ("is_", ColumnType.BOOL),
    ("flag", ColumnType.BOOL),
    ("_id", ColumnType.ID),
    ("id", ColumnType.ID),
    ("key", ColumnType.ID),
    ("count", ColumnType.INT),
    ("num_", ColumnType.INT),
    ("qty", ColumnType.INT),
    ("category", ColumnType.CATEGORY),
    ("type", ColumnType.CATEGORY),
    ("region", ColumnType.CATEGORY),
    ("country", ColumnType.CATEGORY),
    ("code", ColumnType.CATEGORY),
    ("name", ColumnType.CATEGORY),
    ("segment", ColumnType.CATEGORY),
    ("strata", ColumnType.CATEGORY),
    ("group", ColumnType.CATEGORY),
)


@dataclass(frozen=True)
class ShapedDataset:
    """A channel's data set, and why each part of it is there."""

    dataset: DatasetSpec
    reasons: tuple[str, ...] = field(default=())


def shape_dataset(
    channel: str,
    base: DatasetSpec,
    script: ScriptContent,
    *,
    arguments: Mapping[str, str],
    features: tuple[str, ...] = (),
) -> ShapedDataset:
    """Shape ``base`` (the recipe's default data set) after what the script reads.

    Args:
        channel: Logical channel name.
        base: The default data set for the channel (columns, label, seed).
        script: What the script's source says about every channel.
        arguments: The job's arguments (``job_type`` decides the split folders).
        features: Columns a model the script loads was trained on; tables get them.

    Returns:
        The data set, with one reason per choice that the source decided.
    """
    content = script.channels.get(channel)
    if content is None or (not content.files and not script.columns and not features):
        return ShapedDataset(base)
    json_reasons: list[str] = []
    files = _json_files(content, script, base, json_reasons)
    table = base.recipe.is_table
    if files and table and not _reads_tables(content):
        return ShapedDataset(_json_only(files, base), tuple(json_reasons))
    reasons: list[str] = []
    updates: dict[str, object] = {}
    if table:
        updates |= _table_layout(content, script, arguments, reasons)
        columns = _with_script_columns(base, script, features, reasons)
        if columns is not None:
            updates["columns"] = columns
    if files:
        updates["files"] = {**base.files, **files}
        reasons += json_reasons
    dataset = DatasetSpec.model_validate({**base.model_dump(), **updates})
    return ShapedDataset(dataset, tuple(reasons))


def _table_layout(
    content: ChannelContent,
    script: ScriptContent,
    arguments: Mapping[str, str],
    reasons: list[str],
) -> dict[str, object]:
    split_uses = [
        (use, split)
        for use in sorted(content.files, key=lambda use: use.line)
        if (split := _split_use(use, script)) is not None
    ]
    # A use naming the file wins over one that only walks the split folder.
    split_uses.sort(key=lambda pair: _table_format(pair[0].relative) is None)
    if split_uses:
        use, split = split_uses[0]
        return _split_layout(content, use, split, script, arguments, reasons)
    for use in sorted(content.files, key=lambda use: use.line):
        table_format = _table_format(use.relative)
        plain = not any(char in use.relative for char in "/{*")
        if table_format is not None and plain:
            reasons.append(f"line {use.line} opens {use.relative}: one file of that name")
            name = use.relative.replace(".tsv", ".csv")
            return {"layout": LayoutSpec(), "file_name": name, "format": table_format}
    return {}


def _split_use(use: FileUse, script: ScriptContent) -> str | None:
    """The placeholder naming a split folder in ``{split_name}/...``, if any."""
    first = use.relative.split("/", 1)[0]
    match = _PLACEHOLDER.fullmatch(first)
    if match is None:
        return None
    variable = match.group(1)
    if variable in script.split_values or "split" in variable.lower():
        return variable
    return None


def _split_layout(
    content: ChannelContent,
    use: FileUse,
    variable: str,
    script: ScriptContent,
    arguments: Mapping[str, str],
    reasons: list[str],
) -> dict[str, object]:
    splits = _split_names(variable, script, arguments)
    literal = [
        first
        for other in content.files
        if (first := other.relative.split("/", 1)[0]) in _KNOWN_SPLITS and "/" in other.relative
    ]
    if len(splits) > 1:  # a training job: every split folder the script names literally
        splits = tuple(dict.fromkeys([*splits, *literal]))
    rest = use.relative.split("/", 1)[1] if "/" in use.relative else ""
    table_format = _table_format(rest)
    updates: dict[str, object] = {
        "layout": LayoutSpec(kind="splits", splits=_even_ratios(splits), shards=1)
    }
    if table_format is not None and "/" not in rest and "*" not in rest:
        file_name = rest.replace(f"{{{variable}}}", SPLIT_PLACEHOLDER).replace(".tsv", ".csv")
        if not _PLACEHOLDER.search(file_name.replace(SPLIT_PLACEHOLDER, "")):
            updates |= {"file_name": file_name, "format": table_format}
    where = "/".join(filter(None, [f"{{{variable}}}", rest]))
    reasons.append(f"line {use.line} reads {where}: split folders {', '.join(splits)}")
    return updates


def _split_names(
    variable: str, script: ScriptContent, arguments: Mapping[str, str]
) -> tuple[str, ...]:
    job_type = arguments.get("job_type") or arguments.get("job-type")
    if job_type and job_type != _TRAINING_JOB:
        return (job_type,)
    return script.split_values.get(variable) or _TRAINING_SPLITS


def _even_ratios(splits: tuple[str, ...]) -> dict[str, float]:
    ratios = {name: round(1.0 / len(splits), 6) for name in splits}
    first = next(iter(ratios))
    ratios[first] = round(1.0 - sum(ratios[name] for name in splits[1:]), 6)
    return ratios


def _table_format(relative: str) -> DataFormat | None:
    lowered = relative.lower()
    for suffix, table_format in _TABLE_FORMATS.items():
        if lowered.endswith(suffix):
            return table_format
    return None


def _reads_tables(content: ChannelContent) -> bool:
    return any(
        use.reader in ("csv", "parquet", "jsonl", "list") or _table_format(use.relative)
        for use in content.files
    )


# Columns ---------------------------------------------------------------------------


def _with_script_columns(
    base: DatasetSpec, script: ScriptContent, features: tuple[str, ...], reasons: list[str]
) -> tuple[ColumnSpec, ...] | None:
    existing = list(base.columns or ())
    names = {column.name for column in existing}
    for name in features:
        if name not in names:
            existing.append(ColumnSpec(name=name, signal=0.8))
            names.add(name)
            reasons.append(f"column {name!r}: a feature of the model the script loads")
    added = [(name, line) for name, line in script.columns.items() if name not in names and name]
    if not added and len(existing) == len(base.columns or ()):
        return None
    for name, line in added:
        column = column_for(name, label=base.label)
        existing.append(column)
        reasons.append(f"line {line} uses column {name!r}: {column.type.value}")
    return tuple(existing)


def column_for(name: str, *, label: str | None) -> ColumnSpec:
    """A column named by the script, its type guessed from the name."""
    lowered = name.lower()
    kind = next((kind for hint, kind in _COLUMN_HINTS if hint in lowered), ColumnType.FLOAT)
    if kind is ColumnType.LABEL and name != label:
        kind = ColumnType.INT if label else ColumnType.LABEL
        if kind is ColumnType.INT:
            return ColumnSpec(name=name, type=kind, categories=(0, 1))
    if kind is ColumnType.CATEGORY:
        return ColumnSpec(name=name, type=kind, categories=("a", "b", "c", "d"))
    if kind is ColumnType.INT:
        return ColumnSpec(name=name, type=kind, low=0, high=50)
    return ColumnSpec(name=name, type=kind)


# JSON files ------------------------------------------------------------------------


def _json_files(
    content: ChannelContent, script: ScriptContent, base: DatasetSpec, reasons: list[str]
) -> dict[str, str]:
    files: dict[str, str] = {}
    # A file the script only checks for is optional: leave it out, as production may.
    opened = {use.relative for use in content.files if use.reader != "exists"}
    for use in sorted(content.files, key=lambda use: use.line):
        name = use.relative
        if not name.lower().endswith(".json") or "{" in name or "*" in name or name in files:
            continue
        if name not in opened:
            continue
        if "/" in name and name.split("/", 1)[0].endswith((".tar.gz", ".tgz")):
            continue
        body = _json_content(name, script, base)
        files[name] = json.dumps(body, indent=2) + "\n"
        if isinstance(body, list):
            what = "a JSON list of " + (_keys_text(body[0]) if body else "nothing")
        else:
            what = "JSON with " + _keys_text(body)
        reasons.append(f"line {use.line} opens {name}: {what}")
    return files


def _keys_text(value: object) -> str:
    keys = ", ".join(value) if isinstance(value, dict) else ""
    return f"keys {keys}" if keys else "no keys"


def _json_content(
    name: str, script: ScriptContent, base: DatasetSpec
) -> dict[str, object] | list[object]:
    label = base.label or "label"
    features = [
        column.name
        for column in base.columns or ()
        if column.type in (ColumnType.FLOAT, ColumnType.INT)
    ][:_FEATURE_COUNT] or [f"feature_{index}" for index in range(_FEATURE_COUNT)]
    body: dict[str, object] = {}
    shape = script.json_shape
    hyperparameters = "hyperparam" in name.lower()
    if shape is not None and shape.item is not None and not shape.members() and not hyperparameters:
        # The code indexes or iterates the loaded document itself: it is a list.
        return [shaped_value(shape.item, name, None, label, features)]
    if hyperparameters:
        body |= {"label_name": label, **DEFAULT_HYPERPARAMETERS}
    if shape is not None:
        for key in shape.members():
            value = shaped_value(shape.keys[key], key, shape.default_of(key), label, features)
            body.setdefault(key, value)
    nested = shape.all_keys() if shape is not None else set()
    for key in script.json_keys:
        if key not in nested:
            body.setdefault(key, json_value(key, label=label, features=features))
    return body


def shaped_value(
    shape: JsonShape,
    key: str,
    default: object,
    label: str,
    features: list[str],
    depth: int = 0,
) -> object:
    """A value of the shape the code reads: an object with the keys it needs, a list of one
    element where it iterates, else a leaf (the ``.get`` default, a literal the code
    compares it with, a number where it computes with it, or a guess from the key)."""
    members = shape.members() if depth < _MAX_JSON_DEPTH else []
    if members:
        return {
            name: shaped_value(
                shape.keys[name], name, shape.default_of(name), label, features, depth + 1
            )
            for name in members
        }
    if shape.item is not None and depth < _MAX_JSON_DEPTH:
        leaf = json_value(key, label=label, features=features)
        if isinstance(leaf, list) and not shape.item.members() and shape.item.item is None:
            return leaf
        return [shaped_value(shape.item, key, None, label, features, depth + 1)]
    if shape.item is not None or isinstance(default, list | dict):
        return default if isinstance(default, list | dict) else []
    return _leaf(shape, key, default, label, features)


def _leaf(shape: JsonShape, key: str, default: object, label: str, features: list[str]) -> object:
    if default is not None:
        return default
    strings = [value for value in shape.literals if isinstance(value, str)]
    if strings:
        return strings[0]
    if shape.literals:
        return shape.literals[0]
    value = json_value(key, label=label, features=features)
    if shape.numeric and not isinstance(value, int | float):
        return 1
    return value


def json_value(key: str, *, label: str, features: list[str]) -> object:
    """A plausible value for a JSON key the script reads, guessed from its name."""
    lowered = key.lower()
    if lowered in ("label_name", "label_field", "label", "target"):
        return label
    if "label" in lowered and lowered.endswith(("_field", "_column", "_col")):
        return label
    if lowered in _FIELD_KEYS or lowered.endswith(("_field", "_column", "_col")):
        return features[0]
    if any(part in lowered for part in ("list", "features", "columns", "fields")):
        return list(features)
    if lowered.startswith(("is_", "use_", "enable")):
        return False
    if any(part in lowered for part in _INT_HINTS):
        return 3
    if any(part in lowered for part in ("min", "threshold", "amount", "limit", "weight")):
        return 1
    if any(part in lowered for part in ("rate", "ratio", "eta", "alpha", "lambda", "gamma")):
        return 0.1
    return "default"


def _json_only(files: dict[str, str], base: DatasetSpec) -> DatasetSpec:
    (first, text), *rest = files.items()
    return DatasetSpec(
        recipe=Recipe.JSON,
        content=json.loads(text),
        file_name=first,
        files=dict(rest),
        seed=base.seed,
    )
