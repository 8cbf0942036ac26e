"""Commands the tool suggests, built from the options actually in force, so that a hint
pasted into a shell runs as printed (quoted for a POSIX shell)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sandbox.constants import DEFAULT_SCRIPTS_DIR, DEFAULT_WORKSPACE

__all__ = ["show_result_hint", "test_script_hint"]


def show_result_hint(run_id: str, workspace_dir: Path) -> str:
    """``sandbox show-result RUN_ID``, with ``--workspace-dir`` when it is not the default."""
    words = ["sandbox", "show-result", run_id, *_workspace_words(workspace_dir)]
    return shlex.join(words)


def test_script_hint(script: str, options: Mapping[str, Any], **extra: str) -> str:
    """``sandbox test-script SCRIPT`` with the options of ``options`` that change what the
    run is (``--scripts-dir``, ``--spec``, ``--arg``, ``--env``, ``--hyperparameters``)
    and the ``extra`` options given as ``{"data_source": DIR}``."""
    words = ["sandbox", "test-script", script]
    scripts_dir = options.get("scripts_dir")
    if scripts_dir is not None and Path(scripts_dir) != Path(DEFAULT_SCRIPTS_DIR):
        words += ["--scripts-dir", str(scripts_dir)]
    if options.get("spec_path") is not None:
        words += ["--spec", str(options["spec_path"])]
    words += _repeated("--arg", options.get("args", ()))
    words += _repeated("--env", options.get("envs", ()))
    if options.get("hyperparameters") is not None:
        words += ["--hyperparameters", str(options["hyperparameters"])]
    for name, value in extra.items():
        words += [f"--{name.replace('_', '-')}", value]
    return shlex.join(words)


def _workspace_words(workspace_dir: Path) -> list[str]:
    if Path(workspace_dir) == Path(DEFAULT_WORKSPACE):
        return []
    return ["--workspace-dir", str(workspace_dir)]


def _repeated(option: str, values: Iterable[str]) -> list[str]:
    return [word for value in values for word in (option, value)]
