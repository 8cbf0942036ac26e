"""What a name or value given to the tool may be: checked here, before anything runs.

Each check raises :class:`ValueError` with the problem alone, so that a spec field's
validator (pydantic names the field) and a command-line option (the error names the
option and the value, see :func:`check_option`) give the same reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.errors import OptionError

__all__ = [
    "check_argument_name",
    "check_arguments",
    "check_channel_name",
    "check_env_name",
    "check_env_value",
    "check_environment",
    "check_image_reference",
    "check_option",
    "check_text_value",
]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ARGUMENT_NAME = re.compile(r"(?:--?)?[A-Za-z0-9_][A-Za-z0-9_.-]*")
# Letters and digits of any script (a channel is a folder, and `résumé` is one), '_', '.', '-'.
_CHANNEL_NAME = re.compile(r"[^\W_][\w.-]*")
_MAX_CHANNEL_CHARS = 64
_MAX_NAME_CHARS = 256

# Docker's reference grammar (github.com/distribution/reference): [host[:port]/]path[:tag][@digest]
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)
_MAX_REFERENCE_NAME_CHARS = 255


def check_env_name(name: str) -> str:
    """An environment variable name: a letter or ``_``, then letters, digits, ``_``."""
    if not _ENV_NAME.fullmatch(name):
        raise ValueError(
            f"invalid variable name {name!r}: use letters, digits and '_', not starting "
            "with a digit"
        )
    return name


def check_env_value(name: str, value: str) -> str:
    """A variable's value: text; a ``PATH`` of absolute folders (it replaces the image's)."""
    check_text_value(value)
    if name == "PATH" and not all(part.startswith("/") for part in value.split(":")):
        raise ValueError(
            f"PATH={value!r} replaces the image's PATH: give absolute folders separated by "
            "':' (the container would find no python3 otherwise), or leave PATH out"
        )
    return value


def check_argument_name(name: str) -> str:
    """A job argument's name, as ``--NAME`` on a command line: no spaces, no ``=``."""
    if len(name) > _MAX_NAME_CHARS or not _ARGUMENT_NAME.fullmatch(name):
        raise ValueError(
            f"invalid argument name {name!r}: use letters, digits, '_', '.' and '-' "
            "(no spaces or newlines)"
        )
    return name


def check_text_value(value: str) -> str:
    """A value handed to the container: no NUL byte, no bytes that are not UTF-8."""
    if "\x00" in value:
        raise ValueError("contains a NUL byte")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"is not valid UTF-8 (character {exc.start})") from None
    return value


def check_environment(environment: dict[str, str]) -> dict[str, str]:
    """Every name and value of a job's environment (a spec's or a pipeline step's)."""
    for name, value in environment.items():
        check_env_name(name)
        check_env_value(name, value)
    return environment


def check_arguments(arguments: dict[str, str]) -> dict[str, str]:
    """Every name and value of a job's arguments (a spec's or a pipeline step's)."""
    for name, value in arguments.items():
        check_argument_name(name)
        check_text_value(value)
    return arguments


def check_channel_name(name: str) -> str:
    """A channel name: letters and digits (of any script), ``_``, ``.``, ``-``, at most 64."""
    if len(name) > _MAX_CHANNEL_CHARS or not _CHANNEL_NAME.fullmatch(name):
        raise ValueError(
            f"invalid channel name {name!r}: use letters, digits, '_', '.' and '-', "
            f"starting with a letter or digit, at most {_MAX_CHANNEL_CHARS} characters"
        )
    return name


def check_image_reference(reference: str) -> str:
    """An image profile name or a Docker image reference (``name[:tag][@digest]``)."""
    if not reference:
        raise ValueError("empty: give an image profile or an image reference")
    name = reference.split("@", 1)[0]
    if len(name) > _MAX_REFERENCE_NAME_CHARS or not _REFERENCE.fullmatch(reference):
        raise ValueError(
            "not an image reference: lower-case letters, digits and '._-' in "
            "'/'-separated parts, then an optional ':tag' or '@sha256:...'"
        )
    return reference


def check_option(option: str, value: str, check: Callable[..., object], *args: Any) -> None:
    """Run ``check(*args)``; its :class:`ValueError` becomes an :class:`OptionError`
    naming ``option`` and ``value`` (as given on the command line)."""
    try:
        check(*args)
    except ValueError as exc:
        raise OptionError(option, value, str(exc)) from exc
