"""The ``sandbox`` command line: parse, call one library function, render, exit.

Exit codes: 0 passed, 1 a script failed, 2 usage or spec error, 3 infrastructure error
(no Docker engine, image cannot be built or pulled), 130 interrupted.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from sandbox import __version__
from sandbox.cli_data import from_contract_command, gen_data_command
from sandbox.cli_results import RESULT_COMMANDS
from sandbox.errors import SandboxError, UsageError

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INFRA, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

F = TypeVar("F", bound=Callable[..., Any])


def _stderr() -> Console:
    return Console(stderr=True, no_color="NO_COLOR" in os.environ, soft_wrap=True)


def _stdout() -> Console:
    return Console(no_color="NO_COLOR" in os.environ, soft_wrap=True)


def _handles_errors(command: F) -> F:
    """Turn the tool's errors into one line on stderr and the right exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SandboxError as exc:
            _stderr().print(f"[bold red]sandbox: error:[/] {escape(str(exc))}", highlight=False)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            _stderr().print("sandbox: interrupted")
            sys.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            # A bug of ours: one line, and the traceback only with --verbose.
            logging.getLogger("sandbox").debug("internal error", exc_info=True)
            _stderr().print(
                f"[bold red]sandbox: internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
                "(run with -v for the traceback)",
                highlight=False,
            )
            sys.exit(EXIT_INFRA)

    return wrapper  # type: ignore[return-value]


def _pairs(option: str, values: tuple[str, ...]) -> dict[str, str]:
    """``("a=1", "b=")`` -> ``{"a": "1", "b": ""}``; a value without ``=`` is a usage error."""
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise UsageError(f"{option} {value!r}: expected NAME=VALUE")
        pairs[name] = rest
    return pairs


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sandbox")
@click.option("-v", "--verbose", is_flag=True, help="Log what the tool does (to stderr).")
def cli(verbose: bool) -> None:
    """Test SageMaker Processing and Training scripts in a production-shaped container.

    \b
    Quick start:
      sandbox test-script tabular_preprocessing --arg job_type=training --env LABEL_FIELD=label
      sandbox test-script ./path/to/script.py --output-format json
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=_stderr(), show_path=False, show_time=False)],
    )


# test-script ------------------------------------------------------------------


@cli.command("test-script")
@click.argument("scripts", nargs=-1)
@click.option("--all", "all_scripts", is_flag=True, help="Every *.py script in --scripts-dir.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Run this many scripts at once.",
)
@click.option(
    "--junit-xml",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write one JUnit XML file for all the scripts (for CI).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the verdict line of each script.")
@click.option("-v", "--verbose", is_flag=True, help="Stream the container's output to stderr.")
@click.option("--image", help="Image profile (see `sandbox images list`) or any image reference.")
@click.option(
    "--scripts-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("scripts"),
    show_default=True,
    help="Where to look up a script given by name.",
)
@click.option(
    "--spec", "spec_path", type=click.Path(dir_okay=False, path_type=Path), help="Spec file (YAML)."
)
@click.option(
    "--data-source",
    help="'synthetic' (default), or a folder (or s3://bucket/prefix) holding one folder "
    "(sub-prefix) per input channel.",
    default="synthetic",
    show_default=True,
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="CHANNEL=PATH",
    help="Feed one input channel from a folder or s3://bucket/prefix (repeatable).",
)
@click.option(
    "--data-size",
    type=click.Choice(["small", "medium", "large"]),
    default="small",
    show_default=True,
    help="Rows of generated data: 1k, 100k, 1M.",
)
@click.option(
    "--workspace-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".sandbox"),
    show_default=True,
    envvar="SANDBOX_WORKSPACE_DIR",
    help="Where runs, results and generated data are kept (env: SANDBOX_WORKSPACE_DIR).",
)
@click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: stdout holds exactly one JSON document.",
)
@click.option(
    "--call-style",
    type=click.Choice(["entrypoint", "main"]),
    help="entrypoint (as production, default) or main (import the script, call main()).",
)
@click.option(
    "--arg", "args", multiple=True, metavar="NAME=VALUE", help="Job argument: --NAME VALUE."
)
@click.option("--env", "envs", multiple=True, metavar="NAME=VALUE", help="Environment variable.")
@click.option(
    "--network/--no-network",
    default=None,
    help="Allow network access (default: none, like EnableNetworkIsolation).",
)
@click.option(
    "--as-root", is_flag=True, help="Run as root like production; outputs are handed back to you."
)
@click.option("--instance-type", help="e.g. ml.m5.xlarge: sets CPU and memory limits.")
@click.option("--memory", help="Memory limit, e.g. 512m or 4g (overrides the instance type).")
@click.option("--cpus", type=float, help="CPU limit, e.g. 0.5 (overrides the instance type).")
@click.option("--max-runtime", type=click.IntRange(1, 777600), help="MaxRuntimeInSeconds.")
@click.option(
    "--source-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Mount this whole source tree as the code folder (as the platform's source_dir).",
)
@click.option(
    "--hyperparameters",
    metavar="FILE_OR_JSON",
    help="Training hyperparameters: a JSON file or a JSON object.",
)
@_handles_errors
def test_script_command(**options: Any) -> None:
    """Run SCRIPTS in production-shaped containers: names in --scripts-dir, paths, or
    quoted globs ('examples/scripts/*.py'); --jobs N runs N at once."""
    from sandbox.batch import expand_scripts, names_one_script
    from sandbox.cli_results import finish_test_script, run_test_scripts
    from sandbox.runner import RunRequest

    scripts, all_scripts = options["scripts"], options["all_scripts"]
    names = expand_scripts(scripts, options["scripts_dir"], all_scripts=all_scripts)
    single = names_one_script(scripts, all_scripts=all_scripts)
    if single:
        results = [_test_one_script({**options, "script": names[0]})]
    else:
        results = run_test_scripts(
            names, options, lambda name: _run_request({**options, "script": name}, RunRequest)
        )
    finish_test_script(results, options, single=single)


def _test_one_script(options: dict[str, Any]) -> Any:
    from sandbox.progress import LineStreamer
    from sandbox.runner import RunRequest, run_script

    request = _run_request(options, RunRequest)
    console = _stderr()
    streamer = LineStreamer(console) if options["verbose"] else None
    with console.status("preparing", spinner="dots") as status:
        request = _with_progress(request, lambda message: status.update(message))
        if streamer is not None:
            import dataclasses

            request = dataclasses.replace(request, on_output=streamer)
        result = run_script(request)
    if streamer is not None:
        streamer.flush()
    return result


def _run_request(options: dict[str, Any], factory: Callable[..., Any]) -> Any:
    from sandbox.cli_data import data_location
    from sandbox.datagen import DataSize
    from sandbox.resolve import Overrides
    from sandbox.spec import CallStyle

    data_source = options["data_source"]
    overrides = Overrides(
        image=options["image"],
        call_style=CallStyle(options["call_style"]) if options["call_style"] else None,
        arguments=_pairs("--arg", options["args"]),
        environment=_pairs("--env", options["envs"]),
        network=options["network"],
        instance_type=options["instance_type"],
        max_runtime_s=options["max_runtime"],
        hyperparameters=_hyperparameters(options["hyperparameters"]),
    )
    return factory(
        script=options["script"],
        scripts_dir=options["scripts_dir"],
        spec_path=options["spec_path"],
        overrides=overrides,
        data_source=None
        if data_source == "synthetic"
        else data_location("--data-source", data_source),
        inputs={
            name: data_location(f"--input {name}", value)
            for name, value in _pairs("--input", options["inputs"]).items()
        },
        data_size=DataSize(options["data_size"]),
        workspace=options["workspace_dir"],
        as_root=options["as_root"],
        memory=options["memory"],
        cpus=options["cpus"],
        source_dir=options["source_dir"],
    )


def _hyperparameters(value: str | None) -> dict[str, Any]:
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


def _with_progress(request: Any, update: Callable[[str], None]) -> Any:
    import dataclasses

    return dataclasses.replace(request, on_progress=update)


for _command in RESULT_COMMANDS:
    cli.add_command(_command)
cli.add_command(gen_data_command)


# images -----------------------------------------------------------------------


@cli.group()
def images() -> None:
    """List and build image profiles (folders under images/)."""


@images.command("list")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
@_handles_errors
def images_list(output_format: str) -> None:
    """Show each profile, its content-hash tag and whether it is built."""
    from rich.table import Table

    from sandbox.engine import Engine
    from sandbox.images import list_profiles

    statuses = list_profiles(Engine.connect())
    if output_format == "json":
        echo_json([_status_dict(status) for status in statuses])
        return
    table = Table("profile", "tag", "built", "offline", "description")
    for status in statuses:
        built = "[green]yes[/]" if status.built else "no"
        offline = "yes" if status.offline else "needs a registry"
        table.add_row(status.profile, status.tag, built, offline, status.description)
    _stdout().print(table)


def _status_dict(status: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(status)


@images.command("build")
@click.argument("profile")
@click.option("--rebuild", is_flag=True, help="Build even when the tag exists.")
@_handles_errors
def images_build(profile: str, rebuild: bool) -> None:
    """Build PROFILE (and its base image), showing the build's progress."""
    from sandbox.engine import Engine
    from sandbox.images import ensure_image

    console = _stderr()
    resolved = ensure_image(
        Engine.connect(),
        profile,
        rebuild=rebuild,
        on_line=lambda line: console.print(line, markup=False, highlight=False),
    )
    verb = "built" if resolved.built_now else "already built"
    _stdout().print(f"{resolved.reference} {verb} ({resolved.image_id[:19]})")


# spec -------------------------------------------------------------------------


@cli.group()
def spec() -> None:
    """Script spec files."""


spec.add_command(from_contract_command)


@spec.command("schema")
@_handles_errors
def spec_schema() -> None:
    """Print the spec's JSON schema."""
    from sandbox.spec import spec_json_schema

    click.echo(spec_json_schema())


@spec.command("pipeline-schema")
@_handles_errors
def spec_pipeline_schema() -> None:
    """Print the pipeline file's JSON schema."""
    from sandbox.pipeline_spec import pipeline_json_schema

    click.echo(pipeline_json_schema())


# test-pipeline ----------------------------------------------------------------


@cli.command("test-pipeline")
@click.argument("pipeline_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--scripts-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("scripts"),
    show_default=True,
    help="Where to look up a step's script given by name.",
)
@click.option(
    "--workspace-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".sandbox"),
    show_default=True,
    envvar="SANDBOX_WORKSPACE_DIR",
    help="Where runs, pipeline runs and generated data are kept (env: SANDBOX_WORKSPACE_DIR).",
)
@click.option(
    "--data-size",
    type=click.Choice(["small", "medium", "large"]),
    default="small",
    show_default=True,
    help="Rows of generated data for inputs no edge feeds: 1k, 100k, 1M.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Independent steps run in parallel, at most this many at a time.",
)
@click.option(
    "--from",
    "from_step",
    metavar="STEP",
    help="Rerun STEP and its descendants, reusing the latest run's earlier outputs.",
)
@click.option(
    "--only",
    "only_step",
    metavar="STEP",
    help="Rerun STEP alone, reusing the latest run's outputs for its inputs.",
)
@click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: stdout holds exactly one JSON document.",
)
@click.option(
    "--junit-xml",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write JUnit XML: one testcase per step and per edge.",
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML report (the DAG, per-step figures).",
)
@_handles_errors
def test_pipeline_command(**options: Any) -> None:
    """Run the steps of PIPELINE_FILE in order, each step's outputs feeding the next."""
    from sandbox import pipeline_report
    from sandbox.datagen import DataSize
    from sandbox.pipeline import PipelineRequest, run_pipeline

    request = PipelineRequest(
        pipeline_file=options["pipeline_file"],
        scripts_dir=options["scripts_dir"],
        workspace=options["workspace_dir"],
        data_size=DataSize(options["data_size"]),
        jobs=options["jobs"],
        from_step=options["from_step"],
        only_step=options["only_step"],
    )
    with _stderr().status("preparing", spinner="dots") as status:
        request = _with_progress(request, lambda message: status.update(message))
        result = run_pipeline(request)
    if options["junit_xml"]:
        options["junit_xml"].write_text(pipeline_report.render_junit(result), encoding="utf-8")
    if options["html_file"]:
        options["html_file"].write_text(pipeline_report.render_html(result), encoding="utf-8")
    if options["output_format"] == "json":
        echo_json(result.to_json_dict())
    else:
        pipeline_report.render_text(result, _stdout())
    sys.exit(EXIT_OK if result.is_successful() else EXIT_FAILED)


def main() -> None:
    """Console-script entry point."""
    # A CI runner cancels with SIGTERM: clean up exactly as for Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    cli(prog_name="sandbox")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def echo_json(payload: Any) -> None:
    """Exactly one JSON document on stdout."""
    click.echo(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
