"""What each input channel must hold, read from the script's source (never run).

The contract says where a channel is mounted; this module says what the script opens
there: the files it names (``train/train_processed_data.csv``, ``hyperparameters.json``,
``model.tar.gz``), through which reader (``read_csv``, ``json.load``, ``tarfile``...),
the split folders it walks, the columns it indexes (``df["x"]``, ``groupby``,
``usecols``...), the keys it reads from JSON files, and whether it checks that the
channel exists before reading it (then the channel is optional).

It follows path values through local variables, function parameters (a call passing
a channel path taints the callee's parameter; a function is read once per distinct call,
with the names that call passes, so ``find(split_dir, split_name)`` builds
``{split_name}/{split_name}_processed_data.csv``), ``os.path.join``, ``Path / ...``,
f-strings and ``for`` loops over literal lists (of candidate names, the first), keeping
one line number per finding so that ``gen-data --explain`` can say which line asked for
what. The JSON the script loads gets its nested shape from
:mod:`sandbox.contract._json_shape`.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sandbox.contract._content_ast import (
    EXISTENCE_CHECKS,
    SPLIT_NAMES,
    TABLE_READERS,
    call_name,
    dotted,
    fails,
    is_column_name,
    is_constant_table,
    is_json_load,
    module_constants,
    names_in,
    reader_of,
    string,
    string_list,
    walk_statement,
)
from sandbox.contract._json_shape import JsonShape, infer_json_shape

__all__ = ["ChannelContent", "FileUse", "ScriptContent", "infer_channel_content"]

logger = logging.getLogger(__name__)

_JOINERS = {"os.path.join", "join", "Path", "pathlib.Path", "PurePath", "str", "resolve"}
_FRAME_NAME = re.compile(r"^(df|.*_df|df_.*|data|.*_data|data_.*|frame|.*frame|table|X|X_.*)$")
_COLUMN_CALLS = {"groupby", "sort_values", "drop_duplicates", "set_index", "pivot_table"}
_COLUMN_KEYWORDS = {"usecols", "columns", "subset", "on", "by", "dtype", "parse_dates", "id_vars"}
_COLUMN_CONSTANT = re.compile(r"(COL|COLUMN|FIELD|FEATURE)S?$", re.IGNORECASE)
_MAX_ROUNDS = 4
_MAX_BINDINGS = 4


@dataclass(frozen=True)
class FileUse:
    """A file (or pattern) the script opens under a channel.

    Attributes:
        relative: Path below the channel root; ``{name}`` marks a placeholder such as
            ``{split_name}``; ``*`` a glob.
        reader: ``csv``, ``parquet``, ``jsonl``, ``json``, ``tar``, ``model``,
            ``pickle``, ``exists``, ``list`` or ``path``.
        line: Line of the source that opened it.
    """

    relative: str
    reader: str
    line: int


@dataclass
class ChannelContent:
    """Everything the script's source says about one input channel's content."""

    channel: str
    files: list[FileUse] = field(default_factory=list)
    optional_line: int | None = None
    read_line: int | None = None
    guarded_at_top: bool = False
    """The check is in module-level code (the ``__main__`` block), where channels are
    wired: the script then runs with or without the channel."""

    @property
    def optional(self) -> bool:
        """True when the script checks that the channel exists before it first reads
        from it (a read earlier in the source means the channel is needed anyway)."""
        if self.optional_line is None:
            return False
        if self.guarded_at_top:
            return True
        return self.read_line is None or self.optional_line <= self.read_line


@dataclass(frozen=True)
class _ChannelPath:
    channel: str
    parts: tuple[str, ...]

    def joined(self, *more: str) -> _ChannelPath:
        return _ChannelPath(self.channel, self.parts + tuple(p for p in more if p))

    @property
    def relative(self) -> str:
        return "/".join(part.strip("/") for part in self.parts if part.strip("/"))


@dataclass
class _Binding:
    """What one call passes to a function: channel paths and texts, by parameter."""

    paths: dict[str, _ChannelPath] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


@dataclass
class ScriptContent:
    """What the source says about all channels, plus script-wide column and JSON uses."""

    channels: dict[str, ChannelContent]
    columns: dict[str, int]
    json_keys: dict[str, int]
    split_values: dict[str, tuple[str, ...]]
    json_shape: JsonShape | None = None
    """The nested shape of the JSON the script loads, as its code indexes it."""


def infer_channel_content(source: str, inputs: Mapping[str, str]) -> ScriptContent:
    """Read per-channel content from a script's source.

    Args:
        source: The script's Python source.
        inputs: Logical channel name -> container path (the inferred contract's inputs).

    Returns:
        What each channel must hold; empty findings where the source says nothing.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ScriptContent({name: ChannelContent(name) for name in inputs}, {}, {}, {})
    walker = _Walker(tree, inputs)
    try:
        walker.run()
    except RecursionError:
        logger.debug("source nested too deeply for content inference")
    found = walker.result()
    found.json_shape = infer_json_shape(tree)
    return found


class _Walker:
    def __init__(self, tree: ast.Module, inputs: Mapping[str, str]) -> None:
        self.tree = tree
        self.inputs = dict(inputs)
        self.constants = module_constants(tree)
        self.functions = {
            node.name: node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        # Per function, the channel paths and texts one call passes to its parameters:
        # the body is read once per distinct call, so that a helper called for a split
        # and for a job type names the files of each.
        self.bindings: dict[str, list[_Binding]] = {}
        self.content = {name: ChannelContent(name) for name in inputs}
        self.columns: dict[str, int] = {}
        self.stored_columns: set[str] = set()
        self.json_keys: dict[str, int] = {}
        self.split_values: dict[str, tuple[str, ...]] = {}
        self.seen: set[tuple[str, str, int]] = set()
        self.lists: dict[str, ast.expr] = {}
        # Variables holding a channel path anywhere: a parameter of the same name is
        # assumed to receive it (callbacks and methods hide the real call).
        self.named_paths: dict[str, _ChannelPath] = {}
        self.aliases = self._aliases()
        self.at_module = False

    def _aliases(self) -> dict[str, str]:
        """Keys whose values are channel paths: of dict literals (``{"data_input": PATH}``)
        and of keyed assignments (``paths["model_input"] = PATH``)."""
        aliases: dict[str, str] = {}
        for key_node, value in self._keyed_values():
            key = string(key_node)
            path = self._path(value, {}, {}) if key is not None else None
            if key is not None and path is not None and not path.parts:
                aliases.setdefault(key, path.channel)
        return aliases

    def _keyed_values(self) -> Iterable[tuple[ast.expr | None, ast.expr]]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Dict):
                yield from zip(node.keys, node.values, strict=True)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Subscript):
                        yield target.slice, node.value

    def run(self) -> None:
        for _ in range(_MAX_ROUNDS):
            before = self._bound_count(), len(self.named_paths)
            self.at_module = True
            self._scope(self.tree.body, {}, {})
            self.at_module = False
            for function in self.functions.values():
                for binding in self.bindings.get(function.name) or [_Binding()]:
                    paths = self._parameters(function, binding)
                    self._scope(function.body, paths, dict(binding.texts))
            if (self._bound_count(), len(self.named_paths)) == before:
                break

    def _bound_count(self) -> int:
        return sum(len(bindings) for bindings in self.bindings.values())

    def _parameters(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef, binding: _Binding
    ) -> dict[str, _ChannelPath]:
        env = dict(binding.paths)
        for arg in function.args.args:
            path = self.named_paths.get(arg.arg)
            if path is not None and arg.arg not in binding.texts:
                env.setdefault(arg.arg, path)
        return env

    def result(self) -> ScriptContent:
        columns = {k: v for k, v in self.columns.items() if k not in self.stored_columns}
        return ScriptContent(self.content, columns, self.json_keys, self.split_values)

    # Scopes ------------------------------------------------------------------------

    def _scope(
        self, body: list[ast.stmt], paths: dict[str, _ChannelPath], texts: dict[str, str]
    ) -> None:
        json_vars: set[str] = set()
        for statement in body:
            for node in walk_statement(statement):
                self._statement(node, paths, texts, json_vars)

    def _statement(
        self,
        node: ast.AST,
        paths: dict[str, _ChannelPath],
        texts: dict[str, str],
        json_vars: set[str],
    ) -> None:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            self._assign(node, paths, texts, json_vars)
        elif isinstance(node, ast.For):
            self._loop(node, texts)
        elif isinstance(node, ast.With):
            for item in node.items:
                target = item.optional_vars
                if isinstance(target, ast.Name):
                    self._bind(target.id, item.context_expr, paths, texts)
        elif isinstance(node, ast.Call):
            self._call(node, paths, texts)
        elif isinstance(node, ast.Subscript):
            self._subscript(node, json_vars)
        elif isinstance(node, ast.If):
            self._guard(node, paths, texts)

    def _assign(
        self,
        node: ast.Assign | ast.AnnAssign,
        paths: dict[str, _ChannelPath],
        texts: dict[str, str],
        json_vars: set[str],
    ) -> None:
        assert node.value is not None
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                self._bind(target.id, node.value, paths, texts)
                if is_json_load(node.value):
                    json_vars.add(target.id)
                strings = string_list(node.value)
                if strings and SPLIT_NAMES & set(strings):
                    self.split_values[target.id] = strings
                if strings and _COLUMN_CONSTANT.search(target.id):
                    self._columns(strings, node.lineno)
            elif isinstance(target, ast.Subscript):
                key = string(target.slice)
                if key is not None:
                    self.stored_columns.add(key)

    def _bind(
        self, name: str, value: ast.expr, paths: dict[str, _ChannelPath], texts: dict[str, str]
    ) -> None:
        path = self._path(value, paths, texts)
        if path is not None:
            paths[name] = path
            if not path.parts:
                self.named_paths.setdefault(name, path)
            return
        if isinstance(value, ast.List | ast.Tuple):
            self.lists[name] = value
        paths.pop(name, None)
        text = self._text(value, texts, loose=False)
        if text is not None:
            texts[name] = text

    def _loop(self, node: ast.For, texts: dict[str, str]) -> None:
        items = node.iter
        if isinstance(items, ast.Name) and items.id in self.split_values:
            if isinstance(node.target, ast.Name):
                self.split_values.setdefault(node.target.id, self.split_values[items.id])
            return
        if isinstance(items, ast.Name) and items.id in self.lists:
            items = self.lists[items.id]
        if not isinstance(items, ast.List | ast.Tuple) or not items.elts:
            return
        strings = string_list(items)
        if strings and isinstance(node.target, ast.Name):
            if SPLIT_NAMES & set(strings):
                self.split_values[node.target.id] = strings
            return
        first = items.elts[0]
        if isinstance(node.target, ast.Name) and isinstance(first, ast.JoinedStr):
            # Candidate names tried in turn: the first is the one generated.
            texts[node.target.id] = self._text(first, texts, loose=True) or "*"
        if isinstance(node.target, ast.Tuple) and isinstance(first, ast.Tuple):
            for target, value in zip(node.target.elts, first.elts, strict=False):
                text = self._text(value, texts, loose=True)
                if isinstance(target, ast.Name) and text is not None:
                    texts[target.id] = text

    # Paths -------------------------------------------------------------------------

    def _path(
        self, node: ast.expr, paths: dict[str, _ChannelPath], texts: dict[str, str]
    ) -> _ChannelPath | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return self._literal_path(node.value)
        if isinstance(node, ast.Name):
            if node.id in paths:
                return paths[node.id]
            constant = self.constants.get(node.id)
            return self._literal_path(constant) if isinstance(constant, str) else None
        if isinstance(node, ast.Subscript):
            return self._keyed_path(node.value, node.slice)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.Add):
            base = self._path(node.left, paths, texts)
            if base is None:
                return None
            return self._nested(base.joined(self._text(node.right, texts, loose=True) or "*"))
        if isinstance(node, ast.JoinedStr):
            return self._fstring_path(node, paths, texts)
        if isinstance(node, ast.Call):
            return self._call_path(node, paths, texts)
        return None

    def _literal_path(self, text: str) -> _ChannelPath | None:
        text = text.rstrip("/")
        # The deepest channel holding the path: a channel nested in another one.
        for name, path in sorted(self.inputs.items(), key=lambda item: -len(item[1])):
            if text == path:
                return _ChannelPath(name, ())
            if text.startswith(path + "/"):
                return _ChannelPath(name, (text[len(path) + 1 :],))
        return None

    def _keyed_path(self, base: ast.expr, key_node: ast.expr) -> _ChannelPath | None:
        key = string(key_node)
        if key is None:
            return None
        if key in self.inputs:
            return _ChannelPath(key, ())
        if key in getattr(self, "aliases", {}) and not is_constant_table(base, self.constants):
            return _ChannelPath(self.aliases[key], ())
        if isinstance(base, ast.Name):
            table = self.constants.get(base.id)
            if isinstance(table, dict) and isinstance(table.get(key), str):
                return self._literal_path(table[key])
        return None

    def _fstring_path(
        self, node: ast.JoinedStr, paths: dict[str, _ChannelPath], texts: dict[str, str]
    ) -> _ChannelPath | None:
        if not node.values or not isinstance(node.values[0], ast.FormattedValue):
            return None
        base = self._path(node.values[0].value, paths, texts)
        if base is None:
            return None
        rest = ast.JoinedStr(values=node.values[1:])
        return base.joined(self._text(rest, texts, loose=True) or "")

    def _call_path(
        self, node: ast.Call, paths: dict[str, _ChannelPath], texts: dict[str, str]
    ) -> _ChannelPath | None:
        name = call_name(node)
        if name == "get" and node.args and isinstance(node.func, ast.Attribute):
            keyed = self._keyed_path(node.func.value, node.args[0])
            if keyed is not None:
                return keyed
            return self._path(node.args[1], paths, texts) if len(node.args) > 1 else None
        if name in ("resolve", "absolute", "expanduser") and isinstance(node.func, ast.Attribute):
            return self._path(node.func.value, paths, texts)
        if name not in _JOINERS or not node.args:
            return None
        base = self._path(node.args[0], paths, texts)
        if base is None:
            return None
        rest = [self._text(arg, texts, loose=True) or "*" for arg in node.args[1:]]
        return self._nested(base.joined(*rest))

    def _nested(self, path: _ChannelPath) -> _ChannelPath:
        """A path below one channel that lies in another channel nested in it."""
        if not path.parts:
            return path
        inner = self._literal_path(f"{self.inputs[path.channel]}/{path.relative}")
        return inner if inner is not None else path

    def _text(self, node: ast.expr | None, texts: dict[str, str], *, loose: bool) -> str | None:
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in texts:
                return texts[node.id]
            constant = self.constants.get(node.id)
            if isinstance(constant, str):
                return constant
            return f"{{{node.id}}}" if loose else None
        if isinstance(node, ast.JoinedStr):
            pieces = []
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    pieces.append(self._text(value.value, texts, loose=True) or "*")
                else:
                    pieces.append(self._text(value, texts, loose=True) or "")
            return "".join(pieces)
        return "*" if loose else None

    # Reads -------------------------------------------------------------------------

    def _call(self, node: ast.Call, paths: dict[str, _ChannelPath], texts: dict[str, str]) -> None:
        name = call_name(node)
        dotted_name = dotted(node.func)
        self._column_call(node, name)
        self._taint_callee(node, name, paths, texts)
        reader = reader_of(name, dotted_name)
        if reader is None:
            return
        target = self._read_target(node, name, paths, texts)
        if target is not None:
            self._record(target, reader, node.lineno)

    def _read_target(
        self, node: ast.Call, name: str, paths: dict[str, _ChannelPath], texts: dict[str, str]
    ) -> _ChannelPath | None:
        if node.args:
            target = self._path(node.args[0], paths, texts)
            if target is not None:
                return target
        if isinstance(node.func, ast.Attribute):
            base = self._path(node.func.value, paths, texts)
            if base is not None and name in ("glob", "rglob") and node.args:
                return base.joined(self._text(node.args[0], texts, loose=True) or "*")
            return base
        return None

    def _record(self, target: _ChannelPath, reader: str, line: int) -> None:
        content = self.content[target.channel]
        key = (target.channel, target.relative + reader, line)
        if key in self.seen:
            return
        self.seen.add(key)
        content.files.append(FileUse(target.relative, reader, line))
        if reader != "exists" and content.read_line is None:
            content.read_line = line

    def _guard(self, branch: ast.If, paths: dict[str, _ChannelPath], texts: dict[str, str]) -> None:
        # `if not exists(dir): raise ...` makes the channel required, not optional.
        failing = branch.body if isinstance(branch.test, ast.UnaryOp) else branch.orelse
        if fails(failing):
            return
        for node in ast.walk(branch.test):
            if not isinstance(node, ast.Call) or call_name(node) not in EXISTENCE_CHECKS:
                continue
            target = self._read_target(node, call_name(node), paths, texts)
            if target is None or target.parts:
                continue
            content = self.content[target.channel]
            if content.optional_line is None or self.at_module:
                content.optional_line = node.lineno
                content.guarded_at_top = content.guarded_at_top or self.at_module

    def _taint_callee(
        self, node: ast.Call, name: str, paths: dict[str, _ChannelPath], texts: dict[str, str]
    ) -> None:
        function = self.functions.get(name)
        if function is None:
            return
        params = [arg.arg for arg in function.args.args]
        if isinstance(node.func, ast.Attribute) and params[:1] == ["self"]:
            params = params[1:]
        bound = list(zip(params, node.args, strict=False))
        bound += [(kw.arg, kw.value) for kw in node.keywords if kw.arg in params]
        binding = _Binding()
        for param, value in bound:
            path = self._path(value, paths, texts)
            if path is not None:
                binding.paths[param] = path
            elif isinstance(value, ast.Name | ast.JoinedStr | ast.Constant):
                text = self._text(value, texts, loose=True)
                if text is not None and text != "*":
                    binding.texts[param] = text
        known = self.bindings.setdefault(function.name, [])
        if binding.paths and binding not in known and len(known) < _MAX_BINDINGS:
            known.append(binding)

    # Columns -----------------------------------------------------------------------

    def _subscript(self, node: ast.Subscript, json_vars: set[str]) -> None:
        if not isinstance(node.ctx, ast.Load) or not isinstance(node.value, ast.Name):
            return
        base = node.value.id
        keys = string_list(node.slice) or (
            (key,) if (key := string(node.slice)) is not None else ()
        )
        if base in json_vars:
            for key in keys:
                self.json_keys.setdefault(key, node.lineno)
        elif _FRAME_NAME.match(base):
            self._columns(keys, node.lineno)

    def _column_call(self, node: ast.Call, name: str) -> None:
        if name in _COLUMN_CALLS and node.args:
            self._columns(names_in(node.args[0]), node.lineno)
        if name == "drop" or name in TABLE_READERS or name in _COLUMN_CALLS or name == "merge":
            for keyword in node.keywords:
                if keyword.arg in _COLUMN_KEYWORDS:
                    self._columns(names_in(keyword.value), node.lineno)
        if name == "get" and isinstance(node.func, ast.Attribute):
            base = node.func.value
            key = string(node.args[0]) if node.args else None
            if isinstance(base, ast.Name) and key is not None and "config" in base.id.lower():
                self.json_keys.setdefault(key, node.lineno)

    def _columns(self, names: Iterable[str], line: int) -> None:
        for name in names:
            if is_column_name(name) and name not in self.inputs:
                self.columns.setdefault(name, line)
