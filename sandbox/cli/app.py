"""The ``sandbox`` click group: global options, logging, and every command added to it."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from sandbox import __version__
from sandbox.cli.ci import merge_junit_command
from sandbox.cli.common import (
    EXIT_INTERRUPTED,
    echo_json,
    fail,
    handles_errors,
    wants_json,
)
from sandbox.cli.config import SETTINGS_KEY, config_command
from sandbox.cli.data import gen_data_command
from sandbox.cli.images import images_group
from sandbox.cli.logs import configure_logging
from sandbox.cli.pipeline import test_pipeline_command
from sandbox.cli.replay import replay_command
from sandbox.cli.results import RESULT_COMMANDS
from sandbox.cli.run import test_script_command
from sandbox.cli.sagemaker import SAGEMAKER_COMMANDS
from sandbox.cli.settings import Settings, add_env_vars, load_settings
from sandbox.cli.spec import spec_group

__all__ = ["cli", "main"]


class _SandboxGroup(click.Group):
    """The group, keeping the JSON promise for click's own usage errors: with
    ``--output-format json`` on the command line, a bad option or a missing argument
    still leaves exactly one JSON document (the error document) on stdout."""

    def main(self, args: Any = None, *main_args: Any, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if extra.get("standalone_mode", True) is False or not wants_json(argv):
            return super().main(argv, *main_args, **extra)
        try:
            code = super().main(argv, *main_args, **{**extra, "standalone_mode": False})
        except click.ClickException as exc:
            exc.show()
            _echo_error(exc.format_message(), type(exc).__name__, exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            fail(
                "interrupted", "KeyboardInterrupt", EXIT_INTERRUPTED, label="sandbox:", as_json=True
            )
        sys.exit(code if isinstance(code, int) else 0)


def _echo_error(message: str, error_type: str, exit_code: int) -> NoReturn:
    """The error document alone: click has already printed its message on stderr."""
    from sandbox.results.output import error_document

    echo_json(error_document(message, error_type, exit_code))
    sys.exit(exit_code)


@click.group(cls=_SandboxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sandbox")
@click.option(
    "--log-level",
    type=click.Choice(["warning", "info", "debug"], case_sensitive=False),
    default="warning",
    show_default=True,
    help="How much the tool logs to stderr.",
)
@click.option(
    "--debug",
    "-v",
    "--verbose",
    "debug",
    is_flag=True,
    help="Same as --log-level debug (tracebacks of internal errors included).",
)
@click.option(
    "--log-libraries",
    is_flag=True,
    help="Also log the Docker client's and urllib3's messages at that level.",
)
@click.pass_context
def cli(context: click.Context, log_level: str, debug: bool, log_libraries: bool) -> None:
    """Test SageMaker Processing and Training scripts in a production-shaped container.

    \b
    Quick start:
      sandbox test-script tabular_preprocessing --arg job_type=training --env LABEL_FIELD=label
      sandbox test-script ./path/to/script.py --output-format json

    Defaults come from [tool.sandbox] of pyproject.toml (or sandbox.toml), then SANDBOX_*
    variables, then flags; `sandbox config` shows them.
    """
    configure_logging("debug" if debug else log_level, libraries=log_libraries)
    settings = _settings()
    context.meta[SETTINGS_KEY] = settings
    context.default_map = settings.default_map


@handles_errors
def _settings() -> Settings:
    return load_settings(cli, Path.cwd())


cli.add_command(test_script_command)
for _command in RESULT_COMMANDS:
    cli.add_command(_command)
cli.add_command(gen_data_command)
cli.add_command(images_group)
cli.add_command(spec_group)
cli.add_command(test_pipeline_command)
cli.add_command(merge_junit_command)
for _command in SAGEMAKER_COMMANDS:
    cli.add_command(_command)
cli.add_command(replay_command)
cli.add_command(config_command)
add_env_vars(cli)


def main() -> None:
    """Console-script entry point."""
    # A CI runner cancels with SIGTERM, a closed terminal or SSH session sends SIGHUP:
    # clean up exactly as for Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    cli(prog_name="sandbox")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
