"""Shell completion of the values the tool knows: script names (``--scripts-dir``, then the
bundled examples), image profile names, and the run ids of the workspace.

Enabled per shell by click: ``eval "$(_SANDBOX_COMPLETE=bash_source sandbox)"`` (zsh:
``zsh_source``, fish: ``fish_source``). A callback never fails: a missing folder
completes nothing.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.shell_completion import CompletionItem

from sandbox.constants import DEFAULT_SCRIPTS_DIR, DEFAULT_WORKSPACE

__all__ = ["complete_profiles", "complete_run_ids", "complete_scripts"]


def complete_scripts(
    ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Script names in ``--scripts-dir`` and among the bundled examples; a path as files."""
    if "/" in incomplete or incomplete.startswith("."):
        return [CompletionItem(incomplete, type="file")]
    from sandbox.contract.resolve import BUNDLED_EXAMPLES

    scripts_dir = Path(ctx.params.get("scripts_dir") or DEFAULT_SCRIPTS_DIR)
    names: dict[str, str] = {}
    for folder, where in ((BUNDLED_EXAMPLES, "bundled example"), (scripts_dir, str(scripts_dir))):
        for script in _children(folder, "*.py"):
            names[script.stem] = where
    return [
        CompletionItem(name, help=where)
        for name, where in sorted(names.items())
        if name.startswith(incomplete) and not name.startswith("_")
    ]


def complete_profiles(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The image profiles' names (folders holding a ``profile.json``)."""
    from sandbox.container.images import profiles_root
    from sandbox.errors import SandboxError

    try:
        root = profiles_root()
    except SandboxError:
        return []
    names = sorted(spec.parent.name for spec in _children(root, "*/profile.json"))
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def complete_run_ids(
    ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``latest`` and the run ids of the workspace, newest first."""
    workspace = Path(ctx.params.get("workspace_dir") or DEFAULT_WORKSPACE)
    run_ids = sorted(
        (p.name for p in _children(workspace / "runs", "*") if p.is_dir()), reverse=True
    )
    return [CompletionItem(r) for r in ["latest", *run_ids] if r.startswith(incomplete)]


def _children(folder: Path, pattern: str) -> list[Path]:
    try:
        return sorted(folder.glob(pattern))
    except OSError:
        return []
