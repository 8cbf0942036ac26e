"""``sandbox images``: list and build the image profiles (folders under images/)."""

from __future__ import annotations

from typing import Any

import click

from sandbox.cli.common import echo_json, handles_errors, stderr_console, stdout_console

__all__ = ["images_group"]


@click.group("images")
def images_group() -> None:
    """List and build image profiles (folders under images/)."""


@images_group.command("list")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
@handles_errors
def images_list(output_format: str) -> None:
    """Show each profile, its content-hash tag and whether it is built."""
    from rich.table import Table

    from sandbox.container.engine import DockerEngine
    from sandbox.container.images import list_profiles

    with DockerEngine.connect() as engine:
        statuses = list_profiles(engine)
    if output_format == "json":
        echo_json([_status_dict(status) for status in statuses])
        return
    table = Table("profile", "tag", "built", "offline", "python", "packages", "description")
    for status in statuses:
        built = "[green]yes[/]" if status.built else "no"
        offline = "yes" if status.offline else "needs a registry"
        packages = str(len(status.distributions)) if status.distributions else "-"
        python = status.python_version or "-"
        table.add_row(
            status.profile, status.tag, built, offline, python, packages, status.description
        )
    stdout_console().print(table)


@images_group.command("show")
@click.argument("profile")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
@handles_errors
def images_show(profile: str, output_format: str) -> None:
    """Show PROFILE's tag and the distributions its built image records (name, version)."""
    from rich.table import Table

    from sandbox.container.engine import DockerEngine
    from sandbox.container.images import list_profiles
    from sandbox.errors import UsageError

    with DockerEngine.connect() as engine:
        statuses = {status.profile: status for status in list_profiles(engine)}
    status = statuses.get(profile)
    if status is None:
        known = ", ".join(sorted(statuses))
        raise UsageError(f"no image profile {profile!r} (known: {known})")
    if output_format == "json":
        echo_json(_status_dict(status))
        return
    console = stdout_console()
    built = "built" if status.built else f"not built (sandbox images build {profile})"
    console.print(f"{status.profile}  {status.tag}  {built}", markup=False, highlight=False)
    console.print(status.description, markup=False, highlight=False)
    if status.python_version:
        console.print(f"python {status.python_version}", markup=False, highlight=False)
    if status.distributions:
        table = Table("distribution", "version")
        for name, version in status.distributions.items():
            table.add_row(name, version)
        console.print(table)


def _status_dict(status: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(status)


@images_group.command("build")
@click.argument("profile")
@click.option("--rebuild", is_flag=True, help="Build even when the tag exists.")
@handles_errors
def images_build(profile: str, rebuild: bool) -> None:
    """Build PROFILE (and its base image), showing the build's progress."""
    from sandbox.container.engine import DockerEngine
    from sandbox.container.images import ensure_image

    console = stderr_console()
    with DockerEngine.connect() as engine:
        resolved = ensure_image(
            engine,
            profile,
            rebuild=rebuild,
            on_line=lambda line: console.print(line, markup=False, highlight=False),
        )
    verb = "built" if resolved.built_now else "already built"
    stdout_console().print(f"{resolved.reference} {verb} ({resolved.image_id[:19]})")
