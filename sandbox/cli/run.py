"""``sandbox test-script``: run one or many scripts in production-shaped containers.

Validate the options, build one :class:`~sandbox.runner.RunRequest` per script, run them
(one with a spinner, several with a live progress display), render, and exit 0 when every
script passed, 1 otherwise.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sandbox.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    arg_option,
    data_size_option,
    echo_json,
    env_option,
    handles_errors,
    hyperparameters_option,
    output_format_option,
    parse_hyperparameters,
    parse_pairs,
    scripts_dir_option,
    spec_option,
    spinner,
    stderr_console,
    stdout_console,
    with_progress,
    workspace_dir_option,
)
from sandbox.cli.completion import complete_profiles, complete_scripts
from sandbox.errors import UsageError

if TYPE_CHECKING:
    from sandbox.data.location import DataLocation

__all__ = ["test_script_command"]


@click.command("test-script")
@click.argument("scripts", nargs=-1, shell_complete=complete_scripts)
@click.option("--all", "all_scripts", is_flag=True, help="Every *.py script in --scripts-dir.")
@click.option(
    "--shard",
    metavar="K/N",
    help="Run only shard K of N of the scripts (a stable split by name), for a CI matrix.",
)
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
@click.option(
    "-q", "--quiet", is_flag=True, help="Print one line per script: the verdict and its reason."
)
@click.option(
    "--stream",
    "-v",
    "--verbose",
    "stream",
    is_flag=True,
    help="Stream the container's output to stderr (logging: sandbox --debug).",
)
@click.option(
    "--image",
    shell_complete=complete_profiles,
    help="Image profile (see `sandbox images list`) or any image reference.",
)
@scripts_dir_option()
@spec_option
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
@data_size_option()
@workspace_dir_option()
@output_format_option
@click.option(
    "--call-style",
    type=click.Choice(["entrypoint", "main"]),
    help="entrypoint (as production, default) or main (import the script, call main()).",
)
@arg_option
@env_option
@click.option(
    "--secret-env",
    "secret_envs",
    multiple=True,
    metavar="NAME",
    help="A variable whose value is a secret: masked wherever the tool writes; without "
    "--env NAME=VALUE, your value of NAME is passed (repeatable).",
)
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
    "--pids-limit",
    type=click.IntRange(min=16),  # the spec's MIN_PIDS_LIMIT (sandbox.contract.spec loads lazily)
    help="Most processes and threads at once (default 1024): a fork bomb stops there.",
)
@click.option(
    "--source-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Mount this whole source tree as the code folder (as the platform's source_dir).",
)
@click.option(
    "--requirements",
    "requirements_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="pip requirements file: installed before the script from a local wheelhouse "
    "(the host's pip downloads the wheels once; the job needs no network).",
)
@click.option(
    "--bake-requirements",
    is_flag=True,
    help="Bake the requirements into an image derived from the profile, built once.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 2 before the run when the script imports a module the image lacks.",
)
@click.option(
    "--copy-mode",
    type=click.Choice(["auto", "bind", "copy"]),
    help="How folders reach the container: bind mounts, copies (an engine that does not "
    "see this machine's files), or auto (detect; default, or SANDBOX_COPY_MODE).",
)
@hyperparameters_option
@click.option(
    "--kind",
    type=click.Choice(["processing", "training"]),
    help="Run as this kind of job, whatever the script's paths suggest.",
)
@click.option(
    "--allow-unknown-args",
    is_flag=True,
    help="Pass --arg names the script's argparse does not declare.",
)
@click.option(
    "--contract",
    "contract_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Run under a script contract (.py or step-interface YAML) instead of a spec.",
)
@handles_errors
def test_script_command(**options: Any) -> None:
    """Run SCRIPTS in production-shaped containers: names in --scripts-dir, paths, or
    quoted globs ('examples/scripts/*.py'); --jobs N runs N at once."""
    from sandbox.pipeline.batch import expand_scripts, names_one_script
    from sandbox.runner import RunRequest

    scripts, all_scripts = options["scripts"], options["all_scripts"]
    shard = _parse_shard(options["shard"])
    names = expand_scripts(scripts, options["scripts_dir"], all_scripts=all_scripts)
    single = names_one_script(scripts, all_scripts=all_scripts) and shard is None
    if shard is not None:
        names = _shard_of(names, shard, options)
    if single:
        results = [_test_one_script({**options, "script": names[0]})]
    else:
        results = _run_test_scripts(
            names, options, lambda name: _run_request({**options, "script": name}, RunRequest)
        )
    _finish_test_script(results, options, single=single)


def _parse_shard(text: str | None) -> Any:
    from sandbox.pipeline.shards import parse_shard

    return None if text is None else parse_shard(text)


def _shard_of(names: list[str], shard: Any, options: dict[str, Any]) -> list[str]:
    """The scripts of ``--shard K/N``; a shard left with none passes, with an empty report."""
    from sandbox.pipeline.shards import select_shard

    chosen = select_shard(names, shard)
    if not chosen:
        stderr_console().print(f"sandbox: shard {shard} has no script ({len(names)} in all)")
        _finish_test_script([], options, single=False)
    return chosen


def _test_one_script(options: dict[str, Any]) -> Any:
    from sandbox.runner import RunRequest, run_script

    request = _run_request(options, RunRequest)
    streamer = None
    if options["stream"]:
        from sandbox.cli.progress import LineStreamer

        streamer = LineStreamer(stderr_console())
        request = dataclasses.replace(request, on_output=streamer)
    with spinner() as update:
        result = run_script(with_progress(request, update))
    if streamer is not None:
        streamer.flush()
    return result


def _run_request(options: dict[str, Any], factory: Callable[..., Any]) -> Any:
    from sandbox.constants import JobKind
    from sandbox.contract.resolve import Overrides
    from sandbox.contract.spec import CallStyle
    from sandbox.data.datagen import DataSize

    data_source = options["data_source"]
    overrides = Overrides(
        image=options["image"],
        call_style=CallStyle(options["call_style"]) if options["call_style"] else None,
        arguments=parse_pairs("--arg", options["args"]),
        environment=parse_pairs("--env", options["envs"]),
        network=options["network"],
        instance_type=options["instance_type"],
        max_runtime_s=options["max_runtime"],
        pids_limit=options["pids_limit"],
        secret_env=list(options["secret_envs"]),
        hyperparameters=parse_hyperparameters(options["hyperparameters"]),
        kind=JobKind(options["kind"]) if options["kind"] else None,
        allow_unknown_args=options["allow_unknown_args"],
    )
    if options["contract_path"] is not None and options["spec_path"] is not None:
        raise UsageError("--spec and --contract both describe the run: give one")
    return factory(
        script=options["script"],
        scripts_dir=options["scripts_dir"],
        spec_path=options["contract_path"] or options["spec_path"],
        overrides=overrides,
        data_source=None
        if data_source == "synthetic"
        else data_location("--data-source", data_source),
        inputs={
            name: data_location(f"--input {name}", value)
            for name, value in parse_pairs("--input", options["inputs"]).items()
        },
        data_size=DataSize(options["data_size"]),
        workspace=options["workspace_dir"],
        as_root=options["as_root"],
        memory=options["memory"],
        cpus=options["cpus"],
        source_dir=options["source_dir"],
        requirements_file=options["requirements_file"],
        bake_requirements=options["bake_requirements"],
        strict=options["strict"],
        copy_mode=options["copy_mode"],
    )


def data_location(option: str, value: str) -> DataLocation:
    """A folder, or an S3 prefix.

    Raises:
        UsageError: An ``s3://`` URI without a bucket, or boto3 is not installed.
    """
    from sandbox.data.location import S3Uri, as_location
    from sandbox.data.s3client import require_boto3

    try:
        location = as_location(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from exc
    if isinstance(location, S3Uri):
        require_boto3()
    return location


# several scripts ---------------------------------------------------------------


def _run_test_scripts(
    names: list[str], options: dict[str, Any], make_request: Callable[[str], Any]
) -> list[Any]:
    """Run several scripts with a live progress display on stderr; results in order.

    Args:
        names: the expanded script names or paths.
        options: test-script's options (``jobs``, ``spec_path``, ``stream``).
        make_request: builds the :class:`~sandbox.runner.RunRequest` of one name.
    """
    from sandbox.cli.progress import ProgressDisplay
    from sandbox.pipeline.batch import run_batch

    if options["spec_path"] is not None:
        raise UsageError("--spec names one script: give one script with --spec")
    if options["contract_path"] is not None:
        raise UsageError("--contract names one script: give one script with --contract")
    requests = [make_request(name) for name in names]
    stems = [Path(name).stem for name in names]
    console = stderr_console()
    with ProgressDisplay(console, stems, stream_output=options["stream"]) as display:
        return run_batch(requests, jobs=options["jobs"], observer=display)


def _finish_test_script(results: list[Any], options: dict[str, Any], *, single: bool) -> None:
    """Write the JUnit file, render the results, and exit 0 (all passed) or 1."""
    if options["junit_xml"] is not None:
        from sandbox.report.files import write_report_file
        from sandbox.report.junit import junit_xml

        write_report_file(options["junit_xml"], junit_xml(results))
    exit_code = EXIT_OK if all(result.is_successful() for result in results) else EXIT_FAILED
    if options["output_format"] == "json":  # no rich on this path: it starts faster
        from sandbox.results.output import results_document

        echo_json(results_document(results, exit_code))
        sys.exit(exit_code)
    from sandbox.report.tables import render_batch_summary
    from sandbox.report.text import render_text, render_verdict

    console = stdout_console()
    if options["quiet"]:
        for result in results:
            render_verdict(result, console, with_reason=True)
    elif single:
        render_text(results[0], console)
    else:
        from sandbox.cli.hints import show_result_hint

        workspace_dir = options["workspace_dir"]
        render_batch_summary(
            results, console, lambda result: show_result_hint(result.run_id, workspace_dir)
        )
    sys.exit(exit_code)
