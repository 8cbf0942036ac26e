"""``sandbox images``: list, build and prune the image profiles (folders under images/)."""

from __future__ import annotations

from typing import Any

import click

from sandbox.cli.common import echo_json, handles_errors, stderr_console, stdout_console
from sandbox.cli.completion import complete_profiles

__all__ = ["images_group"]


@click.group("images")
def images_group() -> None:
    """List, build and prune image profiles (folders under images/)."""


@images_group.command("list")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
@handles_errors
def images_list(output_format: str) -> None:
    """Show each profile, its content-hash tag and whether it is built."""
    from sandbox.container.engine import DockerEngine
    from sandbox.container.images import list_profiles

    with DockerEngine.connect() as engine:
        statuses = list_profiles(engine)
    if output_format == "json":
        echo_json([_status_dict(status) for status in statuses])
        return
    _render_profiles(statuses)


def _render_profiles(statuses: list[Any]) -> None:
    """Profile and tag always whole; the other columns as they fit; a description that
    does not fit goes on a line of its own under the table."""
    from rich.text import Text

    from sandbox.report.fit import Column, fit_table, prose

    console = stdout_console()
    columns = [
        Column("profile", [s.profile for s in statuses]),
        Column("tag", [s.tag for s in statuses]),
        Column("built", [Text("yes", "green") if s.built else "no" for s in statuses], 1),
        Column("offline", ["yes" if s.offline else "needs a registry" for s in statuses], 3),
        Column("python", [s.python_version or "-" for s in statuses], 2),
        Column(
            "packages", [str(len(s.distributions)) if s.distributions else "-" for s in statuses], 4
        ),
        Column("description", [s.description for s in statuses], 5),
    ]
    fitted = fit_table(columns, console.width)
    console.print(fitted.table)
    if "description" in fitted.dropped:
        for status in statuses:
            console.print(prose(f"{status.profile}: {status.description}"), soft_wrap=False)


@images_group.command("show")
@click.argument("profile", shell_complete=complete_profiles)
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
@click.argument("profile", shell_complete=complete_profiles)
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


@images_group.command("prune")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@handles_errors
def images_prune(dry_run: bool) -> None:
    """Remove images of profiles whose content changed since they were built."""
    from sandbox.container.engine import DockerEngine
    from sandbox.container.prune import prune_images

    with DockerEngine.connect() as engine:
        outcome = prune_images(engine, dry_run=dry_run)
    console = stdout_console()
    verb = "would remove" if dry_run else "removed"
    for tag in outcome.removed:
        console.print(f"{verb} {tag}", markup=False, highlight=False)
    for tag in outcome.in_use:
        console.print(f"kept {tag}: a container still uses it", markup=False, highlight=False)
    count = len(outcome.removed)
    console.print(f"{verb} {count} stale image tag{'' if count == 1 else 's'}", highlight=False)
