"""Pre-flight dependency check: does the image hold what the script imports?

Read from the script's source (never executed): every ``import`` (also inside functions;
those under ``try: ... except ImportError`` are optional) and the targets of its own
``pip install`` calls (``subprocess`` / ``check_call`` argument lists, followed through
list variables and function parameters). Compared with the image's recorded modules and
distributions, the standard library, the files beside the script (or in its source tree)
and the requirements the run installs, a module that nothing provides is a finding
before any container starts.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.container.distributions import ImageContents, normalize

__all__ = [
    "DISTRIBUTION_OF",
    "DependencyReport",
    "ScriptNeeds",
    "check_dependencies",
    "module_not_found",
    "scan_script",
]

DISTRIBUTION_OF: dict[str, str] = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "yaml": "PyYAML",
    "cv2": "opencv-python",
    "PIL": "Pillow",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "bs4": "beautifulsoup4",
    "attr": "attrs",
    "jwt": "PyJWT",
    "Crypto": "pycryptodome",
    "OpenSSL": "pyOpenSSL",
    "zmq": "pyzmq",
    "google.protobuf": "protobuf",
    "pkg_resources": "setuptools",
    "mpl_toolkits": "matplotlib",
    "pylab": "matplotlib",
    "fitz": "PyMuPDF",
    "docx": "python-docx",
    "serial": "pyserial",
    "magic": "python-magic",
    "MySQLdb": "mysqlclient",
    "psycopg2": "psycopg2-binary",
    "lgb": "lightgbm",
    "sentence_transformers": "sentence-transformers",
    "huggingface_hub": "huggingface-hub",
    "torchvision": "torchvision",
    "gi": "PyGObject",
    "win32api": "pywin32",
}
"""Import name -> the distribution that usually provides it, where the names differ."""
_EXTRA_PROVIDERS: dict[str, tuple[str, ...]] = {
    "cv2": ("opencv-python", "opencv-python-headless", "opencv-contrib-python"),
    "psycopg2": ("psycopg2", "psycopg2-binary"),
}
_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_MODULE_NOT_FOUND = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")
_MAX_DEPTH = 4
_RUNS_COMMANDS = {
    *("system", "run", "call", "check_call", "check_output", "Popen"),
    *("getoutput", "getstatusoutput", "spawnv", "execv"),
}


@dataclass(frozen=True)
class ScriptNeeds:
    """What a script's source says it needs."""

    required: frozenset[str] = frozenset()
    """Top-level modules imported outside ``try/except ImportError``."""
    optional: frozenset[str] = frozenset()
    pip_targets: tuple[str, ...] = ()
    """Requirements the script's own ``pip install`` calls name (literal ones only)."""
    runtime_pip: bool = False
    """The script calls ``pip install`` (even with targets that cannot be read)."""


@dataclass(frozen=True)
class DependencyReport:
    """The modules nothing provides, and the findings that say so."""

    missing: tuple[str, ...] = ()
    findings: list[str] = field(default_factory=list)
    checked: bool = True
    """False when the image records no modules: nothing could be compared."""


def scan_script(path: Path) -> ScriptNeeds:
    """Read a script's imports and ``pip install`` targets (a syntax error reads as none)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), str(path))
    except (OSError, SyntaxError, ValueError):
        return ScriptNeeds()
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    required: set[str] = set()
    optional: set[str] = set()
    for node in ast.walk(tree):
        for name in _imported(node):
            (optional if _guarded(node, parents) else required).add(name)
    targets, runtime_pip = _PipTargets(tree, parents).find()
    return ScriptNeeds(frozenset(required), frozenset(optional - required), targets, runtime_pip)


def check_dependencies(
    needs: ScriptNeeds,
    contents: ImageContents,
    *,
    local_roots: Iterable[Path] = (),
    installed: Iterable[str] = (),
    script: str,
) -> DependencyReport:
    """Compare what ``needs`` imports with what the job will have.

    Args:
        needs: from :func:`scan_script`.
        contents: the image's recorded modules and distributions.
        local_roots: folders on the script's ``sys.path`` (beside it, its source tree).
        installed: requirements installed before the script, or by its own pip calls.
        script: the script's name, for the findings.
    """
    if not contents.modules and not contents.distributions:
        return DependencyReport(checked=False)
    provided = {_requirement_name(item) for item in installed}
    roots = list(local_roots)
    missing = sorted(
        module
        for module in needs.required
        if not _present(module, contents, roots) and not _provides(provided, module)
    )
    findings = [_finding(script, module) for module in missing]
    return DependencyReport(tuple(missing), findings)


def module_not_found(stderr_lines: Iterable[str]) -> str | None:
    """The top-level module of the last ``ModuleNotFoundError`` in the output."""
    found = [m.group(1) for line in stderr_lines if (m := _MODULE_NOT_FOUND.search(line))]
    return found[-1].split(".")[0] if found else None


def fix_for(module: str) -> str:
    """The one-line fix for a module the image lacks."""
    distribution = DISTRIBUTION_OF.get(module, module)
    return (
        f"add {distribution!r} with --requirements FILE or `requirements:` in the spec, "
        "or use an image that has it"
    )


def _finding(script: str, module: str) -> str:
    return (
        f"pre-flight: script {script} imports {module!r}, which the image lacks: {fix_for(module)}"
    )


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module.split(".")[0]]
    return []


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside the body of a ``try`` whose handlers catch an import failure, or under
    ``if TYPE_CHECKING``."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if (
            isinstance(parent, ast.Try)
            and child in parent.body
            and any(_catches_import_error(handler) for handler in parent.handlers)
        ):
            return True
        if isinstance(parent, ast.If) and "TYPE_CHECKING" in ast.unparse(parent.test):
            return True
        child, parent = parent, parents.get(parent)
    return False


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS for n in names)


def _present(module: str, contents: ImageContents, roots: list[Path]) -> bool:
    if module in sys.stdlib_module_names or module == "__future__":
        return True
    if module in contents.modules:
        return True
    if any((root / f"{module}.py").is_file() or (root / module).is_dir() for root in roots):
        return True
    candidates = _EXTRA_PROVIDERS.get(module, (DISTRIBUTION_OF.get(module, module),))
    return any(contents.version_of(name) is not None for name in candidates)


def _provides(requirement_names: set[str], module: str) -> bool:
    candidates = _EXTRA_PROVIDERS.get(module, (DISTRIBUTION_OF.get(module, module), module))
    return any(normalize(name) in requirement_names for name in candidates)


def _requirement_name(requirement: str) -> str:
    """``pygam==0.8.1`` -> ``pygam``; a wheel file ``dist/tiny_pkg-0.1-py3-none-any.whl``
    -> ``tiny-pkg``."""
    text = requirement.strip()
    if text.endswith(".whl"):
        return normalize(Path(text).name.split("-")[0])
    match = _REQUIREMENT_NAME.match(text)
    return normalize(match.group(1)) if match else normalize(text)


class _PipTargets:
    """Literal targets of ``pip install`` calls, followed through names and parameters."""

    def __init__(self, tree: ast.Module, parents: dict[ast.AST, ast.AST]) -> None:
        self._tree = tree
        self._parents = parents
        self._lists = _list_assignments(tree)
        self._functions = {
            node.name: node
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }

    def find(self) -> tuple[tuple[str, ...], bool]:
        targets: list[str] = []
        runtime_pip = False
        for node in ast.walk(self._tree):
            if not isinstance(node, ast.Call) or _callee(node) not in _RUNS_COMMANDS:
                continue
            for argument in node.args:
                words = self._strings(argument, node, 0)
                if ("pip" in words and "install" in words) or _shell_pip(words):
                    runtime_pip = True
                    targets.extend(_after_install(words))
        return tuple(dict.fromkeys(targets)), runtime_pip

    def _strings(self, expr: ast.AST, where: ast.AST, depth: int) -> list[str]:
        if depth > _MAX_DEPTH:
            return []
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return [expr.value]
        if isinstance(expr, (ast.List, ast.Tuple)):
            return [word for item in expr.elts for word in self._strings(item, where, depth)]
        if isinstance(expr, ast.Starred):
            return self._strings(expr.value, where, depth)
        if isinstance(expr, ast.Name):
            return self._name(expr.id, where, depth)
        return []

    def _name(self, name: str, where: ast.AST, depth: int) -> list[str]:
        function = self._enclosing_function(where)
        if function is not None:
            params = [arg.arg for arg in function.args.args]
            if name in params:
                return self._passed(function.name, params.index(name), name, depth)
        found = self._lists.get(name)
        return self._strings(found, where, depth + 1) if found is not None else []

    def _passed(self, function: str, index: int, param: str, depth: int) -> list[str]:
        """What callers of ``function`` pass as its parameter ``param``."""
        words: list[str] = []
        for node in ast.walk(self._tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id != function:
                continue
            given = [kw.value for kw in node.keywords if kw.arg == param]
            if index < len(node.args):
                given.append(node.args[index])
            for expr in given:
                words.extend(self._strings(expr, node, depth + 1))
        return ["<packages>", *words] if words else []

    def _enclosing_function(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        parent = self._parents.get(node)
        while parent is not None:
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return parent
            parent = self._parents.get(parent)
        return None


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _list_assignments(tree: ast.Module) -> dict[str, ast.AST]:
    """``name = [...]`` anywhere in the module (the last one wins)."""
    found: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
    return found


def _shell_pip(words: list[str]) -> bool:
    return any(re.search(r"\bpip3? install\b", word) for word in words)


def _after_install(words: list[str]) -> list[str]:
    """The requirement words after ``install``: no options, no option values."""
    if len(words) == 1 or _shell_pip(words):
        words = [part for word in words for part in word.split()]
    if "install" not in words:
        return []
    targets: list[str] = []
    skip_next = False
    for word in words[words.index("install") + 1 :]:
        if skip_next:
            skip_next = False
        elif word.startswith("-"):
            skip_next = word in {
                "-r",
                "--requirement",
                "-i",
                "--index-url",
                "--extra-index-url",
                "-f",
                "--find-links",
                "-c",
                "--constraint",
                "-t",
                "--target",
            }
        elif word != "<packages>" and _REQUIREMENT_NAME.match(word):
            targets.append(word)
    return targets
