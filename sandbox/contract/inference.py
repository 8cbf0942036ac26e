"""Infer a script's production contract from its AST, never importing or running it.

Finds the container paths it reads and writes (named as its ``__main__`` block names
them), the environment variables it reads, its argparse arguments, its ``main``
signature and relative imports, and whether it is a Processing or a Training script.

Holds the public contract types, the one-pass AST scanner and the assembly of its
findings; folding path expressions and naming channels is :mod:`sandbox.contract._inference_paths`,
argparse calls :mod:`sandbox.contract._inference_args`, environment reads
:mod:`sandbox.contract._inference_env`.
"""

from __future__ import annotations

import ast
import importlib.util
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from sandbox.constants import (
    HYPERPARAMETERS_FILE,
    MODEL_DIR,
    OUTPUT_DATA_DIR,
    PROCESSING_ROOT,
    JobKind,
)
from sandbox.contract._inference_args import InferredArgument, argument_of
from sandbox.contract._inference_env import (
    emptiness_tested,
    env_bindings,
    env_helpers,
    env_keys,
    iterated_env_defaults,
    names_in_messages,
    stops,
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
_PATH_NODES = (
    ast.Constant,
    ast.JoinedStr,
    ast.BinOp,
    ast.Call,
    ast.Name,
    ast.Subscript,
    ast.Attribute,
)
# How a call uses a path given to it: method or function name -> "read" / "write".
_WRITERS = frozenset(
    {
        "to_csv", "to_parquet", "to_json", "to_pickle", "to_excel", "to_feather", "savefig",
        "save", "save_model", "savetxt", "makedirs", "mkdir", "write_text", "write_bytes",
        "touch", "extractall", "dump", "copytree",
    }
)  # fmt: skip
_READERS = frozenset(
    {
        "read_csv", "read_parquet", "read_json", "read_pickle", "read_table", "read_excel",
        "read_feather", "load", "load_model", "loadtxt", "listdir", "scandir", "walk", "glob",
        "iglob", "rglob", "iterdir", "exists", "isfile", "isdir", "getsize", "read_text",
        "read_bytes", "is_file", "is_dir", "Booster",
    }
)  # fmt: skip
_OPENERS = frozenset({"open", "tarfile.open", "gzip.open", "bz2.open", "zipfile.ZipFile"})
_COPIERS = frozenset({"copy", "copy2", "copyfile", "move", "copytree"})


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
        env_reads: How the script reads each required variable, as its source says it
            (``os.environ['X']``, ``os.environ.get('X'), then raises when it is empty``).
        parses_known_args: Whether it calls ``parse_known_args`` (unknown options pass).
        other_inputs: Input channels of the other kind of job, for a ``--kind`` override.
        other_outputs: Output channels of the other kind of job.
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
    env_reads: dict[str, str] = field(default_factory=dict)
    parses_known_args: bool = False
    other_inputs: dict[str, str] = field(default_factory=dict)
    other_outputs: dict[str, str] = field(default_factory=dict)

    def for_kind(self, kind: JobKind) -> InferredContract:
        """This contract as a job of ``kind`` would run it: that kind's channels."""
        if kind is self.kind:
            return self
        return replace(
            self,
            kind=kind,
            inputs=self.other_inputs,
            outputs=self.other_outputs,
            other_inputs=self.inputs,
            other_outputs=self.outputs,
        )


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
        scanner = _Scanner(resolver, _main_guards(tree), tree)
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
    how: dict[str, str] = field(default_factory=dict)

    def read(self, name: str, *, required: bool, default: str | None = None, how: str = "") -> None:
        if name not in self.order:
            self.order.append(name)
        if required and name not in self.required:
            self.required.append(name)
            self.how.setdefault(name, how or f"os.environ[{name!r}]")
        if not required and self.defaults.get(name) is None:
            self.defaults[name] = default

    def required_names(self) -> tuple[str, ...]:
        return tuple(
            n
            for n in self.required
            if (n not in self.guarded or n in self.checked) and not _is_sm(n)
        )

    checked: set[str] = field(default_factory=set)
    """Read with a fallback, then refused when empty: required all the same."""

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

    def __init__(self, resolver: Resolver, main_guards: set[int], tree: ast.Module) -> None:
        self.resolver = resolver
        self.parses_known_args = False
        self._parents = {
            id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)
        }
        self._env_names = env_bindings(tree, resolver)
        self._env_keys = env_keys(tree, resolver)
        self._env_helpers = env_helpers(tree, resolver)
        self.uses: list[PathUse] = []
        self.env = _EnvReads()
        self.arguments: dict[str, InferredArgument] = {}
        self.relative_imports: list[str] = []
        self.training_evidence: list[tuple[tuple[int, int], str]] = []
        self.strong_training: set[str] = set()
        """Training evidence that is no mere mention: ``os.environ["SM_MODEL_DIR"]``,
        a training path used for itself rather than as a fallback."""
        self.uses_processing = False
        self.reads_hyperparameters = False
        self._main_guards = main_guards
        self._in_main = False
        self._folded: set[int] = set()

    def visit(self, node: ast.AST) -> None:
        loaded = not isinstance(getattr(node, "ctx", ast.Load()), (ast.Store, ast.Del))
        if isinstance(node, _PATH_NODES) and loaded and id(node) not in self._folded:
            self._record_expression(node)
        super().visit(node)

    def visit_For(self, node: ast.For) -> None:
        """``for name, default in DEFAULTS.items(): os.environ.get(name, default)``."""
        for name, default in iterated_env_defaults(node, self.resolver):
            self.env.read(name, required=False, default=default)
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.generic_visit(node)  # a bare string is a docstring or a comment, not a path

    def visit_If(self, node: ast.If) -> None:
        in_main, self._in_main = self._in_main, self._in_main or id(node) in self._main_guards
        self._record_refusal(node)
        self.generic_visit(node)
        self._in_main = in_main

    def _record_refusal(self, node: ast.If) -> None:
        """``if not x: raise ...`` (or ``sys.exit``) where ``x`` holds a variable read
        with ``.get``: the script refuses to run without it, so it is required."""
        stop = stops(node.body, self.resolver)
        if stop is None:
            return
        for expr in emptiness_tested(node.test):
            read = self._env_read_of(expr)
            if read is None:
                continue
            name, how, direct = read
            if direct:
                said = f"{how}, then {stop} when it is empty"
            elif name in self._env_keys and names_in_messages(node.body, [name]):
                said = f"{self._env_keys[name]}, passed on; {how} {stop} when it is empty"
            else:
                continue
            self.env.checked.add(name)
            self.env.read(name, required=True, how=said)
            if direct:  # the script's own read of the environment says it best
                self.env.how[name] = said

    def _env_read_of(self, expr: ast.expr) -> tuple[str, str, bool] | None:
        """(variable, how it is read, whether straight from ``os.environ``) of what an
        ``if`` tests; a ``.get`` on another mapping (``environ_vars``) counts only when
        the message it raises names the variable."""
        if isinstance(expr, ast.Name):
            expr = self._env_names.get(expr.id, expr)
        if not isinstance(expr, ast.Call):
            return None
        getter = self.resolver.env_getter(expr)
        if getter:
            name = self.resolver.string(getter[0])
            default = self.resolver.literal_text(getter[1])
            if default:  # a real fallback: unset is not empty
                return None
            return (name, ast.unparse(expr), True) if name else None
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and expr.args:
            name = self.resolver.string(expr.args[0])
            fallback = self.resolver.literal_text(expr.args[1]) if len(expr.args) > 1 else None
            return (name, ast.unparse(expr), False) if name and not fallback else None
        return None

    def visit_Dict(self, node: ast.Dict) -> None:
        priority = MAIN_KEY if self._in_main else DICT_KEY
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self._record_named(value, key.value, priority)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        self._record_env_getter(node)
        self._record_env_helper(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "parse_known_args":
            self.parses_known_args = True
        self._record_get_default(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            argument = argument_of(node, self.resolver)
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
            parent = self._parents.get(id(node))
            if isinstance(parent, ast.Subscript) and (
                self.resolver.canonical(parent.value) == "os.environ"
            ):
                self.strong_training.add(node.value)

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

    def _record_env_helper(self, node: ast.Call) -> None:
        """``_float_env("TRAIN_RATIO", 0.7)``: a function that reads its argument."""
        func = node.func
        helper = self._env_helpers.get(func.id) if isinstance(func, ast.Name) else None
        if helper is None:
            return
        key_index, default_index = helper
        if len(node.args) <= key_index:
            return
        name = self.resolver.string(node.args[key_index])
        default = None
        if default_index is not None and len(node.args) > default_index:
            default = self.resolver.literal_text(node.args[default_index])
        if name:
            self.env.read(name, required=False, default=default)

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
            self._add_use(folded[0], value, name, priority, mode=_mode_of_name(name))

    def _record_expression(self, node: ast.expr) -> None:
        if isinstance(node, ast.Call) and not self.resolver.is_path_builder(node):
            return
        folded = self.resolver.fold(node)
        if folded is None:
            return
        self._folded.update(id(child) for child in ast.walk(node))
        first = self.resolver.first_piece(node)
        use_first = first is not None and channel_for(first) is not None
        self._add_use(first if use_first and first else folded[0], node, mode=self._mode(node))

    def _mode(self, node: ast.expr) -> str | None:
        """Whether the code around a path expression reads or writes it."""
        child: ast.AST = node
        parent = self._parents.get(id(node))
        while parent is not None:
            if isinstance(parent, ast.Call) and child is not parent.func:
                if self.resolver.is_path_builder(parent):  # part of a longer path
                    child, parent = parent, self._parents.get(id(parent))
                    continue
                return _call_mode(parent, child, self.resolver)
            if isinstance(parent, ast.Attribute):  # Path(x).mkdir()
                call = self._parents.get(id(parent))
                if isinstance(call, ast.Call) and call.func is parent:
                    return _method_mode(parent.attr)
                return None
            if isinstance(parent, (ast.Assign, ast.AnnAssign)):
                target = parent.targets[0] if isinstance(parent, ast.Assign) else parent.target
                return _mode_of_name(target.id) if isinstance(target, ast.Name) else None
            if not isinstance(parent, (ast.keyword, ast.BinOp, ast.JoinedStr, ast.FormattedValue)):
                return None
            child, parent = parent, self._parents.get(id(parent))
        return None

    def _add_use(
        self,
        text: str,
        node: ast.expr,
        name: str | None = None,
        priority: int = FOLDER_NAME,
        *,
        mode: str | None = None,
    ) -> None:
        path = normalize(text)
        if path is None:
            return
        position = (node.lineno, node.col_offset)
        self.uses_processing = self.uses_processing or under(path, PROCESSING_ROOT)
        self.reads_hyperparameters = self.reads_hyperparameters or path == HYPERPARAMETERS_FILE
        if any(under(path, root) for root in TRAINING_ROOTS):
            self.training_evidence.append((position, f"uses {path}"))
            parent = self._parents.get(id(node))
            fallback = isinstance(parent, ast.Call) and self.resolver.env_getter(parent)
            if not fallback:
                self.strong_training.add(path)
        self.uses.append(PathUse(path, position, name, priority, mode))


def _call_mode(call: ast.Call, child: ast.AST, resolver: Resolver) -> str | None:
    """How ``call`` uses its argument ``child``: ``"read"``, ``"write"`` or None."""
    name = resolver.canonical(call.func) or ""
    short = name.rpartition(".")[2]
    if name in _OPENERS or short == "open":
        mode = call.args[1] if len(call.args) > 1 else None
        mode = mode or next((k.value for k in call.keywords if k.arg == "mode"), None)
        text = resolver.string(mode) if mode is not None else None
        return "write" if text and any(c in text for c in "wax") else "read"
    if short in _COPIERS:
        return "write" if len(call.args) > 1 and child is call.args[1] else "read"
    if short == "dump":  # joblib.dump(model, path): the path is the second argument
        return "write" if len(call.args) > 1 and child is call.args[1] else None
    return _method_mode(short)


def _method_mode(name: str) -> str | None:
    if name in _WRITERS:
        return "write"
    return "read" if name in _READERS else None


def _mode_of_name(name: str) -> str | None:
    """``output_dir``, ``data_output``: written; ``input_path``, ``model_input``: read."""
    lowered = name.lower()
    if "output" in lowered or lowered.startswith("out_") or lowered.endswith("_out"):
        return "write"
    return "read" if "input" in lowered else None


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
    evidence: list[tuple[tuple[int, int], str]], strong: int, processing: list[str]
) -> tuple[JobKind, str]:
    """Processing paths the script reads or writes win over a mention of a training
    variable (a debug print, a fallback); training wins only when the script reads more
    training variables and paths for themselves than it uses processing channels."""
    if evidence and strong > len(processing):
        reason = min(evidence)[1]
        if processing:
            reason += " (also uses /opt/ml/processing/ paths)"
        return JobKind.TRAINING, reason
    if processing:
        reason = "uses /opt/ml/processing/ paths"
        if evidence:
            reason += f"; its {min(evidence)[1].removeprefix('uses ')} does not make it training"
        return JobKind.PROCESSING, reason
    if evidence:
        return JobKind.TRAINING, min(evidence)[1]
    return JobKind.PROCESSING, "no /opt/ml/ training paths or SM_ training variables found"


def _assemble(tree: ast.Module, scanner: _Scanner) -> InferredContract:
    # Each kind's channels are named on their own: a job mounts only one kind.
    inputs, outputs = group_channels([u for u in scanner.uses if under(u.path, PROCESSING_ROOT)])
    training_inputs, training_outputs = group_channels(
        [u for u in scanner.uses if not under(u.path, PROCESSING_ROOT)]
    )
    processing = [*inputs.values(), *outputs.values()]
    kind, reason = _kind(scanner.training_evidence, len(scanner.strong_training), processing)
    main_params = _main_parameters(tree)
    return InferredContract(
        kind=kind,
        kind_reason=reason,
        inputs=inputs if kind is JobKind.PROCESSING else training_inputs,
        outputs=outputs if kind is JobKind.PROCESSING else training_outputs,
        required_env=scanner.env.required_names(),
        optional_env=scanner.env.optional_defaults(),
        arguments=dict(scanner.arguments),
        has_main=main_params is not None,
        main_params=main_params or (),
        relative_imports=tuple(scanner.relative_imports),
        column_env_vars=scanner.env.column_names(),
        training_hyperparameters_file=scanner.reads_hyperparameters,
        env_reads={
            name: how
            for name, how in scanner.env.how.items()
            if name in scanner.env.required_names()
        },
        parses_known_args=scanner.parses_known_args,
        other_inputs=training_inputs if kind is JobKind.PROCESSING else inputs,
        other_outputs=training_outputs if kind is JobKind.PROCESSING else outputs,
    )
