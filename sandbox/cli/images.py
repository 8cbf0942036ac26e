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
    table = Table("profile", "tag", "built", "offline", "description")
    for status in statuses:
        built = "[green]yes[/]" if status.built else "no"
        offline = "yes" if status.offline else "needs a registry"
        table.add_row(status.profile, status.tag, built, offline, status.description)
    stdout_console().print(table)


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
