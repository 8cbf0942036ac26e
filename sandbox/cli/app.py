"""The ``sandbox`` click group: global options, logging, and every command added to it."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

import click

from sandbox import __version__
from sandbox.cli.ci import merge_junit_command
from sandbox.cli.common import handles_errors, stderr_console
from sandbox.cli.config import SETTINGS_KEY, config_command
from sandbox.cli.data import gen_data_command
from sandbox.cli.images import images_group
from sandbox.cli.pipeline import test_pipeline_command
from sandbox.cli.replay import replay_command
from sandbox.cli.results import RESULT_COMMANDS
from sandbox.cli.run import test_script_command
from sandbox.cli.sagemaker import SAGEMAKER_COMMANDS
from sandbox.cli.settings import Settings, add_env_vars, load_settings
from sandbox.cli.spec import spec_group

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sandbox")
@click.option("-v", "--verbose", is_flag=True, help="Log what the tool does (to stderr).")
@click.pass_context
def cli(context: click.Context, verbose: bool) -> None:
    """Test SageMaker Processing and Training scripts in a production-shaped container.

    \b
    Quick start:
      sandbox test-script tabular_preprocessing --arg job_type=training --env LABEL_FIELD=label
      sandbox test-script ./path/to/script.py --output-format json

    Defaults come from [tool.sandbox] of pyproject.toml (or sandbox.toml), then SANDBOX_*
    variables, then flags; `sandbox config` shows them.
    """
    if verbose:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(
            console=stderr_console(), show_path=False, show_time=False
        )
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("sandbox: %(levelname)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler])
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
