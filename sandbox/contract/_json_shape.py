"""The shape of the JSON a script loads, read from how its code indexes the loaded value.

``cfg = json.load(f)`` starts the trail; it is followed through subscripts and ``.get``
chains, local variables, ``for`` loops and comprehensions (a list's elements), attributes
of ``self`` and calls of the script's own functions, methods and classes (a parameter
receives what a call passes). Each place records what the code does with it: the keys it
reads (a key read only under ``if "key" in x`` is optional), the default a ``.get`` gives,
the literals it is compared with, and whether it is used as a number.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

from sandbox.contract._content_ast import call_name, dotted, is_json_load, string

__all__ = ["JsonShape", "infer_json_shape"]

_MAX_ROUNDS = 4
_MAX_BINDINGS = 4
_NUMBER_CASTS = {"float", "int", "round", "abs"}
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_NO_DEFAULT = object()


@dataclass(eq=False)
class JsonShape:
    """One place of the loaded JSON value, and what the code does with it."""

    keys: dict[str, JsonShape] = field(default_factory=dict)
    item: JsonShape | None = None
    needed: set[str] = field(default_factory=set)
    """Keys read with no guard: the code fails without them."""
    defaults: dict[str, object] = field(default_factory=dict)
    """Keys read with ``.get``: their literal default (None when it gives none)."""
    literals: list[object] = field(default_factory=list)
    numeric: bool = False

    def child(self, key: str) -> JsonShape:
        return self.keys.setdefault(key, JsonShape())

    def element(self) -> JsonShape:
        if self.item is None:
            self.item = JsonShape()
        return self.item

    def members(self) -> list[str]:
        """The keys a generated object must hold, in the order the code first read them."""
        return [key for key in self.keys if key in self.needed or key in self.defaults]

    def default_of(self, key: str) -> object:
        return self.defaults.get(key)

    def all_keys(self) -> set[str]:
        """Every key read at this place or below it."""
        found: set[str] = set()
        stack: list[JsonShape] = [self]
        seen: set[int] = set()
        while stack:
            shape = stack.pop()
            if id(shape) in seen:
                continue
            seen.add(id(shape))
            found |= shape.keys.keys()
            stack.extend(shape.keys.values())
            stack.extend([shape.item] if shape.item is not None else [])
        return found


def infer_json_shape(tree: ast.Module) -> JsonShape | None:
    """The shape of the JSON values the script loads (all merged), or None if it loads none."""
    reader = _ShapeReader(tree)
    if not reader.loads_json:
        return None
    try:
        reader.run()
    except RecursionError:
        return None
    return reader.root


_Env = dict[str, JsonShape]
_Guards = frozenset[tuple[int, str]]


class _ShapeReader:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.root = JsonShape()
        self.attributes: dict[str, JsonShape] = {}
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.classes: set[str] = set()
        self.bindings: dict[str, list[_Env]] = {}
        self.loads_json = False
        constructed: list[tuple[list[ast.expr], ast.Call]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.setdefault(node.name, node)
            elif isinstance(node, ast.ClassDef):
                self._class(node)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                constructed.append((node.targets, node.value))
            elif isinstance(node, ast.Call) and is_json_load(node):
                self.loads_json = True
        # Variables holding an instance of the script's own classes: their attributes are
        # those its methods set on ``self``.
        self.instances = {
            target.id
            for targets, call in constructed
            if call_name(call) in self.classes
            for target in targets
            if isinstance(target, ast.Name)
        }

    def _class(self, node: ast.ClassDef) -> None:
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                self.functions.setdefault(node.name, item)
                self.classes.add(node.name)

    def run(self) -> None:
        for _ in range(_MAX_ROUNDS):
            before = self._known()
            self._body(self.tree.body, {}, frozenset())
            for name, function in list(self.functions.items()):
                for env in list(self.bindings.get(name) or [{}]):
                    self._body(function.body, dict(env), frozenset())
            if self._known() == before:
                break

    def _known(self) -> tuple[int, int]:
        return sum(map(len, self.bindings.values())), len(self.attributes)

    # Statements --------------------------------------------------------------------

    def _body(self, body: Iterable[ast.stmt], env: _Env, guards: _Guards) -> None:
        for statement in body:
            self._statement(statement, env, guards)

    def _statement(self, node: ast.stmt, env: _Env, guards: _Guards) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return
        if isinstance(node, ast.If | ast.While):
            self._expressions(node.test, env, guards)
            tested = self._tested_keys(node.test, env)
            self._body(node.body, env, guards | tested)
            self._body(node.orelse, env, guards)
        elif isinstance(node, ast.For | ast.AsyncFor):
            self._expressions(node.iter, env, guards)
            self._bind_loop(node.target, node.iter, env, guards)
            self._body(node.body, env, guards)
            self._body(node.orelse, env, guards)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            self._expressions(node.value, env, guards)
            shape = self._shape(node.value, env, guards)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript):  # frame[cfg["column"]] = ...
                    self._expressions(target.slice, env, guards)
                self._bind(target, shape, env)
        elif isinstance(node, ast.With | ast.AsyncWith | ast.Try):
            for item in getattr(node, "items", []):
                self._expressions(item.context_expr, env, guards)
            self._body(node.body, env, guards)
            for handler in getattr(node, "handlers", []):
                self._body(handler.body, env, guards)
            self._body(getattr(node, "orelse", []), env, guards)
            self._body(getattr(node, "finalbody", []), env, guards)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self._expressions(child, env, guards)

    def _bind(self, target: ast.expr, shape: JsonShape | None, env: _Env) -> None:
        if isinstance(target, ast.Name):
            if shape is None:
                env.pop(target.id, None)
            else:
                env[target.id] = shape
        elif _self_attribute(target) is not None and shape is not None:
            self.attributes.setdefault(_self_attribute(target) or "", shape)

    def _bind_loop(self, target: ast.expr, items: ast.expr, env: _Env, guards: _Guards) -> None:
        shape = self._shape(items, env, guards)
        if shape is not None:
            self._bind(target, shape.element(), env)
        elif isinstance(target, ast.Name):
            env.pop(target.id, None)

    def _tested_keys(self, test: ast.expr, env: _Env) -> _Guards:
        """``"key" in x`` in a condition: the key is read below only when present."""
        tested: set[tuple[int, str]] = set()
        for node in ast.walk(test):
            if not isinstance(node, ast.Compare) or len(node.ops) != 1:
                continue
            key = string(node.left)
            if key is None or not isinstance(node.ops[0], ast.In):
                continue
            shape = self._shape(node.comparators[0], env, frozenset())
            if shape is not None:
                tested.add((id(shape), key))
        return frozenset(tested)

    # Expressions -------------------------------------------------------------------

    def _expressions(self, node: ast.expr, env: _Env, guards: _Guards) -> None:
        """Record every use of a JSON value inside an expression."""
        stack: list[ast.AST] = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, ast.Lambda):
                continue
            if isinstance(current, _COMPREHENSIONS):
                self._comprehension(current, env, guards)
                continue
            if isinstance(current, ast.Subscript | ast.Call):
                self._shape(current, env, guards)
            if isinstance(current, ast.Call):
                self._call_uses(current, env, guards)
            elif isinstance(current, ast.Compare):
                self._compared(current, env, guards)
            elif isinstance(current, ast.IfExp):
                self._expressions(current.test, env, guards)
                tested = self._tested_keys(current.test, env)
                self._expressions(current.body, env, guards | tested)
                self._expressions(current.orelse, env, guards)
                continue
            stack.extend(reversed(list(ast.iter_child_nodes(current))))

    def _comprehension(
        self,
        node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
        env: _Env,
        guards: _Guards,
    ) -> None:
        inner = dict(env)
        for generator in node.generators:
            self._expressions(generator.iter, inner, guards)
            self._bind_loop(generator.target, generator.iter, inner, guards)
            for condition in generator.ifs:
                self._expressions(condition, inner, guards)
        parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        for part in parts:
            self._expressions(part, inner, guards)

    def _shape(self, node: ast.expr, env: _Env, guards: _Guards) -> JsonShape | None:
        """The JSON place an expression holds, recording the key it reads on the way."""
        if isinstance(node, ast.Name):
            return env.get(node.id)
        if (attribute := _self_attribute(node, self.instances)) is not None:
            return self.attributes.get(attribute)
        if isinstance(node, ast.Subscript):
            base = self._shape(node.value, env, guards)
            if base is None:
                return None
            key = string(node.slice)
            if key is not None:
                if (id(base), key) not in guards:
                    base.needed.add(key)
                return base.child(key)
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
                return base.element()
            return None
        if isinstance(node, ast.Call):
            return self._call_shape(node, env, guards)
        if isinstance(node, ast.ListComp | ast.GeneratorExp) and len(node.generators) == 1:
            # [rule for rule in rules if ...]: the same list, filtered.
            generator = node.generators[0]
            if _same_name(node.elt, generator.target):
                return self._shape(generator.iter, env, guards)
        return None

    def _call_shape(self, node: ast.Call, env: _Env, guards: _Guards) -> JsonShape | None:
        if is_json_load(node):
            return self.root
        if call_name(node) == "get" and isinstance(node.func, ast.Attribute) and node.args:
            base = self._shape(node.func.value, env, guards)
            key = string(node.args[0])
            if base is None or key is None:
                return None
            default = _literal(node.args[1]) if len(node.args) > 1 else None
            if default is not _NO_DEFAULT:
                base.defaults.setdefault(key, default)
            return base.child(key)
        if call_name(node) in ("copy", "deepcopy") and node.args:
            return self._shape(node.args[0], env, guards)
        return None

    def _call_uses(self, node: ast.Call, env: _Env, guards: _Guards) -> None:
        name = call_name(node)
        if dotted(node.func) in _NUMBER_CASTS and node.args:
            shape = self._shape(node.args[0], env, guards)
            if shape is not None:
                shape.numeric = True
            return
        function = self.functions.get(name)
        if function is None:
            return
        params = [arg.arg for arg in function.args.args]
        method = isinstance(node.func, ast.Attribute) or name in self.classes
        if params[:1] == ["self"] and method:
            params = params[1:]
        pairs = list(zip(params, node.args, strict=False))
        pairs += [(kw.arg, kw.value) for kw in node.keywords if kw.arg in params]
        bound = {
            param: shape
            for param, value in pairs
            if (shape := self._shape(value, env, guards)) is not None
        }
        known = self.bindings.setdefault(name, [])
        same = any(_same(bound, other) for other in known)
        if bound and not same and len(known) < _MAX_BINDINGS:
            known.append(bound)

    def _compared(self, node: ast.Compare, env: _Env, guards: _Guards) -> None:
        left = self._shape(node.left, env, guards)
        if left is None:
            return
        for op, other in zip(node.ops, node.comparators, strict=False):
            value = _literal(other)
            if value is _NO_DEFAULT:
                continue
            if isinstance(op, ast.Eq | ast.NotEq) and value is not None:
                left.literals.append(value)
            elif isinstance(op, ast.In | ast.NotIn) and isinstance(value, list | tuple | set):
                left.literals.extend(value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                left.numeric = True


def _self_attribute(node: ast.AST, instances: Iterable[str] = ()) -> str | None:
    """``self.x`` (or ``obj.x`` for an instance of the script's classes): ``x``."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        owner = node.value.id
        return node.attr if owner == "self" or owner in instances else None
    return None


def _same_name(one: ast.expr, other: ast.expr) -> bool:
    return isinstance(one, ast.Name) and isinstance(other, ast.Name) and one.id == other.id


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NO_DEFAULT


def _same(one: _Env, other: _Env) -> bool:
    return one.keys() == other.keys() and all(one[key] is other[key] for key in one)
