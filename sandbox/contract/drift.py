"""Where a script contract and the script's own source disagree: one warning line each.

Compares a contract (:class:`sandbox.contract.from_contract.ScriptContract`) with what
:mod:`sandbox.contract.inference` reads in its entry point: channel paths and their logical names,
environment variables and arguments. A script path inside a contract's channel folder
counts as that channel (the script reads ``data/part.csv`` of the ``data`` channel).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from sandbox.contract.inference import InferredContract

if TYPE_CHECKING:
    from sandbox.contract.from_contract import ScriptContract

__all__ = ["contract_drift", "is_file_path"]

_VERBS = {"input": ("reads", "read"), "output": ("writes", "write")}
_PLATFORM_PREFIX = "SM_"


def contract_drift(contract: ScriptContract, inferred: InferredContract) -> list[str]:
    """Every difference between the contract and the script, one line each."""
    return [
        *_path_drift(contract.expected_input_paths, inferred.inputs, "input"),
        *_path_drift(contract.expected_output_paths, inferred.outputs, "output"),
        *_env_drift(contract, inferred),
        *_argument_drift(contract, inferred),
    ]


def is_file_path(path: str) -> bool:
    """Whether a container path names a file (``.../hyperparameters.json``), not a folder."""
    suffix = PurePosixPath(path).suffix
    return 1 < len(suffix) <= 8 and suffix[1:].isalpha()


def _path_drift(declared: dict[str, str], used: dict[str, str], direction: str) -> list[str]:
    does, do = _VERBS[direction]
    used = {name: _clean(path) for name, path in used.items()}
    lines: list[str] = []
    loose: dict[str, str] = {}
    matched: set[str] = set()
    for name, raw in declared.items():
        path = _clean(raw)
        hits = [other for other, used_path in used.items() if _inside(used_path, path)]
        if not hits:
            loose[name] = path
            continue
        matched.update(hits)
        keyed = [other for other in hits if not _is_folder_name(other, used[other])]
        if name not in hits and keyed:
            lines.append(f"contract calls {path} {name!r}; the script calls it {keyed[0]!r}")
    unused = {name: path for name, path in used.items() if name not in matched}
    for name, path, used_path in _paired(loose, unused):
        lines.append(f"contract says {name} -> {path}; the script {does} {used_path}")
    lines.extend(f"contract says {n} -> {p}; the script does not {do} it" for n, p in loose.items())
    lines.extend(
        f"the script {does} {p} ({n}); the contract does not declare it" for n, p in unused.items()
    )
    return lines


def _clean(path: str) -> str:
    return path.rstrip("/") or "/"


def _inside(used_path: str, declared_path: str) -> bool:
    folder = declared_path.rsplit("/", 1)[0] if is_file_path(declared_path) else declared_path
    return used_path in (declared_path, folder) or used_path.startswith(folder + "/")


def _is_folder_name(name: str, path: str) -> bool:
    """Inference names a path by its folder when the script gives it no logical name."""
    return name == path.rsplit("/", 1)[-1]


def _paired(loose: dict[str, str], unused: dict[str, str]) -> list[tuple[str, str, str]]:
    """Declared and used paths that are probably the same channel: same name, or the
    only one left on each side. Paired entries leave both dicts."""
    pairs = [(name, loose[name], unused[name]) for name in list(loose) if name in unused]
    if len(loose) - len(pairs) == 1 and len(unused) - len(pairs) == 1:
        name = next(n for n in loose if n not in unused)
        other = next(n for n in unused if n not in loose)
        pairs.append((name, loose[name], unused[other]))
        del unused[other]
    for name, _path, _used in pairs:
        loose.pop(name)
        unused.pop(name, None)
    return pairs


def _env_drift(contract: ScriptContract, inferred: InferredContract) -> list[str]:
    declared = [*contract.required_env_vars, *contract.optional_env_vars]
    read = {*inferred.required_env, *inferred.optional_env}
    lines = [
        f"the script requires environment variable {name}; the contract does not declare it"
        for name in inferred.required_env
        if name not in declared and not name.startswith(_PLATFORM_PREFIX)
    ]
    lines.extend(
        f"contract declares environment variable {name}; the script does not read it"
        for name in dict.fromkeys(declared)
        if name not in read
    )
    for name, default in contract.optional_env_vars.items():
        fallback = inferred.optional_env.get(name)
        if name in inferred.required_env:
            lines.append(f"contract lists {name} as optional; the script requires it")
        elif default is not None and fallback is not None and default != fallback:
            lines.append(
                f"contract gives {name} the default {default!r}; "
                f"the script falls back to {fallback!r}"
            )
    return lines


def _argument_drift(contract: ScriptContract, inferred: InferredContract) -> list[str]:
    passed = {_dest(name): name for name in contract.expected_arguments}
    lines = [
        f"the script requires argument --{dest}; the contract does not pass it"
        for dest, argument in inferred.arguments.items()
        if argument.required and dest not in passed
    ]
    if inferred.arguments:  # a script without argparse ignores arguments it is given
        lines.extend(
            f"contract passes --{name}; the script defines no such argument "
            "(argparse would stop with an error)"
            for dest, name in passed.items()
            if dest not in inferred.arguments
        )
    return lines


def _dest(name: str) -> str:
    """argparse's destination for an option name: ``--job-type`` -> ``job_type``."""
    return name.lstrip("-").replace("-", "_")
