"""What every ``sandbox`` command shares: consoles, error handling, option parsing, exit codes.

Kept light on purpose: the command line imports this module on every start, so it pulls in
click, rich's console and the tool's errors, and nothing heavier.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from sandbox.constants import DEFAULT_SCRIPTS_DIR, DEFAULT_WORKSPACE
from sandbox.errors import SandboxError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from sandbox.results.models import TestResult

__all__ = [
    "EXIT_FAILED",
    "EXIT_INFRA",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "arg_option",
    "data_size_option",
    "echo_json",
    "env_option",
    "escape",
    "exit_with_result",
    "fail",
    "handles_errors",
    "hyperparameters_option",
    "output_format_option",
    "parse_hyperparameters",
    "parse_pairs",
    "scripts_dir_option",
    "spec_option",
    "spinner",
    "stderr_console",
    "stdout_console",
    "wants_json",
    "with_progress",
    "workspace_dir_option",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INFRA, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

F = TypeVar("F", bound=Callable[..., Any])

output_format_option = click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: stdout holds exactly one JSON document.",
)
"""The ``--output-format text|json`` option of the commands that render a result."""


def scripts_dir_option(help_text: str = "Where to look up a script given by name.") -> Any:
    """``--scripts-dir DIR`` (default ``./scripts``)."""
    return click.option(
        "--scripts-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_SCRIPTS_DIR,
        show_default=True,
        help=help_text,
    )


def workspace_dir_option(
    help_text: str = "Where runs, results and generated data are kept",
) -> Any:
    """``--workspace-dir DIR`` (default ``./.sandbox``, or ``SANDBOX_WORKSPACE_DIR``)."""
    return click.option(
        "--workspace-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_WORKSPACE,
        show_default=True,
        envvar="SANDBOX_WORKSPACE_DIR",
        help=f"{help_text} (env: SANDBOX_WORKSPACE_DIR).",
    )


def data_size_option(help_text: str = "Rows of generated data: 1k, 100k, 1M.") -> Any:
    """``--data-size small|medium|large``."""
    return click.option(
        "--data-size",
        type=click.Choice(["small", "medium", "large"]),
        default="small",
        show_default=True,
        help=help_text,
    )


spec_option = click.option(
    "--spec", "spec_path", type=click.Path(dir_okay=False, path_type=Path), help="Spec file (YAML)."
)
"""``--spec FILE``."""

arg_option = click.option(
    "--arg", "args", multiple=True, metavar="NAME=VALUE", help="Job argument: --NAME VALUE."
)
"""``--arg NAME=VALUE``, repeatable."""

env_option = click.option(
    "--env", "envs", multiple=True, metavar="NAME=VALUE", help="Environment variable."
)
"""``--env NAME=VALUE``, repeatable."""

hyperparameters_option = click.option(
    "--hyperparameters",
    metavar="FILE_OR_JSON",
    help="Training hyperparameters: a JSON file or a JSON object.",
)
"""``--hyperparameters FILE_OR_JSON``."""


# rich is imported when a console is first needed: a run whose output is JSON and whose
# stderr is no terminal never needs it, and its import is ~45 ms of every start.


def stderr_console() -> Console:
    """A console on stderr: progress, warnings, errors. No colour when NO_COLOR is set."""
    from rich.console import Console

    return Console(stderr=True, no_color="NO_COLOR" in os.environ, soft_wrap=True)


def stdout_console() -> Console:
    """A console on stdout: the command's result. No colour when NO_COLOR is set."""
    from rich.console import Console

    return Console(no_color="NO_COLOR" in os.environ, soft_wrap=True)


@contextlib.contextmanager
def spinner() -> Iterator[Callable[[str], None]]:
    """A spinner showing the current step on a terminal; nothing (and no rich) elsewhere."""
    if not sys.stderr.isatty():
        yield lambda _message: None
        return
    with stderr_console().status("preparing", spinner="dots") as status:
        yield lambda message: status.update(message)


def escape(text: str) -> str:
    """``text`` as literal rich markup, control characters shown as escapes."""
    from sandbox.results.printable import printable_markup

    return printable_markup(text)


def handles_errors(command: F) -> F:
    """Turn the tool's errors into one line on stderr and the right exit code.

    A :class:`~sandbox.errors.SandboxError` exits with its own exit code, an interrupt
    with 130, and any other exception (a bug of ours) with 3, its traceback logged only
    with ``--debug``. Under ``--output-format json`` stdout also gets the error document
    (:func:`~sandbox.results.output.error_document`), so it always holds one JSON document.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SandboxError as exc:
            fail(str(exc), type(exc).__name__, exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", "KeyboardInterrupt", EXIT_INTERRUPTED, label="sandbox:")
        except Exception as exc:
            # A bug of ours: one line, and the traceback only with --debug.
            logging.getLogger("sandbox").debug("internal error", exc_info=True)
            fail(
                f"{type(exc).__name__}: {exc}",
                "InternalError",
                EXIT_INFRA,
                label="sandbox: internal error:",
                hint=" (add --debug after 'sandbox' for the traceback)",
            )

    return wrapper  # type: ignore[return-value]


def fail(
    message: str,
    error_type: str,
    exit_code: int,
    *,
    label: str = "sandbox: error:",
    hint: str = "",
    as_json: bool | None = None,
) -> NoReturn:
    """One line on stderr (and the error document on stdout in JSON mode, which
    ``as_json`` decides, or else the running command's options), then exit."""
    if exit_code == EXIT_INTERRUPTED:
        stderr_console().print(f"{label} {escape(message)}", highlight=False)
    else:
        stderr_console().print(f"[bold red]{label}[/] {escape(message)}{hint}", highlight=False)
    if wants_json() if as_json is None else as_json:
        from sandbox.results.output import error_document

        echo_json(error_document(message, error_type, exit_code))
    sys.exit(exit_code)


def wants_json(argv: Sequence[str] | None = None) -> bool:
    """Whether the command asked for ``--output-format json``: from the running command's
    options, or (before click parsed them) from ``argv``."""
    context = click.get_current_context(silent=True)
    if argv is None and context is not None:
        return context.params.get("output_format") == "json"
    words = list(argv or ())
    pairs = zip(words, [*words[1:], ""][: len(words)], strict=True)
    return any(
        word == "--output-format=json" or (word == "--output-format" and value == "json")
        for word, value in pairs
    )


def parse_pairs(option: str, values: tuple[str, ...]) -> dict[str, str]:
    """Parse repeated ``NAME=VALUE`` options: ``("a=1", "b=")`` -> ``{"a": "1", "b": ""}``.

    Raises:
        UsageError: A value without ``=`` or without a name.
    """
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise UsageError(f"{option} {value!r}: expected NAME=VALUE")
        pairs[name] = rest
    return pairs


def parse_hyperparameters(value: str | None) -> dict[str, Any]:
    """Parse ``--hyperparameters``: the path of a JSON file, or a JSON object itself.

    Raises:
        UsageError: Neither a readable JSON file nor JSON text, or not a JSON object.
    """
    if value is None:
        return {}
    path = Path(value)
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else value
        parsed = json.loads(text)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--hyperparameters: not a JSON object or file ({exc})") from exc
    if not isinstance(parsed, dict):
        raise UsageError("--hyperparameters: expected a JSON object of name: value")
    return parsed


def with_progress(request: Any, update: Callable[[str], None]) -> Any:
    """A copy of the (dataclass) ``request`` that reports its progress to ``update``."""
    import dataclasses

    return dataclasses.replace(request, on_progress=update)


def echo_json(payload: Any) -> None:
    """Exactly one JSON document on stdout."""
    click.echo(json.dumps(payload, indent=2))


def exit_with_result(result: TestResult, output_format: str) -> NoReturn:
    """Render one run's verdict (text, or the JSON document) and exit 0 if it passed, else 1."""
    exit_code = EXIT_OK if result.is_successful() else EXIT_FAILED
    if output_format == "json":
        from sandbox.results.output import results_document

        echo_json(results_document([result], exit_code))
    else:
        from sandbox.report.text import render_text

        render_text(result, stdout_console())
    sys.exit(exit_code)
