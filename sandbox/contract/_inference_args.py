"""What a script's argparse calls declare: one :class:`InferredArgument` per
``add_argument``, with what argparse needs to rebuild the value it stores."""

from __future__ import annotations

import argparse
import ast
from dataclasses import dataclass, field

from sandbox.contract._inference_paths import NOT_LITERAL, Resolver

__all__ = ["InferredArgument", "argument_of"]

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


def argument_of(call: ast.Call, resolver: Resolver) -> InferredArgument | None:
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
