"""Reading real-world scripts right: paths, argument spelling, kind, channel names,
required variables, mount conflicts, step-interface contracts. Each case runs on a
look-alike script in tests/lookalikes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from results_factory import make_result
from rich.console import Console

from sandbox.cli import cli
from sandbox.constants import CODE_PATH, JobKind
from sandbox.container.layout import InputBinding, JobLayout, argument_list, input_mounts
from sandbox.contract.from_contract import spec_from_contract
from sandbox.contract.inference import infer_contract, infer_contract_from_file
from sandbox.contract.resolve import Overrides, resolve_script
from sandbox.contract.spec import CallStyle
from sandbox.data.datagen import DataSize
from sandbox.data.inputs import bind_inputs
from sandbox.errors import SpecError, UsageError
from sandbox.report.text import render_text
from sandbox.results.hollow import INFERRED_SOURCE, judge_hollow
from sandbox.results.models import OutputFile, Status, TestResult

LOOKALIKES = Path(__file__).resolve().parents[1] / "lookalikes"


def lookalike(name: str) -> Path:
    return LOOKALIKES / f"{name}.py"


# --- any path under /opt/ml/processing, files inside their channel -----------------


def test_tutorial_preprocess_reads_the_input_root_and_writes_train_and_test() -> None:
    contract = infer_contract_from_file(lookalike("tutorial_preprocess"))
    assert contract.inputs == {"input": "/opt/ml/processing/input"}
    assert contract.outputs == {
        "train": "/opt/ml/processing/train",
        "test": "/opt/ml/processing/test",
    }


def test_tutorial_evaluate_reads_model_and_test_and_writes_evaluation() -> None:
    contract = infer_contract_from_file(lookalike("tutorial_evaluate"))
    # test.csv is read here: the same folder name is an input of this script.
    assert contract.inputs == {
        "model": "/opt/ml/processing/model",
        "test": "/opt/ml/processing/test",
    }
    assert contract.outputs == {"evaluation": "/opt/ml/processing/evaluation"}


def test_argparse_defaults_joined_and_joined_constants_are_followed() -> None:
    contract = infer_contract_from_file(lookalike("argparse_join"))
    assert contract.inputs == {"input": "/opt/ml/processing/input"}
    assert contract.outputs == {"report": "/opt/ml/processing/output/report"}


def test_input_root_is_mounted_entry_by_entry_around_the_code_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "census-income.csv").write_text("a\n1\n")
    binding = InputBinding("input", "/opt/ml/processing/input", data, "test")
    mounts = input_mounts(binding, [binding])
    assert [(m.host_path, m.container_path, m.read_only) for m in mounts] == [
        (data / "census-income.csv", "/opt/ml/processing/input/census-income.csv", True)
    ]


def test_input_root_entry_named_like_the_code_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "code").mkdir(parents=True)
    binding = InputBinding("input", "/opt/ml/processing/input", data, "test")
    with pytest.raises(SpecError, match=rf"entry 'code' would hide {CODE_PATH}"):
        input_mounts(binding, [binding])


# --- argument spelling and unknown arguments ------------------------------------------


@pytest.mark.parametrize("given", ["job_type", "job-type", "--job-type"])
def test_arguments_are_passed_as_the_script_declares_them(given: str) -> None:
    resolved = resolve_script(lookalike("hyphen_args"), None, Overrides(arguments={given: "x"}))
    assert argument_list(resolved.spec.arguments) == ["--job-type", "x"]


def test_needs_argument_message_uses_the_scripts_spelling() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_script(lookalike("hyphen_args"), None, Overrides())
    assert str(caught.value) == (
        "script hyphen_args needs argument --job-type; pass --arg job-type=VALUE"
    )


def test_misspelled_argument_is_refused_with_the_closest_match() -> None:
    overrides = Overrides(arguments={"job_type": "x", "min_order": "30"})
    with pytest.raises(UsageError, match=r"no argument --min_order .*did you mean --min-orders\?"):
        resolve_script(lookalike("hyphen_args"), None, overrides)


def test_unknown_argument_passes_when_allowed_or_parsed_as_known() -> None:
    allowed = Overrides(arguments={"job_type": "x", "extra": "1"}, allow_unknown_args=True)
    assert resolve_script(lookalike("hyphen_args"), None, allowed).spec.arguments == {
        "job-type": "x",
        "extra": "1",
    }
    known = resolve_script(lookalike("tutorial_preprocess"), None, Overrides(arguments={"x": "1"}))
    assert known.spec.arguments == {"x": "1"}


# --- job kind -------------------------------------------------------------------------


def test_sm_variable_mentions_do_not_make_a_processing_script_training() -> None:
    resolved = resolve_script(lookalike("sm_fallback_processing"), None, Overrides())
    assert resolved.spec.kind is JobKind.PROCESSING
    assert "SM_" in resolved.kind_reason and "does not make it training" in resolved.kind_reason
    assert {n: c.path for n, c in resolved.spec.inputs.items()} == {
        "data": "/opt/ml/processing/input/data"
    }


def test_kind_override_wins_and_says_so() -> None:
    resolved = resolve_script(
        lookalike("sm_fallback_processing"), None, Overrides(kind=JobKind.TRAINING)
    )
    assert resolved.spec.kind is JobKind.TRAINING
    assert resolved.kind_reason == "--kind training on the command line"
    assert {n: c.path for n, c in resolved.spec.inputs.items()} == {
        "data": "/opt/ml/input/data/data"
    }


# --- channel names ----------------------------------------------------------------------


def test_main_block_keys_name_the_channels_not_the_module_constants() -> None:
    contract = infer_contract_from_file(lookalike("main_keys"))
    assert contract.inputs == {
        "model_input": "/opt/ml/processing/input/model",
        "evaluation_data": "/opt/ml/processing/input/eval_data",
    }
    assert contract.outputs == {"metrics_output": "/opt/ml/processing/output/metrics"}


# --- required variables -----------------------------------------------------------------


def test_get_then_raise_or_exit_is_a_required_variable() -> None:
    contract = infer_contract_from_file(lookalike("env_required_get"))
    assert contract.required_env == ("STRATA_COLUMN", "GROUP_FIELD")
    assert contract.optional_env == {"TRAIN_RATIO": "0.7", "SAMPLING_MODE": "balanced", "SEED": "7"}


def test_a_variable_main_refuses_when_empty_is_required_and_quoted_both_ways() -> None:
    contract = infer_contract(
        "import os\n"
        "def main(input_paths, output_paths, environ_vars, job_args):\n"
        "    label = environ_vars.get('LABEL_FIELD')\n"
        "    if not label:\n"
        "        raise ValueError('LABEL_FIELD environment variable must be set')\n"
        "    key = output_paths.get('data_output')\n"
        "    if not key:\n"
        "        raise ValueError('data_output is required')\n"
        "if __name__ == '__main__':\n"
        "    main({}, {}, {'LABEL_FIELD': os.environ.get('LABEL_FIELD')}, None)\n"
    )
    assert contract.required_env == ("LABEL_FIELD",)
    assert contract.env_reads == {
        "LABEL_FIELD": "os.environ.get('LABEL_FIELD'), passed on; "
        "environ_vars.get('LABEL_FIELD') raises when it is empty"
    }


def test_a_get_with_a_real_fallback_stays_optional_even_if_checked() -> None:
    contract = infer_contract(
        "import os\n"
        "mode = os.environ.get('MODE', 'fast')\n"
        "if not mode:\n"
        "    raise ValueError('MODE is empty')\n"
    )
    assert contract.required_env == ()
    assert contract.optional_env == {"MODE": "fast"}


def test_missing_required_variable_message_quotes_how_it_is_read() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_script(lookalike("env_required_get"), None, Overrides())
    assert str(caught.value) == (
        "script env_required_get needs environment variable STRATA_COLUMN (read as "
        "os.environ.get('STRATA_COLUMN'), then raises when it is empty); "
        "pass --env STRATA_COLUMN=VALUE"
    )


# --- mount conflicts ----------------------------------------------------------------------


def _spec_file(tmp_path: Path, inputs: dict[str, str]) -> Path:
    lines = ["script: writes_nothing.py", "inputs:"]
    lines += [f"  {name}: {{path: {path}}}" for name, path in inputs.items()]
    path = tmp_path / "spec.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_nested_input_channels_are_refused_naming_both(tmp_path: Path) -> None:
    spec = _spec_file(
        tmp_path,
        {
            "model_artifacts": "/opt/ml/processing/input/model_artifacts",
            "config": "/opt/ml/processing/input/model_artifacts/config",
        },
    )
    with pytest.raises(SpecError) as caught:
        resolve_script(lookalike("writes_nothing"), spec, Overrides())
    assert caught.value.exit_code == 2
    assert "'config'" in str(caught.value) and "'model_artifacts'" in str(caught.value)


def test_outputs_may_nest_in_the_output_root_but_inputs_may_not(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "script: writes_nothing.py\n"
        "outputs:\n"
        "  everything: {path: /opt/ml/processing/output}\n"
        "  metrics: {path: /opt/ml/processing/output/metrics}\n"
    )
    resolved = resolve_script(lookalike("writes_nothing"), spec, Overrides())
    assert set(resolved.spec.outputs) == {"everything", "metrics"}
    spec.write_text(
        "script: writes_nothing.py\n"
        "inputs:\n"
        "  config: {path: /opt/ml/processing/output/config}\n"
        "outputs:\n"
        "  everything: {path: /opt/ml/processing/output}\n"
    )
    with pytest.raises(SpecError, match=r"input channel 'config'.*output channel 'everything'"):
        resolve_script(lookalike("writes_nothing"), spec, Overrides())


def test_channel_over_the_code_folder_is_refused(tmp_path: Path) -> None:
    spec = _spec_file(tmp_path, {"everything": "/opt/ml/processing/input/code/lib"})
    with pytest.raises(SpecError, match="holds the code"):
        resolve_script(lookalike("writes_nothing"), spec, Overrides())


def test_input_root_may_hold_another_input_channel(tmp_path: Path) -> None:
    resolved = resolve_script(lookalike("root_and_nested"), None, Overrides())
    assert {n: c.path for n, c in resolved.spec.inputs.items()} == {
        "input_data": "/opt/ml/processing/input",
        "model_artifacts": "/opt/ml/processing/input/model_artifacts",
    }


# --- step-interface contracts ---------------------------------------------------------------

STEP_INTERFACE = """
step_type: Evaluate
contract:
  entry_point: main_keys.py
  source_dir: true
  inputs:
    model_input: {path: /opt/ml/processing/input/model, required: true}
    evaluation_data: {path: /opt/ml/processing/input/eval_data, required: false}
  outputs:
    metrics_output: {path: /opt/ml/processing/output/metrics}
  job_arguments:
  - {flag: --job-type, source: job_type}
  env_vars:
    required: [LABEL_FIELD]
    optional: {BATCH_SIZE: '32', DEVICE: auto}
  framework_requirements: {torch: ==2.1.0, pandas: '>=1.3.0'}
"""


def test_step_interface_contract_becomes_a_spec_without_false_drift(tmp_path: Path) -> None:
    contract = tmp_path / "evaluate.step.yaml"
    contract.write_text(STEP_INTERFACE)
    made = spec_from_contract(str(contract), scripts_dir=LOOKALIKES)
    spec = made.spec
    assert {n: (c.path, c.required) for n, c in spec.inputs.items()} == {
        "model_input": ("/opt/ml/processing/input/model", True),
        "evaluation_data": ("/opt/ml/processing/input/eval_data", False),
    }
    assert spec.required_env == ["LABEL_FIELD"]
    assert spec.environment == {"BATCH_SIZE": "32", "DEVICE": "auto"}
    assert spec.framework_requirements == {"torch": "==2.1.0", "pandas": ">=1.3.0"}
    assert not [w for w in made.warnings if "calls" in w]  # the names match __main__'s


def test_test_script_takes_a_step_interface_contract(tmp_path: Path) -> None:
    contract = tmp_path / "evaluate.step.yaml"
    contract.write_text(STEP_INTERFACE)
    with pytest.raises(UsageError, match=r"LABEL_FIELD .*the spec lists it as required"):
        resolve_script(lookalike("main_keys"), contract, Overrides())
    resolved = resolve_script(
        lookalike("main_keys"), contract, Overrides(environment={"LABEL_FIELD": "label"})
    )
    assert resolved.spec.framework_requirements["torch"] == "==2.1.0"


def test_text_result_shows_the_scripts_name_and_the_production_name() -> None:
    result = make_result(
        inputs={"model_input": "generated (small)", "data": "generated (small)"},
        spec={
            "inputs": {
                "model_input": {"path": "/opt/ml/processing/input/model"},
                "data": {"path": "/opt/ml/processing/input/data"},
            }
        },
    )
    console = Console(record=True, width=200)
    render_text(result, console)
    text = console.export_text()
    assert "input model_input (production name model): generated (small)" in text
    assert "input data: generated (small)" in text


def test_input_option_takes_the_production_channel_name(tmp_path: Path) -> None:
    resolved = resolve_script(lookalike("main_keys"), None, Overrides())
    folder = tmp_path / "model"
    folder.mkdir()
    plan = bind_inputs(
        resolved.spec,
        resolved.contract,
        data_source=None,
        explicit={"model": folder, "eval_data": folder},
        cache_root=tmp_path / "cache",
        size=DataSize.SMALL,
    )
    assert {b.channel: b.host_path for b in plan.bindings} == {
        "model_input": folder,
        "evaluation_data": folder,
    }


# --- hollow PASS ------------------------------------------------------------------------------


def _hollow(tmp_path: Path, files: dict[str, str], *, spec_source: str) -> TestResult:
    resolved = resolve_script(lookalike("writes_nothing"), None, Overrides())
    resolved = dataclasses.replace(resolved, spec_source=spec_source)
    folder = tmp_path / "result"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    layout = JobLayout([], [], {}, [], {"result": folder}, {}, {})
    listed = [OutputFile(channel="result", path=n, size_bytes=len(t)) for n, t in files.items()]
    return judge_hollow(make_result(outputs={"result": listed}), resolved, layout)


def test_a_declared_required_output_left_empty_is_a_fail(tmp_path: Path) -> None:
    result = _hollow(tmp_path, {}, spec_source="spec.yaml")
    assert result.status is Status.FAIL
    assert result.error_message == (
        "output channel 'result' (/opt/ml/processing/output/result) is empty: "
        "production uploads nothing"
    )


def test_an_inferred_output_left_empty_is_a_finding(tmp_path: Path) -> None:
    result = _hollow(tmp_path, {}, spec_source=INFERRED_SOURCE)
    assert result.status is Status.PASS
    assert result.findings[-1].startswith("output channel 'result'")


def test_metadata_about_zero_rows_is_a_finding(tmp_path: Path) -> None:
    result = _hollow(
        tmp_path, {"summary.json": '{"stats": {"num_rows": 0}}'}, spec_source="spec.yaml"
    )
    assert result.status is Status.PASS
    assert result.findings[-1] == (
        "the only outputs are metadata about zero rows (result/summary.json: num_rows=0)"
    )
    counted = _hollow(tmp_path / "x", {"summary.json": '{"num_rows": 3}'}, spec_source="s")
    assert counted.findings == []


def test_an_input_the_job_never_opened_is_a_finding_not_a_fail() -> None:
    resolved = resolve_script(lookalike("ignores_input"), None, Overrides())
    inputs = {"train": "/opt/ml/processing/input/train", "extra": "/opt/ml/processing/input/x"}
    layout = JobLayout([], [], {}, [], {}, {}, inputs)
    unread = {"/opt/ml/processing/input/train"}
    result = judge_hollow(make_result(outputs={}), resolved, layout, unread_inputs=unread)
    assert result.status is Status.PASS
    assert result.findings == [
        "input channel 'train' (/opt/ml/processing/input/train) was mounted but the script "
        "read nothing from it"
    ]
    console = Console(record=True, width=200)
    render_text(result, console)
    assert "was mounted but the script read nothing from it" in console.export_text()
    assert judge_hollow(make_result(outputs={}), resolved, layout).findings == []
    failed = make_result("ignores_input", Status.FAIL, outputs={})
    assert judge_hollow(failed, resolved, layout, unread_inputs=unread).findings == []


def test_unknown_argument_is_no_obstacle_when_main_is_called(tmp_path: Path) -> None:
    script = tmp_path / "with_main.py"
    script.write_text(
        "import argparse\n"
        "def main(input_paths, output_paths, environ_vars, job_args):\n"
        "    pass\n"
        "if __name__ == '__main__':\n"
        "    parser = argparse.ArgumentParser()\n"
        "    parser.add_argument('--job-type', required=True)\n"
        "    main({}, {}, {}, parser.parse_args())\n"
    )
    given = {"job_type": "x", "extra": "1"}
    with pytest.raises(UsageError, match="declares no argument --extra"):
        resolve_script(script, None, Overrides(arguments=given))
    resolved = resolve_script(script, None, Overrides(arguments=given, call_style=CallStyle.MAIN))
    assert resolved.spec.arguments == {"job-type": "x", "extra": "1"}


# --- the command line ------------------------------------------------------------------------


def _cli(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_cli_misspelled_arg_exits_2_with_the_closest_match() -> None:
    result = _cli(
        "test-script", str(lookalike("hyphen_args")), "--arg", "job_type=x", "--arg", "min_order=3"
    )
    assert result.exit_code == 2, result.output
    assert "did you mean --min-orders?" in " ".join(result.stderr.split())


def test_cli_missing_argument_names_the_scripts_spelling() -> None:
    result = _cli("test-script", str(lookalike("hyphen_args")))
    assert result.exit_code == 2, result.output
    assert "pass --arg job-type=VALUE" in " ".join(result.stderr.split())


def test_cli_contract_and_spec_together_exit_2(tmp_path: Path) -> None:
    contract = tmp_path / "evaluate.step.yaml"
    contract.write_text(STEP_INTERFACE)
    result = _cli(
        "test-script",
        str(lookalike("main_keys")),
        "--contract",
        str(contract),
        "--spec",
        str(contract),
    )
    assert result.exit_code == 2, result.output
    assert "--spec and --contract" in result.stderr


def test_cli_contract_asks_for_what_the_contract_requires(tmp_path: Path) -> None:
    contract = tmp_path / "evaluate.step.yaml"
    contract.write_text(STEP_INTERFACE)
    result = _cli("test-script", str(lookalike("main_keys")), "--contract", str(contract))
    assert result.exit_code == 2, result.output
    assert "pass --env LABEL_FIELD=VALUE" in " ".join(result.stderr.split())


def test_cli_contract_names_one_script(tmp_path: Path) -> None:
    contract = tmp_path / "evaluate.step.yaml"
    contract.write_text(STEP_INTERFACE)
    scripts = [str(lookalike("main_keys")), str(lookalike("hyphen_args"))]
    result = _cli("test-script", *scripts, "--contract", str(contract))
    assert result.exit_code == 2, result.output
    assert "--contract names one script" in result.stderr


def test_cli_kind_choice_is_checked() -> None:
    result = _cli("test-script", str(lookalike("hyphen_args")), "--kind", "batch")
    assert result.exit_code == 2
    assert "batch" in result.output
