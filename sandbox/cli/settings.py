"""Settings in one place: ``[tool.sandbox]`` of the project's ``pyproject.toml`` or a
``sandbox.toml``, then ``SANDBOX_*`` environment variables, then flags (flags win).

The file is found from the current directory upward: the first folder holding a
``sandbox.toml`` (its top level is the table), or a ``pyproject.toml`` with a
``[tool.sandbox]`` table. Its top-level keys are option names (``workspace-dir``,
``image``, ``instance-type``, ...) for every command that has that option; a sub-table
named after a command (``[tool.sandbox.test-script]``, ``[tool.sandbox.images.build]``)
holds options of that command only. The result is click's ``default_map``, checked
against the commands' options: an unknown key, or a value the option cannot take, is a
:class:`~sandbox.errors.SettingsError` naming the file and the key.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from sandbox.errors import SettingsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "ENV_OPTIONS",
    "ENV_PREFIX",
    "Settings",
    "add_env_vars",
    "find_settings_file",
    "load_settings",
    "option_key",
]

ENV_PREFIX = "SANDBOX_"
ENV_OPTIONS = (
    "workspace-dir",
    "scripts-dir",
    "image",
    "instance-type",
    "data-size",
    "output-format",
    "memory",
    "cpus",
    "max-runtime",
    "pids-limit",
    "jobs",
)
"""The options a ``SANDBOX_<NAME>`` variable sets (``SANDBOX_INSTANCE_TYPE``), in every
command that has them. The tool's other variables (``SANDBOX_EXTRA_LABELS``,
``SANDBOX_HEARTBEAT_TIMEOUT_S``, ``SANDBOX_IMAGES_DIR``) name no option."""

PYPROJECT, SANDBOX_TOML = "pyproject.toml", "sandbox.toml"


@dataclass(frozen=True)
class Settings:
    """The settings file in force: its path, click's ``default_map`` built from it, and
    for each command path and option key the table that set it."""

    path: Path | None = None
    default_map: dict[str, Any] = field(default_factory=dict)
    origins: dict[tuple[str, ...], dict[str, str]] = field(default_factory=dict)

    def origin(self, command_path: tuple[str, ...], key: str) -> str:
        """Where ``key`` of the command came from: ``path [tool.sandbox.test-script]``."""
        return f"{self.path} {self.origins.get(command_path, {}).get(key, '')}".strip()


def option_key(param: click.Parameter) -> str:
    """The settings key of an option: its long flag without dashes (``workspace-dir``)."""
    longs = [opt for opt in param.opts if opt.startswith("--")]
    return (longs[0] if longs else param.opts[0]).lstrip("-")


def _options(command: click.Command) -> dict[str, click.Option]:
    return {
        option_key(param): param
        for param in command.params
        if isinstance(param, click.Option) and param.name not in (None, "help", "version")
    }


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def add_env_vars(root: click.Group) -> None:
    """Give each option of :data:`ENV_OPTIONS` its ``SANDBOX_<NAME>`` variable, in every
    command (an option that already names one keeps it)."""
    for _path, command in _commands(root):
        for key, option in _options(command).items():
            if key in ENV_OPTIONS and option.envvar is None:
                option.envvar = ENV_PREFIX + key.upper().replace("-", "_")
                option.show_envvar = True


def find_settings_file(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The first settings table from ``start`` upward, and the file that holds it.

    Raises:
        SettingsError: the file found is not valid TOML.
    """
    for folder in (start, *start.parents):
        for name in (SANDBOX_TOML, PYPROJECT):
            path = folder / name
            if not path.is_file():
                continue
            table = _read_table(path)
            if table is not None:
                return path, table
    return None


def _read_table(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(str(path), "file", f"not readable TOML ({exc})") from exc
    if path.name == SANDBOX_TOML:
        return data
    table = data.get("tool", {}).get("sandbox")
    if table is not None and not isinstance(table, dict):
        raise SettingsError(str(path), "[tool.sandbox]", "must be a table")
    return table


def load_settings(root: click.Group, start: Path) -> Settings:
    """The settings file from ``start`` upward, checked against ``root``'s commands.

    Raises:
        SettingsError: an unknown key or table, or a value an option cannot take.
    """
    found = find_settings_file(start)
    if found is None:
        return Settings()
    path, table = found
    label = "" if path.name == SANDBOX_TOML else "tool.sandbox"
    scalars = {key: value for key, value in table.items() if not isinstance(value, dict)}
    tables = {key: value for key, value in table.items() if isinstance(value, dict)}
    commands = dict(_commands(root))
    _check_global_keys(path, label, scalars, commands)
    _check_tables(path, label, tables, root)
    default_map: dict[str, Any] = {}
    origins: dict[tuple[str, ...], dict[str, str]] = {}
    for command_path, command in commands.items():
        own = _nested(tables, command_path)
        chosen = {k: (v, label) for k, v in scalars.items() if k in _options(command)}
        chosen.update(
            {k: (v, ".".join((label, *command_path)).lstrip(".")) for k, v in own.items()}
        )
        values = {}
        for key, (value, where) in chosen.items():
            option = _options(command)[key]
            values[option.name] = _checked(path, where, key, option, value)
        origins[command_path] = {
            k: f"[{where}]" if where else "" for k, (_v, where) in chosen.items()
        }
        _put(default_map, command_path, values)
    return Settings(path=path, default_map=default_map, origins=origins)


def _check_global_keys(
    path: Path, label: str, scalars: dict[str, Any], commands: dict[tuple[str, ...], click.Command]
) -> None:
    known = {key for command in commands.values() for key in _options(command)}
    for key in scalars:
        if key not in known:
            raise SettingsError(str(path), _where(label, key), _unknown(key, known))


def _check_tables(
    path: Path,
    label: str,
    tables: dict[str, Any],
    group: click.Group,
    prefix: tuple[str, ...] = (),
) -> None:
    for name, table in tables.items():
        command = group.commands.get(name)
        where = ".".join((label, *prefix, name)).lstrip(".")
        if command is None:
            raise SettingsError(str(path), f"[{where}]", f"no such command; {_known(group)}")
        options = _options(command)
        for key, value in table.items():
            if isinstance(value, dict) and isinstance(command, click.Group):
                continue
            if key not in options:
                raise SettingsError(str(path), f"[{where}] {key}", _unknown(key, options))
        if isinstance(command, click.Group):
            nested = {k: v for k, v in table.items() if isinstance(v, dict)}
            _check_tables(path, label, nested, command, (*prefix, name))


def _checked(path: Path, where: str, key: str, option: click.Option, value: Any) -> Any:
    """``value`` as the option takes it; a relative path is taken from the file's folder."""
    context = click.Context(click.Command("settings"))
    try:
        option.type_cast_value(context, value)
    except click.BadParameter as exc:
        raise SettingsError(str(path), _where(where, key), exc.format_message()) from exc
    if isinstance(option.type, click.Path) and isinstance(value, str) and value:
        return str(path.parent / value) if not os.path.isabs(value) else value
    return value


def _nested(tables: dict[str, Any], command_path: tuple[str, ...]) -> dict[str, Any]:
    table: Any = tables
    for name in command_path:
        table = table.get(name, {}) if isinstance(table, dict) else {}
    return {k: v for k, v in table.items() if not isinstance(v, dict)}


def _put(
    default_map: dict[str, Any], command_path: tuple[str, ...], values: dict[str, Any]
) -> None:
    target = default_map
    for name in command_path:
        target = target.setdefault(name, {})
    target.update(values)


def _where(label: str, key: str) -> str:
    return f"[{label}] {key}" if label else key


def _unknown(key: str, known: Any) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(known), n=3)
    return "unknown setting" + (f"; did you mean {', '.join(close)}?" if close else "")


def _known(group: click.Group) -> str:
    return "commands: " + ", ".join(sorted(group.commands))
