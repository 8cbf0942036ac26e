"""A previous run's outputs as input: gen-data --from-run and a spec's data.from_run."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.contract.resolve import Overrides, resolve_script
from sandbox.data.datagen import DataSize
from sandbox.data.export import GenDataRequest, gen_data
from sandbox.data.inputs import bind_inputs
from sandbox.errors import UsageError
from tests.unit.results_factory import make_result, new_workspace, store

SCRIPT = Path(__file__).resolve().parents[1] / "integration" / "scripts" / "split_reader.py"
TRAINING = Overrides(arguments={"job_type": "training"})


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Path, str]:
    """A workspace holding one run whose output channel 'data' has a split layout."""
    workspace = new_workspace(tmp_path / "ws")
    result = make_result("prep")
    run_dir = store(workspace, result)
    train = run_dir / "outputs" / "data" / "train"
    train.mkdir(parents=True)
    (train / "train_processed_data.csv").write_text("customer_id,purchase_amount\nc1,2\n")
    return workspace, result.run_id


def test_gen_data_from_run_copies_the_matching_output_and_generates_the_rest(
    tmp_path: Path, upstream: tuple[Path, str]
) -> None:
    workspace, run_id = upstream
    out = tmp_path / "out"

    report = gen_data(
        GenDataRequest(
            script=str(SCRIPT),
            out_dir=out,
            overrides=TRAINING,
            from_run=run_id[:20],
            workspace_dir=workspace,
        )
    )

    by_channel = {ch.channel: ch for ch in report.channels}
    assert by_channel["data"].reasons == (f"from run {run_id} (outputs/data)",)
    assert (out / "data/train/train_processed_data.csv").read_text().startswith("customer_id")
    assert (out / "settings/settings.json").is_file(), "the other channel is generated"


def test_gen_data_from_a_run_feeding_no_channel_is_a_usage_error(
    tmp_path: Path, upstream: tuple[Path, str]
) -> None:
    workspace, run_id = upstream
    outputs = workspace / "runs" / run_id / "outputs"
    (outputs / "data").rename(outputs / "prepared")
    (outputs / "other").mkdir()

    with pytest.raises(UsageError, match="no output channel of that run is named like"):
        gen_data(
            GenDataRequest(
                script=str(SCRIPT),
                out_dir=tmp_path / "out",
                overrides=TRAINING,
                from_run=run_id,
                workspace_dir=workspace,
            )
        )
    assert not (tmp_path / "out").exists()


def test_a_spec_channel_from_run_binds_the_runs_output_folder(
    tmp_path: Path, upstream: tuple[Path, str]
) -> None:
    workspace, run_id = upstream
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(
        "script: split_reader.py\narguments: {job_type: training}\ninputs:\n"
        f"  data: {{path: /opt/ml/processing/input/data, data: {{from_run: {run_id}/data}}}}\n"
        "  settings: {path: /opt/ml/processing/input/settings}\n"
    )
    resolved = resolve_script(SCRIPT, spec_file, Overrides())

    plan = bind_inputs(
        resolved.spec,
        resolved.contract,
        data_source=None,
        explicit={},
        cache_root=workspace / "data",
        size=DataSize.SMALL,
        script_path=SCRIPT,
    )

    data = next(b for b in plan.bindings if b.channel == "data")
    assert data.source == f"from run {run_id} (outputs/data)"
    assert data.host_path == (workspace / "runs" / run_id / "outputs" / "data").resolve()


def test_an_unknown_run_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "ws")
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(
        "script: split_reader.py\narguments: {job_type: training}\ninputs:\n"
        "  data: {path: /opt/ml/processing/input/data, data: {from_run: nosuchrun}}\n"
    )
    resolved = resolve_script(SCRIPT, spec_file, Overrides())
    with pytest.raises(UsageError, match="run 'nosuchrun': no such run"):
        bind_inputs(
            resolved.spec,
            resolved.contract,
            data_source=None,
            explicit={},
            cache_root=workspace / "data",
            size=DataSize.SMALL,
            script_path=SCRIPT,
        )
