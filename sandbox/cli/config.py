"""``sandbox config``: the effective value of each option of a command, and where it came
from: the default, the settings file (and its table), a ``SANDBOX_*`` variable, or a flag.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from sandbox.cli.common import handles_errors
from sandbox.cli.settings import Settings, option_key
from sandbox.errors import UsageError

__all__ = ["SETTINGS_KEY", "config_command"]

SETTINGS_KEY = "sandbox.settings"
"""Where the group keeps the :class:`~sandbox.cli.settings.Settings` in ``ctx.meta``."""


@click.command(
    "config",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("command_line", nargs=-1, type=click.UNPROCESSED, metavar="[COMMAND] [OPTIONS]")
@handles_errors
def config_command(command_line: tuple[str, ...]) -> None:
    """Show each option's effective value for COMMAND (default test-script) and where it
    came from: default, the settings file, a SANDBOX_* variable, or a flag.

    \b
      sandbox config
      sandbox config test-script --image sandbox/sklearn-1.2
      sandbox config images build
    """
    context = click.get_current_context()
    root = context.find_root()
    settings: Settings = root.meta.get(SETTINGS_KEY, Settings())
    path, command, rest = _command_of(root.command, list(command_line))
    defaults = _defaults(settings.default_map, path)
    # Only the options are read (click's own steps, without callbacks): a command's
    # required arguments are not needed to show its settings.
    sub = click.Context(command, info_name=" ".join(path), parent=root, default_map=defaults)
    try:
        given, _args, _order = command.make_parser(sub).parse_args(rest)
        lines = [_line(sub, param, given, settings, path) for param in command.params]
    except click.UsageError as exc:
        raise UsageError(exc.format_message()) from exc
    where = f"settings file: {settings.path}" if settings.path else "no settings file"
    click.echo(f"# sandbox {' '.join(path)} ({where})")
    click.echo("\n".join(line for line in lines if line))


def _command_of(
    root: click.Command, words: list[str]
) -> tuple[tuple[str, ...], click.Command, list[str]]:
    path: tuple[str, ...] = ()
    command = root
    while isinstance(command, click.Group) and words and words[0] in command.commands:
        path, command = (*path, words[0]), command.commands[words[0]]
        words = words[1:]
    if isinstance(command, click.Group) and not path:  # no command: the one most runs use
        path, command = ("test-script",), command.commands["test-script"]
    if isinstance(command, click.Group):
        names = ", ".join(sorted(command.commands))
        raise UsageError(f"sandbox config {' '.join(path)}: name one of its commands: {names}")
    return path, command, words


def _defaults(default_map: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    table: Any = default_map
    for name in path:
        table = table.get(name, {})
    return table


def _line(
    context: click.Context,
    param: click.Parameter,
    given: dict[str, Any],
    settings: Settings,
    path: tuple[str, ...],
) -> str:
    if not isinstance(param, click.Option) or param.name in (None, "help"):
        return ""
    key = option_key(param)
    raw, source = param.consume_value(context, given)
    missing = raw is None or param.value_is_missing(raw)
    value = None if missing else param.type_cast_value(context, raw)
    return f"{key} = {_value(value)}  # {_source(param, source, settings, path, key)}"


def _value(value: Any) -> str:
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, tuple):
        value = [str(item) if isinstance(item, Path) else item for item in value]
    return json.dumps(value) if value is not None else "(not set)"


def _source(
    param: click.Option,
    source: ParameterSource,
    settings: Settings,
    path: tuple[str, ...],
    key: str,
) -> str:
    if source is ParameterSource.DEFAULT_MAP:
        return settings.origin(path, key)
    if source is ParameterSource.ENVIRONMENT:
        names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or [])
        return "env " + next((name for name in names if name in os.environ), " or ".join(names))
    if source is ParameterSource.COMMANDLINE:
        return "flag"
    return "default"
