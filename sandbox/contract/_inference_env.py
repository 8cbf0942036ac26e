"""How a script reads its environment, beyond ``os.environ[...]``: names bound to
``os.environ.get``, keys of a dict of defaults iterated into ``os.environ.get``, helpers
that take a variable's name, and the checks after a read that make a variable required
(an emptiness test followed by ``raise`` or an exit)."""

from __future__ import annotations

import ast
import re

from sandbox.contract._inference_paths import Resolver

__all__ = [
    "emptiness_tested",
    "env_bindings",
    "env_helpers",
    "env_keys",
    "iterated_env_defaults",
    "names_in_messages",
    "stops",
]

_EXITS = frozenset({"sys.exit", "exit", "quit", "os._exit"})


def env_bindings(tree: ast.Module, resolver: Resolver) -> dict[str, ast.Call]:
    """Variables bound to one ``.get("X")`` call (``os.environ.get``, ``environ_vars.get``)."""
    bindings: dict[str, ast.Call] = {}
    ambiguous: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            continue
        value, variable = node.value, targets[0].id
        is_get = (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "get"
        ) or (isinstance(value, ast.Call) and resolver.env_getter(value) is not None)
        if not is_get or variable in bindings:
            ambiguous.add(variable)
            continue
        assert isinstance(value, ast.Call)
        bindings[variable] = value
    return {k: v for k, v in bindings.items() if k not in ambiguous}


def env_keys(tree: ast.Module, resolver: Resolver) -> dict[str, str]:
    """Every variable read from ``os.environ``, and its first read as written."""
    keys: dict[str, str] = {}
    nodes = sorted(
        (n for n in ast.walk(tree) if isinstance(n, (ast.Call, ast.Subscript))),
        key=lambda n: (n.lineno, n.col_offset),
    )
    for node in nodes:
        name = None
        if isinstance(node, ast.Call) and (getter := resolver.env_getter(node)):
            name = resolver.string(getter[0])
        elif isinstance(node, ast.Subscript) and resolver.canonical(node.value) == "os.environ":
            name = resolver.string(node.slice)
        if name:
            keys.setdefault(name, ast.unparse(node))
    return keys


def env_helpers(tree: ast.Module, resolver: Resolver) -> dict[str, tuple[int, int | None]]:
    """Functions that read the variable named by a parameter: name -> (that parameter's
    index, the index of the parameter passed on as the default, if any)."""
    helpers: dict[str, tuple[int, int | None]] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        params = [arg.arg for arg in node.args.args]
        for call in ast.walk(node):
            getter = resolver.env_getter(call) if isinstance(call, ast.Call) else None
            if not getter or not isinstance(getter[0], ast.Name) or getter[0].id not in params:
                continue
            default = getter[1]
            default_index = (
                params.index(default.id)
                if isinstance(default, ast.Name) and default.id in params
                else params.index("default")
                if "default" in params
                else None
            )
            helpers[node.name] = (params.index(getter[0].id), default_index)
            break
    return helpers


def iterated_env_defaults(node: ast.For, resolver: Resolver) -> list[tuple[str, str | None]]:
    """The variables a loop reads: ``for k, v in {...}.items(): os.environ.get(k, v)``."""
    target, source = node.target, node.iter
    key = target.elts[0] if isinstance(target, ast.Tuple) and target.elts else target
    if not isinstance(key, ast.Name):
        return []
    reads = [
        call
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and (getter := resolver.env_getter(call))
        and isinstance(getter[0], ast.Name)
        and getter[0].id == key.id
    ]
    if not reads:
        return []
    items = _iterated_items(source, resolver)
    return [(name, default) for name, default in items if name]


def _iterated_items(source: ast.expr, resolver: Resolver) -> list[tuple[str, str | None]]:
    if (
        isinstance(source, ast.Call)
        and isinstance(source.func, ast.Attribute)
        and source.func.attr == "items"
    ):
        mapping = resolver.dict_literal(source.func.value)
        return [] if mapping is None else list(mapping.items())
    if isinstance(source, (ast.List, ast.Tuple, ast.Set)):
        return [(name, None) for name in map(resolver.string, source.elts) if name]
    mapping = resolver.dict_literal(source)
    return [] if mapping is None else [(name, None) for name in mapping]


def stops(body: list[ast.stmt], resolver: Resolver) -> str | None:
    """``"raises"`` or ``"exits"`` when a block stops the script, else None."""
    for statement in body:
        if isinstance(statement, ast.Raise):
            return "raises"
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            name = resolver.canonical(call.func) or ""
            if name in _EXITS or name.endswith(".error"):  # parser.error(...)
                return "exits"
    return None


def emptiness_tested(test: ast.expr) -> list[ast.expr]:
    """The expressions an ``if`` checks for being empty: ``not x``, ``x is None``,
    ``x == ""``, ``not x.strip()``, joined by ``or``/``and``."""
    if isinstance(test, ast.BoolOp):
        return [expr for value in test.values for expr in emptiness_tested(value)]
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        operand = test.operand
        if (
            isinstance(operand, ast.Call)
            and isinstance(operand.func, ast.Attribute)
            and operand.func.attr == "strip"
        ):
            operand = operand.func.value
        return [operand]
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        right = test.comparators[0]
        empty = isinstance(right, ast.Constant) and right.value in (None, "")
        if empty and isinstance(test.ops[0], (ast.Is, ast.Eq)):
            return [test.left]
    return []


def names_in_messages(body: list[ast.stmt], known: list[str]) -> list[str]:
    """Variables named in the message of a ``raise`` right in ``body``."""
    texts = [
        node.value
        for statement in body
        if isinstance(statement, ast.Raise)
        for node in ast.walk(statement)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    return [name for name in known if any(re.search(rf"\b{name}\b", t) for t in texts)]
