"""Rebuild the ``job_args`` a script's own argparse would produce, from arguments as text.

With the ``main`` call style the sandbox calls ``main(..., job_args)`` itself, so the
namespace must hold what ``parser.parse_args()`` would have given for the same command
line: typed defaults (``3``, ``False``, ``None``), converted values, lists for ``nargs``.
This module works only from the :class:`~sandbox.contract.inference.InferredArgument` records
inferred from the script's source; it never imports or runs the script.

Rules, for each given ``NAME`` and ``VALUE`` (``--NAME VALUE`` on a command line; an
empty ``VALUE`` means ``--NAME`` alone):

- ``store``: ``VALUE`` converted by the ``type=`` (``int``, ``float``, ``bool``, or a
  bool-like callable such as ``str2bool``; any other callable leaves the text as is).
  With ``nargs`` ``"+"``, ``"*"``, ``"..."`` or a number, ``VALUE`` is split on
  whitespace, as a shell splits ``--cols a b``; commas are kept (``"a,b"`` is one item,
  just as ``--cols a,b`` is). ``nargs="?"`` with no value gives ``const``.
- ``store_true``/``store_false``/``BooleanOptionalAction``: no value means the flag was
  given; an explicit ``true/1/yes`` or ``false/0/no`` sets the attribute to that bool.
- ``store_const``/``append_const``: no value gives ``const``; ``append``/``extend`` add
  to a copy of the default list; ``count``: no value adds one, a number sets it.
- a name the script does not declare (e.g. a training hyperparameter): the text as given.

A value argparse would reject (``--n abc`` for ``type=int``, a value outside
``choices``) raises :class:`~sandbox.errors.UsageError` with argparse's own wording.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping

from sandbox.contract.inference import NOT_LITERAL, InferredArgument
from sandbox.errors import UsageError

__all__ = ["typed_job_args"]

_TRUE_WORDS = frozenset({"true", "1", "yes"})
_FALSE_WORDS = frozenset({"false", "0", "no"})
_BOOLEAN_OPTIONAL = "argparse.BooleanOptionalAction"
_NO_ATTRIBUTE = frozenset({"help", "version"})


def typed_job_args(
    given: Mapping[str, str], arguments: Mapping[str, InferredArgument]
) -> dict[str, object]:
    """The attributes argparse would set for a command line of ``--NAME VALUE`` pairs.

    Args:
        given: Argument values as text, keyed by argparse destination name
            (``job_type``, not ``--job-type``); ``""`` means the option given alone.
        arguments: The script's inferred arguments, by destination name.

    Returns:
        Every declared argument's typed default, overlaid with the given values; names
        the script does not declare keep their text. Every value is one JSON can carry
        (tuples and sets become lists), since the call travels as JSON.

    Raises:
        UsageError: A given value that argparse would reject; names the argument and value.
    """
    values = {name: _default(arg) for name, arg in arguments.items() if _has_attribute(arg)}
    for name, text in given.items():
        argument = arguments.get(name)
        values[name] = text if argument is None else _given(argument, text)
    return {name: _json_safe(value) for name, value in values.items()}


def _has_attribute(argument: InferredArgument) -> bool:
    """argparse sets no attribute for help/version, nor for ``default=argparse.SUPPRESS``."""
    suppressed = isinstance(argument.default_value, str) and (
        argument.default_value == argparse.SUPPRESS
    )
    return argument.action not in _NO_ATTRIBUTE and not suppressed


def _default(argument: InferredArgument) -> object:
    value = argument.default_value
    if value is NOT_LITERAL:  # not knowable from the source: the text, if any
        value = argument.default
    if value is None and argument.nargs == "*" and not argument.option_strings:
        return []  # argparse gives a positional nargs="*" an empty list
    if isinstance(value, str):  # argparse passes a string default through type=
        return _converted_default(argument, value)
    return value


def _converted_default(argument: InferredArgument, text: str) -> object:
    """A string default through ``type=``; kept as text when it does not convert."""
    converter = _converter(argument.type_name)
    try:
        return text if converter is None else converter(text)
    except ValueError:  # the script's own default: leave it to the script
        return text


def _given(argument: InferredArgument, text: str) -> object:
    action = argument.action
    if action == "store":
        return _stored(argument, text)
    if action in ("store_true", "store_false", _BOOLEAN_OPTIONAL):
        return _flag(argument, text, given=action != "store_false")
    if action in ("store_const", "append_const"):
        return _const(argument, text, append=action == "append_const")
    if action in ("append", "extend"):
        return _appended(argument, text, extend=action == "extend")
    if action == "count":
        return _count(argument, text)
    return text  # a custom Action class: what it stores cannot be known


def _stored(argument: InferredArgument, text: str) -> object:
    nargs = argument.nargs
    if nargs is None and text == "":
        raise _error(argument, "expected one argument")
    if nargs is None or (nargs == "?" and text != ""):
        return _checked(argument, _convert(argument, text))
    if nargs == "?":
        return _const_value(argument)
    items = _items(argument, text)
    _check_count(argument, len(items))
    return items


def _items(argument: InferredArgument, text: str) -> list[object]:
    """Whitespace-separated items, each converted and checked."""
    return [_checked(argument, _convert(argument, item)) for item in text.split()]


def _check_count(argument: InferredArgument, count: int) -> None:
    nargs = argument.nargs or ""
    if nargs == "+" and count == 0:
        raise _error(argument, "expected at least one argument")
    if nargs.isdigit() and count != int(nargs):
        plural = "" if nargs == "1" else "s"
        raise _error(argument, f"expected {nargs} argument{plural}")


def _flag(argument: InferredArgument, text: str, *, given: bool) -> bool:
    word = text.strip().lower()
    if word == "":
        return given
    if word in _TRUE_WORDS or word in _FALSE_WORDS:
        return word in _TRUE_WORDS
    raise _error(argument, f"ignored explicit argument {text!r}")


def _const(argument: InferredArgument, text: str, *, append: bool) -> object:
    if text != "":
        raise _error(argument, f"ignored explicit argument {text!r}")
    const = _const_value(argument)
    return [*_as_list(_default(argument)), const] if append else const


def _appended(argument: InferredArgument, text: str, *, extend: bool) -> list[object]:
    """``append`` adds one value; ``extend`` adds each item (split, as for ``nargs="+"``)."""
    if extend and argument.nargs is None:
        added = _items(argument, text)
        if not added:
            raise _error(argument, "expected one argument")
    else:
        value = _stored(argument, text)
        added = _as_list(value) if extend else [value]
    return [*_as_list(_default(argument)), *added]


def _count(argument: InferredArgument, text: str) -> int:
    if text.strip().isdigit():
        return int(text)
    if text != "":
        raise _error(argument, f"ignored explicit argument {text!r}")
    start = _default(argument)
    return (start if isinstance(start, int) else 0) + 1


def _const_value(argument: InferredArgument) -> object:
    return argument.const if argument.const_value is NOT_LITERAL else argument.const_value


def _convert(argument: InferredArgument, text: str) -> object:
    converter = _converter(argument.type_name)
    if converter is None:
        return text
    try:
        return converter(text)
    except ValueError:
        type_name = (argument.type_name or "").rpartition(".")[2]
        raise _error(argument, f"invalid {type_name} value: {text!r}") from None


def _converter(type_name: str | None) -> Callable[[str], object] | None:
    """How to apply ``type=``; None leaves the text as is (``str``, custom callables)."""
    short = (type_name or "").rpartition(".")[2]
    builtin: dict[str, Callable[[str], object]] = {"int": int, "float": float, "bool": bool}
    if short in builtin:
        return builtin[short]  # bool is argparse's own trap: bool("False") is True
    return _bool_word if "bool" in short.lower() else None


def _bool_word(text: str) -> bool:
    """What a ``str2bool``-style ``type=`` returns; ValueError for any other word."""
    word = text.strip().lower()
    if word not in _TRUE_WORDS and word not in _FALSE_WORDS:
        raise ValueError(text)
    return word in _TRUE_WORDS


def _checked(argument: InferredArgument, value: object) -> object:
    if argument.choices and str(value) not in argument.choices:
        choices = ", ".join(repr(choice) for choice in argument.choices)
        raise _error(argument, f"invalid choice: {value!r} (choose from {choices})")
    return value


def _error(argument: InferredArgument, problem: str) -> UsageError:
    """argparse's wording: ``argument -m/--mode: invalid choice: ...``."""
    label = "/".join(argument.option_strings) or argument.name
    return UsageError(f"argument {label}: {problem}")


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _json_safe(value: object) -> object:
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # bytes, complex, Ellipsis: no JSON form
