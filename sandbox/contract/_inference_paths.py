"""Resolve the container paths a script names, and group them into named channels.

Holds :class:`Resolver`, which folds string expressions (literals, f-strings, ``+``,
``/``, ``os.path.join``, ``pathlib.Path`` and names bound to one string) into text; the
``/opt/ml`` roots channels sit under; :class:`PathUse`, one path a script uses; and
:func:`group_channels`, which maps those uses to the input and output channels of a
Processing or Training job and names each. :mod:`sandbox.contract.inference` drives it.
"""

from __future__ import annotations

import argparse
import ast
import posixpath
import re
from dataclasses import dataclass
from enum import Enum
from typing import Final

from sandbox.constants import (
    CHECKPOINTS_DIR,
    CODE_PATH,
    HYPERPARAMETERS_FILE,
    MODEL_DIR,
    OPT_ML,
    OUTPUT_DATA_DIR,
    PROCESSING_INPUT_DIR,
    PROCESSING_OUTPUT_DIR,
    PROCESSING_ROOT,
    TRAINING_DATA_DIR,
    TRAINING_INPUT_DIR,
)

__all__ = [
    "DICT_KEY",
    "EITHER",
    "FOLDER_NAME",
    "GET_KEY",
    "HYPERPARAMETERS_FILE",
    "MAIN_KEY",
    "NOT_LITERAL",
    "PROCESSING_ROOT",
    "TRAINING_DATA",
    "TRAINING_ROOTS",
    "Channel",
    "PathUse",
    "Resolver",
    "channel_for",
    "group_channels",
    "normalize",
    "under",
]

_OPT_ML = OPT_ML
_PROCESSING_INPUT = PROCESSING_INPUT_DIR
_PROCESSING_OUTPUT = PROCESSING_OUTPUT_DIR
TRAINING_DATA = TRAINING_DATA_DIR
_SANDBOX_CODE = CODE_PATH
# (root, direction, name): with no name, each folder right under the root is a channel.
_CHANNEL_ROOTS = (
    (_PROCESSING_INPUT, "input", None),
    (_PROCESSING_OUTPUT, "output", None),
    (TRAINING_DATA, "input", None),
    (MODEL_DIR, "output", "model"),
    (OUTPUT_DATA_DIR, "output", "output_data"),
    (CHECKPOINTS_DIR, "output", "checkpoints"),
)
EITHER = "either"
"""Direction of a channel right under ``/opt/ml/processing``, before its uses settle it."""
_OUTPUT_FOLDER_NAMES = frozenset(
    {"train", "test", "validation", "val", "evaluation", "metrics", "report", "reports", "output"}
)
TRAINING_ROOTS = (TRAINING_INPUT_DIR, MODEL_DIR, OUTPUT_DATA_DIR, CHECKPOINTS_DIR)
_FILE_NAME = re.compile(
    r"\.(json|jsonl|csv|tsv|txt|parquet|pkl|pickle|joblib|bst|model|gz|tar|zip|npy|npz|png|html)$"
)
_ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault"})
_PATH_BUILDERS = frozenset(
    {"os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath", "pathlib.PurePosixPath"}
)


class _NotLiteral(Enum):
    """Type of :data:`NOT_LITERAL` (an enum member, so copies and pickles stay identical)."""

    NOT_LITERAL = "NOT_LITERAL"

    def __repr__(self) -> str:
        return "NOT_LITERAL"


NOT_LITERAL: Final = _NotLiteral.NOT_LITERAL
"""What :meth:`Resolver.literal` gives for an expression whose value cannot be known."""

# Naming priority of a path: a key of a dict in the __main__ block wins, then the key of
# `paths.get("key", "/opt/ml/...")`, then a key of any other dict, then the folder name.
MAIN_KEY, GET_KEY, DICT_KEY, FOLDER_NAME = range(4)


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _imported_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> what it was imported as (``osp`` -> ``os.path``, ``environ`` -> ...)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.partition(".")[0]
                names[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _single_target(node: ast.Assign | ast.AnnAssign) -> str | None:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if len(targets) == 1 and isinstance(targets[0], ast.Name):
        return targets[0].id
    return None


class Resolver:
    """Folds string expressions made of literals, joins and names bound to one string."""

    def __init__(self, tree: ast.Module) -> None:
        self.imports = _imported_names(tree)
        self._strings: dict[str, str] = {}
        for node in ast.walk(tree):  # `env = os.environ`
            target = _single_target(node) if isinstance(node, ast.Assign) else None
            if (
                target
                and isinstance(node, ast.Assign)
                and self.canonical(node.value) == "os.environ"
            ):
                self.imports[target] = "os.environ"
        self._argument_defaults: dict[str, str] = {}
        self._dicts: dict[str, dict[str, str]] = {}
        self._dict_nodes = _dict_nodes(tree)
        self._collect_strings(tree)
        # Second pass: names bound to `PATHS["key"]` or `os.path.join(args.dir, args.file)`
        # fold once the dicts of paths and the argparse defaults are known.
        self._dicts = _string_dicts(self._dict_nodes, self)
        self._argument_defaults = _argument_defaults(tree, self)
        self._strings = {}
        self._collect_strings(tree)
        self._literals = _literal_constants(tree)

    def canonical(self, node: ast.AST) -> str | None:
        """Dotted name of ``node`` with its first part replaced by what it was imported as."""
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, dot, rest = dotted.partition(".")
        return f"{self.imports.get(head, head)}{dot}{rest}"

    def is_path_builder(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and self.canonical(node.func) in _PATH_BUILDERS

    def env_getter(self, call: ast.Call) -> tuple[ast.expr | None, ast.expr | None] | None:
        """(name, default) expressions of an ``os.environ.get``/``os.getenv`` call."""
        if self.canonical(call.func) not in _ENV_GETTERS:
            return None
        keywords = {keyword.arg: keyword.value for keyword in call.keywords}
        name = call.args[0] if call.args else keywords.get("key")
        default = call.args[1] if len(call.args) > 1 else keywords.get("default")
        return name, default

    def _collect_strings(self, tree: ast.Module) -> None:
        assignments = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign))]
        ambiguous: set[str] = set()
        for node in sorted(assignments, key=lambda n: (n.lineno, n.col_offset)):
            target = _single_target(node)
            if target is None or node.value is None:
                continue
            folded = self.fold(node.value)
            if folded is None or not folded[1] or self._strings.get(target, folded[0]) != folded[0]:
                ambiguous.add(target)
            else:
                self._strings[target] = folded[0]
        for name in ambiguous:
            self._strings.pop(name, None)

    def fold(self, node: ast.expr) -> tuple[str, bool] | None:
        """Return ``(text, complete)``; an incomplete text ends at its last whole component."""
        if isinstance(node, ast.Constant):
            return (node.value, True) if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            value = self._strings.get(node.id)
            return None if value is None else (value, True)
        if isinstance(node, ast.JoinedStr):
            return self._concat(node.values, "")
        if isinstance(node, ast.FormattedValue):
            return None if node.format_spec else self.fold(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)):
            return self._concat(
                [node.left, node.right], "" if isinstance(node.op, ast.Add) else "/"
            )
        if self.is_path_builder(node) and isinstance(node, ast.Call):
            return self._concat(node.args, "/") if node.args and not node.keywords else None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            key = self.string(node.slice)
            value = self._dicts.get(node.value.id, {}).get(key) if key else None
            return None if value is None else (value, True)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            known = node.value.id not in self.imports
            value = self._argument_defaults.get(node.attr) if known else None
            return None if value is None else (value, True)
        getter = self.env_getter(node) if isinstance(node, ast.Call) else None
        return self.fold(getter[1]) if getter and getter[1] else None

    def _concat(self, parts: list[ast.expr], separator: str) -> tuple[str, bool] | None:
        text = ""
        for index, part in enumerate(parts):
            folded = self.fold(part)
            if folded is None:
                return None if index == 0 else (_whole_components(text + separator), False)
            piece, complete = folded
            text = piece if index == 0 else _join(text, piece, separator)
            if not complete:
                return _whole_components(text), False
        return text, True

    def first_piece(self, node: ast.expr) -> str | None:
        """The leftmost piece of a composed path, cut to whole components if it is text."""
        cut = False
        while True:
            if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)):
                cut = cut or isinstance(node.op, ast.Add)
                node = node.left
            elif isinstance(node, ast.JoinedStr) and node.values:
                node, cut = node.values[0], True
            elif isinstance(node, ast.FormattedValue):
                node = node.value
            elif self.is_path_builder(node) and isinstance(node, ast.Call) and node.args:
                node = node.args[0]
            else:
                break
        text = self.string(node)
        return _whole_components(text) if text and cut and isinstance(node, ast.Constant) else text

    def dict_literal(self, node: ast.expr) -> dict[str, str | None] | None:
        """A dict literal (or a name bound once to one): key -> ``str()`` of its value."""
        if isinstance(node, ast.Name):
            node = self._dict_nodes.get(node.id, node)
        if not isinstance(node, ast.Dict):
            return None
        return {
            key.value: self.literal_text(value)
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
        }

    def string(self, node: ast.expr | None) -> str | None:
        folded = self.fold(node) if node is not None else None
        return folded[0] if folded and folded[1] else None

    def literal_text(self, node: ast.expr | None) -> str | None:
        """``str()`` of a literal (or of a name bound to a string); None otherwise."""
        if node is None:
            return None
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError):
            return self.string(node)
        return None if value is None else str(value)

    def literal(self, node: ast.expr) -> object:
        """The Python value of a literal, of a name bound to one, or of a foldable string.

        ``argparse.SUPPRESS`` gives its value; anything else gives :data:`NOT_LITERAL`.
        """
        value = _literal_value(node)
        if value is NOT_LITERAL and isinstance(node, ast.Name):
            value = self._literals.get(node.id, NOT_LITERAL)
        if value is NOT_LITERAL and self.canonical(node) == "argparse.SUPPRESS":
            return argparse.SUPPRESS
        text = self.string(node) if value is NOT_LITERAL else None
        return value if text is None else text


def _dict_nodes(tree: ast.Module) -> dict[str, ast.Dict]:
    """Names bound exactly once, to a dict literal."""
    bound: dict[str, list[ast.expr | None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and _single_target(node):
            bound.setdefault(_single_target(node) or "", []).append(node.value)
    return {
        name: values[0]
        for name, values in bound.items()
        if len(values) == 1 and isinstance(values[0], ast.Dict)
    }


def _string_dicts(dicts: dict[str, ast.Dict], resolver: Resolver) -> dict[str, dict[str, str]]:
    """Of each dict literal bound to a name, the string keys whose values fold
    (``PATHS = {"MODEL_DIR": "/opt/ml/processing/input/model"}``)."""
    return {
        name: {
            key.value: folded
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
            for folded in [resolver.string(value)]
            if folded is not None
        }
        for name, node in dicts.items()
    }


def _argument_defaults(tree: ast.Module, resolver: Resolver) -> dict[str, str]:
    """Destination -> string default of each ``add_argument`` (``args.filepath``)."""
    defaults: dict[str, str] = {}
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_argument"
        ):
            continue
        flags = [flag for flag in (resolver.string(arg) for arg in node.args) if flag]
        keywords = {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg}
        default = resolver.string(keywords.get("default"))
        if not flags or default is None:
            continue
        dest = resolver.string(keywords.get("dest"))
        if dest is None:
            long_option = next((f for f in flags if f.startswith("--")), flags[0])
            dest = long_option.lstrip("-").replace("-", "_")
        defaults[dest] = default
    return defaults


def _literal_value(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError):
        return NOT_LITERAL


def _literal_constants(tree: ast.Module) -> dict[str, object]:
    """Names bound only to one literal value (``N_TREES = 100``), anywhere in the tree."""
    simple: dict[int, ast.expr] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value and _single_target(node):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            simple[id(target)] = node.value
    bound: dict[str, list[object]] = {}
    for node in ast.walk(tree):  # every binding counts: `for N in`, `N += 1`, `a, N = ...`
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            value = simple.get(id(node))
            bound.setdefault(node.id, []).append(
                NOT_LITERAL if value is None else _literal_value(value)
            )
    return {
        name: values[0]
        for name, values in bound.items()
        if values[0] is not NOT_LITERAL and all(value == values[0] for value in values)
    }


def _join(left: str, right: str, separator: str) -> str:
    return left + right if not separator else posixpath.join(left, right)


def _whole_components(text: str) -> str:
    return text[: text.rfind("/") + 1]


def under(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or lies below it."""
    return path == root or path.startswith(root + "/")


def normalize(text: str) -> str | None:
    """``text`` as a normalized path under ``/opt/ml``; None if it is not one."""
    if not text.startswith(_OPT_ML) or any(char.isspace() for char in text):
        return None
    path = posixpath.normpath(text)
    return path if under(path, _OPT_ML) else None


def _components(path: str, root: str) -> list[str] | None:
    if not under(path, root):
        return None
    return [part for part in path[len(root) :].split("/") if part]


@dataclass(frozen=True)
class Channel:
    """A channel of the job: its direction, its container folder and that folder's name."""

    direction: str  # "input" or "output"
    path: str
    folder_name: str


def channel_for(path: str) -> Channel | None:
    """The channel a path lies in.

    A file right in the input or output root belongs to the root (the root is the
    channel); a folder right under ``/opt/ml/processing`` other than ``input`` and
    ``output`` is a channel whose direction (:data:`EITHER`) is settled by how the
    script uses it; a file name is never a channel of its own.
    """
    for root, direction, name in _CHANNEL_ROOTS:
        parts = _components(path, root)
        if parts is None:
            continue
        if name:
            return Channel(direction, root, name)
        in_root = root in (_PROCESSING_INPUT, _PROCESSING_OUTPUT)
        if in_root and len(parts) == 1 and _FILE_NAME.search(path):
            return Channel(direction, root, posixpath.basename(root))
        if root == _PROCESSING_OUTPUT and not parts:
            return Channel(direction, root, "output")
        channel = f"{root}/{parts[0]}" if parts else _SANDBOX_CODE
        return None if channel == _SANDBOX_CODE else Channel(direction, channel, parts[0])
    parts = _components(path, PROCESSING_ROOT)
    if not parts or _FILE_NAME.search(parts[0]):
        return None
    return Channel(EITHER, f"{PROCESSING_ROOT}/{parts[0]}", parts[0])


@dataclass(frozen=True)
class PathUse:
    """One ``/opt/ml`` path a script uses, where, and the name it is given (if any).

    ``mode`` is ``"read"`` or ``"write"`` when the use shows it (``pd.read_csv(path)``,
    ``open(path, "w")``, a variable called ``output_dir``), else None.
    """

    path: str
    position: tuple[int, int]
    name: str | None = None
    priority: int = FOLDER_NAME
    mode: str | None = None


def group_channels(uses: list[PathUse]) -> tuple[dict[str, str], dict[str, str]]:
    """Group path uses into channels and name each (best-priority name wins)."""
    best: dict[Channel, tuple[int, str]] = {}
    modes: dict[Channel, list[str]] = {}
    in_output_root = False
    for use in sorted(uses, key=lambda use: use.position):
        channel = _named_root(use) or channel_for(use.path)
        if channel is None:
            continue
        in_output_root = in_output_root or (
            channel.path == _PROCESSING_OUTPUT and use.path != _PROCESSING_OUTPUT
        )
        if use.mode:
            modes.setdefault(channel, []).append(use.mode)
        named = use.name is not None and use.path == channel.path
        rank, name = (use.priority, use.name) if named and use.name else (FOLDER_NAME, None)
        if channel not in best or rank < best[channel][0]:
            best[channel] = (rank, name or channel.folder_name)
    settled = {_settled(channel, modes.get(channel, [])): named for channel, named in best.items()}
    root = Channel("output", _PROCESSING_OUTPUT, "output")
    below = any(under(c.path, _PROCESSING_OUTPUT) and c != root for c in settled)
    if root in settled and below and not in_output_root and settled[root][0] > GET_KEY:
        del settled[root]  # a bare base path for the output channels beneath it
    return _named(settled, "input"), _named(settled, "output")


def _named_root(use: PathUse) -> Channel | None:
    """The input root itself, when ``__main__`` or ``paths.get`` names it as a channel."""
    if use.path == _PROCESSING_INPUT and use.name and use.priority <= GET_KEY:
        return Channel("input", _PROCESSING_INPUT, "input")
    return None


def _settled(channel: Channel, modes: list[str]) -> Channel:
    """A folder right under ``/opt/ml/processing`` is an output when the script writes
    there more than it reads, an input when it reads more; with no sign either way its
    name decides (``train``, ``test``, ``evaluation`` are outputs in the SDK examples)."""
    if channel.direction != EITHER:
        return channel
    writes, reads = modes.count("write"), modes.count("read")
    if writes != reads:
        direction = "output" if writes > reads else "input"
    else:
        direction = "output" if channel.folder_name in _OUTPUT_FOLDER_NAMES else "input"
    return Channel(direction, channel.path, channel.folder_name)


def _named(best: dict[Channel, tuple[int, str]], direction: str) -> dict[str, str]:
    channels = [channel for channel in best if channel.direction == direction]
    names: dict[Channel, str] = {}
    for channel in sorted(channels, key=lambda channel: best[channel][0]):
        name, suffix = best[channel][1], 2
        while name in names.values():
            name, suffix = f"{best[channel][1]}_{suffix}", suffix + 1
        names[channel] = name
    return {names[channel]: channel.path for channel in channels}
