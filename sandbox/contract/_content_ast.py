"""AST helpers of :mod:`sandbox.contract.channel_content`: names of calls, literal strings and
lists, module constants, and which call reads a file how."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

__all__ = [
    "EXISTENCE_CHECKS",
    "LISTERS",
    "SPLIT_NAMES",
    "TABLE_READERS",
    "call_name",
    "dotted",
    "fails",
    "is_column_name",
    "is_constant_table",
    "is_json_load",
    "module_constants",
    "names_in",
    "reader_of",
    "string",
    "string_list",
    "walk_statement",
]

TABLE_READERS = {"read_csv": "csv", "read_parquet": "parquet", "read_json": "jsonl"}
MODEL_READERS = {"load_model": "model", "joblib.load": "pickle", "pickle.load": "pickle"}
EXISTENCE_CHECKS = {
    "os.path.exists", "os.path.isfile", "os.path.isdir", "exists", "is_file", "is_dir"
}  # fmt: skip
LISTERS = {"glob", "rglob", "glob.glob", "os.listdir", "iterdir", "os.walk", "listdir"}
SPLIT_NAMES = {"train", "val", "test", "validation", "calibration", "training", "testing"}


def walk_statement(statement: ast.stmt) -> Iterable[ast.AST]:
    """Nodes of a statement in source order, not entering nested functions or classes."""
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if node is not statement and isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
        ):
            continue
        yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def is_column_name(name: str) -> bool:
    """Not a split name, an environment variable or a path."""
    return bool(name) and name not in SPLIT_NAMES and not name.isupper() and "/" not in name


def fails(body: list[ast.stmt]) -> bool:
    """Whether a branch gives up: raises or exits."""
    for statement in body:
        if isinstance(statement, ast.Raise):
            return True
        call = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(call, ast.Call) and dotted(call.func) in ("sys.exit", "exit"):
            return True
    return False


def is_constant_table(base: ast.expr, constants: Mapping[str, object]) -> bool:
    return isinstance(base, ast.Name) and isinstance(constants.get(base.id), dict)


def reader_of(name: str, dotted: str | None) -> str | None:
    if name in TABLE_READERS:
        return TABLE_READERS[name]
    if dotted in MODEL_READERS:
        return MODEL_READERS[dotted]
    if name == "load_model":
        return "model"
    if dotted in ("tarfile.open", "tarfile.is_tarfile"):
        return "tar"
    if name == "open":
        return "path"
    if name in EXISTENCE_CHECKS:
        return "exists"
    if name in LISTERS or dotted in LISTERS:
        return "list"
    return None


def is_json_load(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and dotted(node.func) in ("json.load", "json.loads")


def call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return None


def string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def string_list(node: ast.AST) -> tuple[str, ...]:
    if not isinstance(node, ast.List | ast.Tuple | ast.Set) or not node.elts:
        return ()
    strings = tuple(text for elt in node.elts if (text := string(elt)) is not None)
    return strings if len(strings) == len(node.elts) else ()


def names_in(node: ast.expr) -> tuple[str, ...]:
    if (text := string(node)) is not None:
        return (text,)
    if isinstance(node, ast.Dict):
        return tuple(key for k in node.keys if (key := string(k)) is not None)
    return string_list(node)


def module_constants(tree: ast.Module) -> dict[str, object]:
    constants: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        try:
            constants[target.id] = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
    return constants
