"""Images that are not shaped like ours: their own ENTRYPOINT, or no python3 at all."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.contract.resolve import Overrides
from sandbox.contract.spec import CallStyle
from sandbox.results.models import Status
from sandbox.runner import RunRequest, run_script

ENTRY_SCRIPT = """\
import json, sys
with open("/opt/ml/processing/output/result/argv.json", "w") as handle:
    json.dump(sys.argv[1:], handle)
"""

SPEC_TEMPLATE = """\
script: {script}
image: {image}
container_arguments: ["--mode", "fast", "--n", "2"]
outputs:
  result: {{path: /opt/ml/processing/output/result}}
"""


def _build(engine: Any, tmp_path: Path, name: str, dockerfile: str, files: dict[str, str]) -> str:
    context = tmp_path / name
    context.mkdir()
    (context / "Dockerfile").write_text(dockerfile)
    for filename, text in files.items():
        (context / filename).write_text(text)
    tag = f"sandbox-test/{name}:latest"
    engine.build(context, tag, profile=name, buildargs={}, labels={"sandbox.tool": "sandbox-test"})
    return tag


@pytest.fixture(scope="module")
def derived_images(
    engine: Any, offline_image: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    import docker

    folder = tmp_path_factory.mktemp("images")
    base = offline_image.reference
    images = {
        "entrypoint": _build(
            engine,
            folder,
            "with-entrypoint",
            f"FROM {base}\nCOPY entry.py /usr/local/bin/entry.py\n"
            'ENTRYPOINT ["python3", "/usr/local/bin/entry.py"]\n',
            {"entry.py": ENTRY_SCRIPT},
        ),
        "no-python": _build(
            engine,
            folder,
            "no-python",
            f"FROM {base}\nRUN rm -f /usr/bin/python3 /usr/bin/python3.11 /usr/bin/python\n",
            {},
        ),
    }
    yield images
    client = docker.from_env()
    for tag in images.values():
        client.images.remove(tag, force=True)
    client.close()


def test_only_container_arguments_run_the_images_own_entrypoint(
    engine: Any, derived_images: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "unused.py"
    script.write_text('OUTPUT = "/opt/ml/processing/output/result"\n')
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC_TEMPLATE.format(script=script.name, image=derived_images["entrypoint"]))
    request = RunRequest(script=str(script), spec_path=spec, workspace=tmp_path / "ws")
    result = run_script(request, engine)
    assert result.status is Status.PASS, result.stderr_tail
    argv = json.loads((Path(result.run_dir) / "outputs/result/argv.json").read_text())
    assert argv == ["--mode", "fast", "--n", "2"]
    config = json.loads((Path(result.run_dir) / "config/processingjobconfig.json").read_text())
    assert "ContainerEntrypoint" not in config["AppSpecification"]


def test_image_without_python_runs_unsupervised_with_stats_figures(
    engine: Any, derived_images: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "shell_step.py"
    script.write_text('OUTPUT = "/opt/ml/processing/output/result"\n')
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"script: {script.name}\nimage: {derived_images['no-python']}\n"
        'container_entrypoint: ["/bin/sh", "-c", '
        '"echo made > /opt/ml/processing/output/result/made.txt; sleep 1.5"]\n'
        "outputs:\n  result: {path: /opt/ml/processing/output/result}\n"
    )
    request = RunRequest(script=str(script), spec_path=spec, workspace=tmp_path / "ws")
    result = run_script(request, engine)
    assert result.status is Status.PASS, result.stderr_tail
    assert [f.path for f in result.outputs["result"]] == ["made.txt"]
    assert result.execution is not None and result.execution.resources is not None
    assert result.execution.resources.source == "stats"


def test_main_call_style_without_python_is_a_clear_usage_error(
    engine: Any, derived_images: dict[str, str], tmp_path: Path
) -> None:
    from sandbox.errors import UsageError

    script = Path(__file__).parent / "scripts" / "multiproc.py"
    request = RunRequest(
        script=str(script),
        workspace=tmp_path / "ws",
        overrides=Overrides(image=derived_images["no-python"], call_style=CallStyle.MAIN),
    )
    with pytest.raises(UsageError, match="main call style needs python3"):
        run_script(request, engine)


def test_under_sudo_every_file_of_the_run_belongs_to_the_user(
    engine: Any, offline_image: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to act as sudo")
    monkeypatch.setenv("SUDO_UID", "4321")
    monkeypatch.setenv("SUDO_GID", "4321")
    script = Path(__file__).parent / "scripts" / "probes.py"
    result = run_script(RunRequest(script=str(script), workspace=tmp_path / "ws"), engine)
    assert result.status is Status.PASS, result.stderr_tail
    workspace = tmp_path / "ws"
    owners = {(p.lstat().st_uid, p.lstat().st_gid) for p in [workspace, *workspace.rglob("*")]}
    assert owners == {(4321, 4321)}


def test_as_root_hands_back_even_when_the_supervisor_is_killed(
    engine: Any, offline_image: Any, tmp_path: Path
) -> None:
    script = Path(__file__).parent / "scripts" / "sleeper.py"
    request = RunRequest(
        script=str(script),
        workspace=tmp_path / "ws",
        as_root=True,
        run_as=(4321, 4321),
        overrides=Overrides(max_runtime_s=1),
    )
    result = run_script(request, engine)
    assert result.status is Status.TIMEOUT
    partial = Path(result.run_dir) / "outputs/result/partial.txt"
    assert (partial.stat().st_uid, partial.stat().st_gid) == (4321, 4321)
