"""Infer a script's production contract from its AST, never importing or running it.

Finds the container paths it reads and writes (named as its ``__main__`` block names
them), the environment variables it reads, its argparse arguments, its ``main``
signature and relative imports, and whether it is a Processing or a Training script.

Holds the public contract types, the one-pass AST scanner and the assembly of its
findings; folding path expressions and naming channels is :mod:`sandbox.contract._inference_paths`.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.constants import (
    HYPERPARAMETERS_FILE,
    MODEL_DIR,
    OUTPUT_DATA_DIR,
    PROCESSING_ROOT,
    JobKind,
)
from sandbox.contract._inference_paths import (
    DICT_KEY,
    FOLDER_NAME,
    GET_KEY,
    MAIN_KEY,
    NOT_LITERAL,
    TRAINING_DATA,
    TRAINING_ROOTS,
    PathUse,
    Resolver,
    channel_for,
    group_channels,
    normalize,
    under,
)
from sandbox.errors import SpecError

__all__ = [
    "NOT_LITERAL",
    "InferredArgument",
    "InferredContract",
    "JobKind",
    "infer_contract",
    "infer_contract_from_file",
]

logger = logging.getLogger(__name__)

_SM_OUTPUT_VARIABLES = {
    "SM_MODEL_DIR": MODEL_DIR,
    "SM_OUTPUT_DATA_DIR": OUTPUT_DATA_DIR,
}
_SM_TRAINING_VARIABLE = re.compile(
    r"^SM_(MODEL_DIR|OUTPUT_DATA_DIR|CHANNELS|CHANNEL_\w+|HPS|HP_\w+)$"
)
_COLUMN_VARIABLE = re.compile(r"^(LABEL_FIELD|\w+_(FIELDS?|COLS?|COLUMNS?))$")
_PATH_NODES = (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call)
_ARGPARSE_NARGS = {
    "argparse.OPTIONAL": "?",
    "argparse.ZERO_OR_MORE": "*",
    "argparse.ONE_OR_MORE": "+",
    "argparse.REMAINDER": "...",
}
# What argparse stores when an action has no `default=`; any other action stores None.
_IMPLICIT_DEFAULTS: dict[str, object] = {
    "store_true": False,
    "store_false": True,
    "help": argparse.SUPPRESS,  # no attribute at all
    "version": argparse.SUPPRESS,
}


@dataclass(frozen=True)
class InferredArgument:
    """One ``add_argument`` call, with what argparse needs to rebuild the value it stores.

    Two arguments compare equal when name, required, default and choices do; the other
    fields describe how the value is typed and take no part in equality.

    Attributes:
        name: Destination name (the attribute on the parsed namespace).
        required: Whether argparse insists on it.
        default: ``str()`` of the default (``"False"`` for a bare ``store_true``); None
            when there is none or it is not a literal.
        choices: ``str()`` of each allowed value; empty when any value goes.
        action: The ``action=`` string (``"store"`` when not given), the dotted name of an
            Action class (``"argparse.BooleanOptionalAction"``), or None if unknowable.
        type_name: Dotted name of the ``type=`` callable (``"int"``, ``"float"``,
            ``"str2bool"``); None when there is no ``type=`` or it is not a name (a lambda).
        nargs: ``nargs=`` as text (``"?"``, ``"*"``, ``"+"``, ``"..."``, ``"2"``); None if absent.
        const: ``str()`` of ``const=``; None if absent or not a literal.
        const_value: The Python value of ``const=``: None if absent (as argparse), or
            :data:`NOT_LITERAL`.
        default_value: The Python value argparse starts from (``3``, ``False``, ``None``,
            ``[1, 2]``, ``"==SUPPRESS=="``), or :data:`NOT_LITERAL` when it cannot be known.
        option_strings: The option strings (``("-m", "--mode")``); empty for a positional.
    """

    name: str
    required: bool
    default: str | None
    choices: tuple[str, ...] = ()
    action: str | None = field(default="store", compare=False, kw_only=True)
    type_name: str | None = field(default=None, compare=False, kw_only=True)
    nargs: str | None = field(default=None, compare=False, kw_only=True)
    const: str | None = field(default=None, compare=False, kw_only=True)
    const_value: object = field(default=None, compare=False, kw_only=True)
    default_value: object = field(default=NOT_LITERAL, compare=False, kw_only=True)
    option_strings: tuple[str, ...] = field(default=(), compare=False, kw_only=True)


@dataclass(frozen=True)
class InferredContract:
    """What a script expects from its container, as read from its source.

    Attributes:
        kind: Processing or Training.
        kind_reason: What decided the kind, e.g. ``"uses /opt/ml/input/data/train"``.
        inputs: Logical channel name to container path of each input.
        outputs: Logical channel name to container path of each output.
        required_env: Variables read as ``os.environ["X"]`` (no default, not guarded).
        optional_env: Variables read with a fallback, mapped to their default or None.
        arguments: argparse arguments by destination name.
        has_main: Whether the module defines a top-level ``main`` function.
        main_params: Parameter names of ``main``, in order.
        relative_imports: Modules imported relatively, e.g. ``"..hyperparams"``.
        column_env_vars: Variables read that name a column (``LABEL_FIELD``, ``*_FIELD``...).
        training_hyperparameters_file: Whether it reads the training hyperparameters file.
    """

    kind: JobKind
    kind_reason: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    required_env: tuple[str, ...]
    optional_env: dict[str, str | None]
    arguments: dict[str, InferredArgument]
    has_main: bool
    main_params: tuple[str, ...]
    relative_imports: tuple[str, ...]
    column_env_vars: tuple[str, ...]
    training_hyperparameters_file: bool


def infer_contract(source: str, filename: str = "<script>") -> InferredContract:
    """Infer the contract of a script from its source text.

    Args:
        source: The script's Python source.
        filename: Name used in error messages.

    Returns:
        The inferred contract.

    Raises:
        SpecError: The source is not valid Python, or is nested too deeply to analyse.
    """
    tree = _parse(source, filename)
    try:
        resolver = Resolver(tree)
        scanner = _Scanner(resolver, _main_guards(tree))
        scanner.visit(tree)
    except RecursionError as exc:
        raise SpecError(filename, "cannot analyse: expressions are nested too deeply") from exc
    contract = _assemble(tree, scanner)
    logger.debug("inferred contract of %s: %s", filename, contract)
    return contract


def infer_contract_from_file(path: Path) -> InferredContract:
    """Infer the contract of the script at ``path`` (honouring its coding cookie).

    Raises:
        SpecError: The file cannot be read or is not valid Python.
    """
    try:
        source = importlib.util.decode_source(path.read_bytes())
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        raise SpecError(str(path), f"cannot read: {exc}") from exc
    return infer_contract(source, str(path))


def _parse(source: str, filename: str) -> ast.Module:
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        raise SpecError(filename, f"cannot parse: {exc.msg}{where}") from exc
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, deep nesting
        raise SpecError(filename, f"cannot parse: {exc}") from exc


@dataclass
class _EnvReads:
    required: list[str] = field(default_factory=list)
    defaults: dict[str, str | None] = field(default_factory=dict)
    guarded: set[str] = field(default_factory=set)
    order: list[str] = field(default_factory=list)

    def read(self, name: str, *, required: bool, default: str | None = None) -> None:
        if name not in self.order:
            self.order.append(name)
        if required and name not in self.required:
            self.required.append(name)
        if not required and self.defaults.get(name) is None:
            self.defaults[name] = default

    def required_names(self) -> tuple[str, ...]:
        return tuple(n for n in self.required if n not in self.guarded and not _is_sm(n))

    def optional_defaults(self) -> dict[str, str | None]:
        required = set(self.required_names())
        names = [n for n in self.order if n not in required and not _is_sm(n)]
        return {name: self.defaults.get(name) for name in names}

    def column_names(self) -> tuple[str, ...]:
        return tuple(n for n in self.order if _COLUMN_VARIABLE.match(n) and not _is_sm(n))


def _is_sm(name: str) -> bool:
    return name.startswith("SM_")


class _Scanner(ast.NodeVisitor):
    """One pass over the tree collecting paths, env reads, arguments and imports."""

    def __init__(self, resolver: Resolver, main_guards: set[int]) -> None:
        self.resolver = resolver
        self.uses: list[PathUse] = []
        self.env = _EnvReads()
        self.arguments: dict[str, InferredArgument] = {}
        self.relative_imports: list[str] = []
        self.training_evidence: list[tuple[tuple[int, int], str]] = []
        self.uses_processing = False
        self.reads_hyperparameters = False
        self._main_guards = main_guards
        self._in_main = False
        self._folded: set[int] = set()

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, _PATH_NODES) and id(node) not in self._folded:
            self._record_expression(node)
        super().visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.generic_visit(node)  # a bare string is a docstring or a comment, not a path

    def visit_If(self, node: ast.If) -> None:
        in_main, self._in_main = self._in_main, self._in_main or id(node) in self._main_guards
        self.generic_visit(node)
        self._in_main = in_main

    def visit_Dict(self, node: ast.Dict) -> None:
        priority = MAIN_KEY if self._in_main else DICT_KEY
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self._record_named(value, key.value, priority)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        self._record_env_getter(node)
        self._record_get_default(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            argument = _argument(node, self.resolver)
            if argument is not None:
                self.arguments.setdefault(argument.name, argument)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Load) and self.resolver.canonical(node.value) == "os.environ":
            name = self.resolver.string(node.slice)
            if name:
                self.env.read(name, required=True)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        membership = len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn))
        name = self.resolver.string(node.left) if membership else None
        if name and self.resolver.canonical(node.comparators[0]) == "os.environ":
            self.env.guarded.add(name)
            self.env.read(name, required=False)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        if node.level and module not in self.relative_imports:
            self.relative_imports.append(module)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and _SM_TRAINING_VARIABLE.match(node.value):
            self._record_sm_variable(node.value, (node.lineno, node.col_offset))

    def _record_sm_variable(self, name: str, position: tuple[int, int]) -> None:
        self.training_evidence.append((position, f"uses {name}"))
        if name.startswith("SM_CHANNEL_"):
            channel = name.removeprefix("SM_CHANNEL_").lower()
            self.uses.append(PathUse(f"{TRAINING_DATA}/{channel}", position))
        elif name in _SM_OUTPUT_VARIABLES:
            self.uses.append(PathUse(_SM_OUTPUT_VARIABLES[name], position))

    def _record_env_getter(self, node: ast.Call) -> None:
        getter = self.resolver.env_getter(node)
        name = self.resolver.string(getter[0]) if getter else None
        if getter and name:
            self.env.read(name, required=False, default=self.resolver.literal_text(getter[1]))

    def _record_get_default(self, node: ast.Call) -> None:
        """``input_paths.get("data_input", "/opt/ml/...")``: the key names the path."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "get" and len(node.args) > 1):
            return
        key = self.resolver.string(node.args[0])
        if key and self.resolver.canonical(func.value) != "os.environ":
            self._record_named(node.args[1], key, GET_KEY)

    def _record_named(self, value: ast.expr, name: str, priority: int) -> None:
        folded = self.resolver.fold(value)
        if folded and folded[1]:
            self._add_use(folded[0], value, name, priority)

    def _record_expression(self, node: ast.expr) -> None:
        if isinstance(node, ast.Call) and not self.resolver.is_path_builder(node):
            return
        folded = self.resolver.fold(node)
        if folded is None:
            return
        self._folded.update(id(child) for child in ast.walk(node))
        first = self.resolver.first_piece(node)
        use_first = first is not None and channel_for(first) is not None
        self._add_use(first if use_first and first else folded[0], node)

    def _add_use(
        self, text: str, node: ast.expr, name: str | None = None, priority: int = FOLDER_NAME
    ) -> None:
        path = normalize(text)
        if path is None:
            return
        position = (node.lineno, node.col_offset)
        self.uses_processing = self.uses_processing or under(path, PROCESSING_ROOT)
        self.reads_hyperparameters = self.reads_hyperparameters or path == HYPERPARAMETERS_FILE
        if any(under(path, root) for root in TRAINING_ROOTS):
            self.training_evidence.append((position, f"uses {path}"))
        self.uses.append(PathUse(path, position, name, priority))


def _argument(call: ast.Call, resolver: Resolver) -> InferredArgument | None:
    flags = [resolver.string(arg) for arg in call.args]
    names = [flag for flag in flags if flag]
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    if not names:
        return None
    positional = not names[0].startswith("-")
    dest = resolver.string(keywords.get("dest")) or _dest(names, positional)
    nargs = _nargs(keywords.get("nargs"), resolver)
    required = resolver.literal_text(keywords.get("required")) == "True" or (
        positional and nargs not in ("?", "*")
    )
    action = _action(keywords.get("action"), resolver)
    const = keywords.get("const")
    return InferredArgument(
        dest,
        required,
        _argument_default(keywords, resolver),
        _choices(keywords),
        action=action,
        type_name=_type_name(keywords.get("type"), resolver),
        nargs=nargs,
        const=resolver.literal_text(const),
        const_value=None if const is None else resolver.literal(const),
        default_value=_default_value(keywords, action, resolver),
        option_strings=() if positional else tuple(names),
    )


def _nargs(node: ast.expr | None, resolver: Resolver) -> str | None:
    """``nargs=`` as text; ``argparse.ONE_OR_MORE`` and its kin give their symbol."""
    if node is None:
        return None
    return resolver.literal_text(node) or _ARGPARSE_NARGS.get(resolver.canonical(node) or "")


def _action(node: ast.expr | None, resolver: Resolver) -> str | None:
    """The action string; an Action class gives its dotted name."""
    if node is None:
        return "store"
    return resolver.string(node) or resolver.canonical(node)


def _type_name(node: ast.expr | None, resolver: Resolver) -> str | None:
    return None if node is None else resolver.canonical(node)


def _default_value(keywords: dict[str, ast.expr], action: str | None, resolver: Resolver) -> object:
    if "default" in keywords:
        return resolver.literal(keywords["default"])
    return _IMPLICIT_DEFAULTS.get(action or "")


def _dest(names: list[str], positional: bool) -> str:
    if positional:
        return names[0]
    long_option = next((name for name in names if name.startswith("--")), names[0])
    return long_option.lstrip("-").replace("-", "_")


def _argument_default(keywords: dict[str, ast.expr], resolver: Resolver) -> str | None:
    if "default" in keywords:
        return resolver.literal_text(keywords["default"])
    action = resolver.literal_text(keywords.get("action"))
    return {"store_true": "False", "store_false": "True"}.get(action or "")


def _choices(keywords: dict[str, ast.expr]) -> tuple[str, ...]:
    node = keywords.get("choices")
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return ()
    try:
        return tuple(str(ast.literal_eval(element)) for element in node.elts)
    except (ValueError, TypeError):
        return ()


def _main_guards(tree: ast.Module) -> set[int]:
    """Ids of top-level ``if __name__ == "__main__":`` statements."""
    tests = {"__name__ == '__main__'", "'__main__' == __name__"}
    return {id(n) for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) in tests}


def _main_parameters(tree: ast.Module) -> tuple[str, ...] | None:
    """Parameter names of the top-level ``main`` function; None if there is none."""
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    mains = [node for node in tree.body if isinstance(node, kinds) and node.name == "main"]
    if not mains:
        return None
    args = mains[-1].args
    ordered = [*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg]
    return tuple(arg.arg for arg in ordered if arg is not None)


def _kind(
    evidence: list[tuple[tuple[int, int], str]], uses_processing: bool
) -> tuple[JobKind, str]:
    if evidence:
        reason = min(evidence)[1]
        if uses_processing:
            reason += " (also uses /opt/ml/processing/ paths)"
        return JobKind.TRAINING, reason
    if uses_processing:
        return JobKind.PROCESSING, "uses /opt/ml/processing/ paths"
    return JobKind.PROCESSING, "no /opt/ml/ training paths or SM_ training variables found"


def _assemble(tree: ast.Module, scanner: _Scanner) -> InferredContract:
    inputs, outputs = group_channels(scanner.uses)
    kind, reason = _kind(scanner.training_evidence, scanner.uses_processing)
    main_params = _main_parameters(tree)
    return InferredContract(
        kind=kind,
        kind_reason=reason,
        inputs=inputs,
        outputs=outputs,
        required_env=scanner.env.required_names(),
        optional_env=scanner.env.optional_defaults(),
        arguments=dict(scanner.arguments),
        has_main=main_params is not None,
        main_params=main_params or (),
        relative_imports=tuple(scanner.relative_imports),
        column_env_vars=scanner.env.column_names(),
        training_hyperparameters_file=scanner.reads_hyperparameters,
    )
