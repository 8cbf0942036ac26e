"""pytest plugin: test SageMaker scripts from a team's own test suite.

Installed with the package (entry point ``pytest11``), it gives the ``sandbox_run``
fixture::

    def test_prep(sandbox_run):
        result = sandbox_run(
            "tabular_preprocessing",
            image="sklearn-1.2",
            arguments={"job_type": "training"},
            environment={"LABEL_FIELD": "label"},
        )
        assert result.ok

Each test gets its own workspace under its ``tmp_path``. When a test that made runs
fails, its report gets a section with each run's verdict, reason and stderr tail, so
the script's traceback is in the pytest output. Without a Docker engine the tests that
use the fixture are skipped, or fail when the ``CI`` variable is set.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sandbox.container.seam import Engine
    from sandbox.results.models import TestResult

__all__ = ["SandboxRun", "pytest_runtest_makereport", "sandbox_engine", "sandbox_run"]

_RUNS = pytest.StashKey[list["TestResult"]]()
SECTION_TITLE = "sandbox runs (verdict and stderr tail)"


class SandboxRun:
    """The ``sandbox_run`` fixture's value: call it to run one script.

    Args:
        engine: the Docker engine the runs use.
        workspace: the workspace folder of this test.
        scripts_dir: where script names are looked up.
        runs: every result is appended here (for the failure report).
    """

    def __init__(
        self, engine: Engine, workspace: Path, scripts_dir: Path, runs: list[TestResult]
    ) -> None:
        self.engine = engine
        self.workspace = workspace
        self.scripts_dir = scripts_dir
        self.runs = runs

    def __call__(
        self,
        script: str | Path,
        *,
        image: str | None = None,
        arguments: dict[str, str] | None = None,
        environment: dict[str, str] | None = None,
        spec: str | Path | None = None,
        scripts_dir: str | Path | None = None,
        **options: Any,
    ) -> TestResult:
        """Run ``script`` (a name or a path) and return its :class:`TestResult`.

        Args:
            script: a name looked up in ``scripts_dir`` (then the bundled examples), or a path.
            image: image profile or reference (default: the spec's, else ``sklearn-1.2``).
            arguments: job arguments (``--name value``).
            environment: environment variables of the container.
            spec: a spec file.
            scripts_dir: overrides the fixture's folder (``<rootdir>/scripts``).
            **options: other :class:`~sandbox.contract.resolve.Overrides` fields (``call_style``,
                ``instance_type``, ``max_runtime_s``, ``network``, ``hyperparameters``,
                ``pids_limit``, ``secret_env``) or
                :class:`~sandbox.runner.RunRequest` fields (``data_source``, ``inputs``,
                ``memory``, ``cpus``, ``source_dir``, ``as_root``).
        """
        from sandbox.runner import RunRequest, run_script

        overrides = _overrides(image, arguments, environment, options)  # takes its options
        request = RunRequest(
            script=str(script),
            scripts_dir=Path(scripts_dir) if scripts_dir is not None else self.scripts_dir,
            spec_path=Path(spec) if spec is not None else None,
            workspace=self.workspace,
            overrides=overrides,
            **options,
        )
        result = run_script(request, self.engine)
        self.runs.append(result)
        return result


def _overrides(
    image: str | None,
    arguments: dict[str, str] | None,
    environment: dict[str, str] | None,
    options: dict[str, Any],
) -> Any:
    """Take the Overrides fields out of ``options``; what is left goes to the RunRequest."""
    import dataclasses

    from sandbox.contract.resolve import Overrides
    from sandbox.contract.spec import CallStyle

    fields = {f.name for f in dataclasses.fields(Overrides)}
    picked = {name: options.pop(name) for name in list(options) if name in fields}
    if isinstance(picked.get("call_style"), str):
        picked["call_style"] = CallStyle(picked["call_style"])
    return Overrides(
        image=image,
        arguments={name: str(value) for name, value in (arguments or {}).items()},
        environment={name: str(value) for name, value in (environment or {}).items()},
        **picked,
    )


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def sandbox_engine() -> Iterator[Engine]:
    """The Docker engine for ``sandbox_run``: skips without one, fails in CI."""
    from sandbox.container.engine import DockerEngine
    from sandbox.errors import EngineUnavailableError

    try:
        engine = DockerEngine.connect()
    except EngineUnavailableError as exc:
        if _in_ci():
            pytest.fail(f"sandbox_run needs a Docker engine in CI: {exc}")
        pytest.skip(f"sandbox_run needs a Docker engine: {exc}")
    with engine:
        yield engine


@pytest.fixture
def sandbox_run(
    request: pytest.FixtureRequest, sandbox_engine: Engine, tmp_path: Path
) -> SandboxRun:
    """Run SageMaker scripts in production-shaped containers; see :class:`SandboxRun`."""
    runs: list[TestResult] = []
    request.node.stash[_RUNS] = runs
    scripts_dir = request.config.rootpath / "scripts"
    return SandboxRun(sandbox_engine, tmp_path / "sandbox-workspace", scripts_dir, runs)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add the runs' verdicts and stderr tails to the report of a failed test."""
    report = yield
    runs = item.stash.get(_RUNS, [])
    if report.failed and report.when == "call" and runs:
        report.sections.append((SECTION_TITLE, "\n\n".join(_describe(run) for run in runs)))
    return report


def _describe(result: TestResult) -> str:
    lines = [
        f"{result.status.value} {result.script_name} in {result.execution_time:.2f} s "
        f"(run {result.run_id}, folder {result.run_dir})"
    ]
    if result.error_message:
        lines.append(f"reason: {result.error_message}")
    if result.stderr_tail:
        lines.append(f"stderr (last {len(result.stderr_tail)} lines):")
        lines.extend(f"  {line}" for line in result.stderr_tail)
    else:
        lines.append("stderr: empty")
    return "\n".join(lines)
