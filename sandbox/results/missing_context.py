"""A failure caused by what a local run does not bring along, said in one line.

A run mounts the script alone as its code folder (unless ``--source-dir`` gives a tree)
and gives the container neither AWS credentials nor a network. A script that then stops
on a file of its source tree (``/opt/ml/code/hyperparams/hyperparameters.json``) or on
``NoCredentialsError`` fails for that, not for its own logic: the hint says which, and
what to pass.
"""

from __future__ import annotations

import re
from pathlib import Path

from sandbox.constants import CODE_PATH, TRAINING_CODE_DIR, JobKind
from sandbox.contract.resolve import ResolvedScript
from sandbox.results.models import TestResult

__all__ = ["missing_context_hint", "with_context_hint", "with_import_hint"]

_ROOTS = f"{re.escape(CODE_PATH)}|{re.escape(TRAINING_CODE_DIR)}"
# A quoted path is taken whole (it may hold spaces); an unquoted one ends at a space.
_CODE_FILE = re.compile(
    rf"'(?P<q1>(?:{_ROOTS})/[^']+)'"
    rf"|\"(?P<q2>(?:{_ROOTS})/[^\"]+)\""
    rf"|(?P<bare>(?:{_ROOTS})/[^\s'\",:;()\[\]]+)"
)
# Only a file that was not there: a KeyError that says "missing" is something else.
_MISSING = re.compile(
    r"FileNotFoundError|No such file or directory|\[Errno 2\]|does not exist|not found",
    re.IGNORECASE,
)
_NO_CREDENTIALS = re.compile(r"NoCredentialsError|Unable to locate credentials")


def with_import_hint(
    result: TestResult, resolved: ResolvedScript, source_dir: Path | None
) -> str | None:
    """The failed run's reason, led by a hint when the script's package-relative imports
    need a source tree that was not given."""
    imports = resolved.contract.relative_imports
    if result.is_successful() or not imports or source_dir is not None:
        return result.error_message
    hint = (
        f"the script uses package-relative imports ({', '.join(imports)}) and cannot run "
        "as a lone file; pass --source-dir with the root of its package"
    )
    return f"{hint}. {result.error_message}" if result.error_message else hint


def with_context_hint(
    result: TestResult, resolved: ResolvedScript, source_dir: Path | None
) -> str | None:
    """The failed run's reason, led by :func:`missing_context_hint` where it applies."""
    hint = missing_context_hint(
        result.error_message,
        result.stderr_tail,
        kind=resolved.spec.kind,
        source_dir_given=source_dir is not None,
    )
    if hint is None:
        return result.error_message
    return f"{hint} ({result.error_message})" if result.error_message else hint


def missing_context_hint(
    error_message: str | None,
    stderr_tail: list[str],
    *,
    kind: JobKind,
    source_dir_given: bool,
) -> str | None:
    """The hint for a failure on a missing source-tree file or on absent AWS credentials.

    Args:
        error_message: The failed run's reason.
        stderr_tail: The last lines the script wrote to stderr.
        kind: The job's kind (it decides where the code folder is).
        source_dir_given: Whether ``--source-dir`` gave a whole tree.

    Returns:
        One line, or None when the failure is something else.
    """
    if error_message and _MISSING.search(error_message):
        hint = _code_file_hint(error_message, kind, source_dir_given)
        if hint is not None:
            return hint
    if any(_NO_CREDENTIALS.search(line) for line in [error_message or "", *stderr_tail[-5:]]):
        return (
            "the script calls an AWS service and found no credentials: a local run has no "
            "AWS credentials and no network unless given (--network, and the AWS_* variables "
            "with --secret-env)"
        )
    return None


def _code_file_hint(error_message: str, kind: JobKind, source_dir_given: bool) -> str | None:
    found = _CODE_FILE.search(error_message)
    if found is None:
        return None
    path = found.group("q1") or found.group("q2") or found.group("bare").rstrip(".")
    folder = next(root for root in (CODE_PATH, TRAINING_CODE_DIR) if path.startswith(f"{root}/"))
    relative = path[len(folder) + 1 :].rstrip("/")
    code_dir = TRAINING_CODE_DIR if kind is JobKind.TRAINING else CODE_PATH
    if folder != code_dir:
        return (
            f"the script looks for {path}, in a source tree at {folder}/ that a {kind.value} "
            f"job does not have (its code folder is {code_dir}/, which --source-dir fills "
            "with a whole tree)"
        )
    if source_dir_given:
        return f"the script looks for {path}, which the --source-dir tree does not hold"
    return (
        f"the script looks for {path} beside itself, but the code folder holds the script "
        f"alone: pass --source-dir with the tree that holds {relative}"
    )
