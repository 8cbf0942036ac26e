"""Unit tests for sandbox.contract.inference: contract inference from a script's AST."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sandbox.constants import JobKind
from sandbox.contract.inference import (
    NOT_LITERAL,
    InferredArgument,
    InferredContract,
    infer_contract,
    infer_contract_from_file,
)
from sandbox.errors import SpecError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scripts"


def infer(source: str) -> InferredContract:
    return infer_contract(textwrap.dedent(source))


# --- parsing and errors -------------------------------------------------------------


def test_syntax_error_is_a_spec_error_naming_the_script_and_line() -> None:
    with pytest.raises(SpecError) as caught:
        infer_contract("x = 1\ndef broken(:\n", filename="bad.py")
    assert caught.value.source == "bad.py"
    assert caught.value.problem.startswith("cannot parse: ")
    assert caught.value.problem.endswith("(line 2)")
    assert caught.value.exit_code == 2


def test_syntax_error_from_file_names_the_path(tmp_path: Path) -> None:
    script = tmp_path / "bad.py"
    script.write_text("if True\n    pass\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        infer_contract_from_file(script)
    assert caught.value.source == str(script)
    assert "(line 1)" in caught.value.problem


def test_null_bytes_are_a_spec_error() -> None:
    with pytest.raises(SpecError, match="cannot parse"):
        infer_contract("x = 1\0\n", filename="nul.py")


def test_expressions_too_deep_to_analyse_are_a_spec_error() -> None:
    source = "x = " + '"a" + ' * 700 + '"b"\n'
    with pytest.raises(SpecError, match="nested too deeply"):
        infer_contract(source, filename="deep.py")


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        infer_contract_from_file(tmp_path / "absent.py")


def test_file_with_a_coding_cookie_is_decoded(tmp_path: Path) -> None:
    script = tmp_path / "latin.py"
    source = '# -*- coding: latin-1 -*-\nNAME = "café"\nP = "/opt/ml/processing/input/data"\n'
    script.write_bytes(source.encode("latin-1"))
    assert infer_contract_from_file(script).inputs == {"data": "/opt/ml/processing/input/data"}


def test_the_script_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    infer_contract(f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n")
    assert not marker.exists()


def test_empty_script_gives_an_empty_processing_contract() -> None:
    contract = infer("")
    assert contract.kind is JobKind.PROCESSING
    assert "no /opt/ml/ training paths" in contract.kind_reason
    assert (contract.inputs, contract.outputs, contract.arguments) == ({}, {}, {})
    assert (contract.has_main, contract.main_params) == (False, ())


# --- processing channels ------------------------------------------------------------


def test_processing_input_and_output_literals_become_channels() -> None:
    contract = infer(
        """
        df = read("/opt/ml/processing/input/data")
        write("/opt/ml/processing/output/metrics")
        """
    )
    assert contract.kind is JobKind.PROCESSING
    assert contract.kind_reason == "uses /opt/ml/processing/ paths"
    assert contract.inputs == {"data": "/opt/ml/processing/input/data"}
    assert contract.outputs == {"metrics": "/opt/ml/processing/output/metrics"}


def test_deeper_paths_map_to_their_first_level_folder() -> None:
    contract = infer(
        """
        a = "/opt/ml/processing/input/data/train/part-00000.csv"
        b = "/opt/ml/processing/input/data/val"
        c = "/opt/ml/processing/output/plots/roc/curve.png"
        """
    )
    assert contract.inputs == {"data": "/opt/ml/processing/input/data"}
    assert contract.outputs == {"plots": "/opt/ml/processing/output/plots"}


def test_output_root_is_a_channel_named_output() -> None:
    contract = infer('OUT = "/opt/ml/processing/output"\nOTHER = "/opt/ml/processing/output/"\n')
    assert contract.outputs == {"output": "/opt/ml/processing/output"}


def test_a_file_written_straight_into_the_output_root_belongs_to_the_root() -> None:
    contract = infer('write("/opt/ml/processing/output/metrics.json")\n')
    assert contract.outputs == {"output": "/opt/ml/processing/output"}


def test_code_input_and_bare_roots_are_not_channels() -> None:
    contract = infer(
        """
        a = "/opt/ml/processing/input/code/helper.py"
        b = "/opt/ml/processing/input/code"
        c = "/opt/ml/processing/input"
        d = "/opt/ml/processing"
        e = "/opt/ml/output/message"
        """
    )
    assert contract.inputs == {}
    assert contract.outputs == {}
    assert contract.kind is JobKind.PROCESSING


def test_paths_in_docstrings_and_bare_strings_are_ignored() -> None:
    contract = infer(
        '''
        """Reads /opt/ml/processing/input/data."""
        "/opt/ml/processing/input/ignored"

        def f():
            """/opt/ml/processing/output/not_this"""
        '''
    )
    assert contract.inputs == {}
    assert contract.outputs == {}


def test_strings_that_only_mention_a_path_are_ignored() -> None:
    contract = infer('HELP = "reads /opt/ml/processing/input/data"\nX = "/opt/ml/ processing"\n')
    assert contract.inputs == {}


def test_path_normalisation_removes_dot_dot_and_double_slashes() -> None:
    contract = infer('a = "/opt/ml/processing/input//data/../config/x.json"\n')
    assert contract.inputs == {"config": "/opt/ml/processing/input/config"}


# --- composed paths -----------------------------------------------------------------


def test_fstring_with_a_literal_full_path_prefix() -> None:
    contract = infer(
        """
        def f(name, split):
            read(f"/opt/ml/processing/input/data/{name}.csv")
            write(f"/opt/ml/processing/output/{split}/out.csv")
            write(f"/opt/ml/processing/output/report_{split}.json")
        """
    )
    assert contract.inputs == {"data": "/opt/ml/processing/input/data"}
    assert contract.outputs == {"output": "/opt/ml/processing/output"}


def test_fstring_built_on_a_module_constant() -> None:
    contract = infer(
        """
        BASE = "/opt/ml/processing"
        def f(x):
            return f"{BASE}/input/features/{x}", f"{BASE}/output/scores/{x}"
        """
    )
    assert contract.inputs == {"features": "/opt/ml/processing/input/features"}
    assert contract.outputs == {"scores": "/opt/ml/processing/output/scores"}


def test_os_path_join_of_literal_pieces_is_folded() -> None:
    contract = infer(
        """
        import os
        IN = os.path.join("/opt/ml/processing", "input", "tables")
        OUT = os.path.join("/opt/ml", "processing/output", "model_artifacts")
        """
    )
    assert contract.inputs == {"tables": "/opt/ml/processing/input/tables"}
    assert contract.outputs == {"model_artifacts": "/opt/ml/processing/output/model_artifacts"}


def test_join_onto_a_channel_path_keeps_the_channel_itself() -> None:
    contract = infer(
        """
        import os
        from pathlib import Path
        OUTPUT_DIR = "/opt/ml/processing/output"
        def f(split):
            os.path.join(OUTPUT_DIR, "train", "train.csv")
            Path(OUTPUT_DIR) / "val" / "val.csv"
            OUTPUT_DIR + "/test/test.csv"
            os.path.join("/opt/ml/processing/input/data", split)
        """
    )
    assert contract.outputs == {"output": "/opt/ml/processing/output"}
    assert contract.inputs == {"data": "/opt/ml/processing/input/data"}


def test_join_with_an_unknown_piece_keeps_the_known_prefix() -> None:
    contract = infer(
        """
        import os
        def f(name):
            return os.path.join("/opt/ml/processing", "output", "reports", name)
        """
    )
    assert contract.outputs == {"reports": "/opt/ml/processing/output/reports"}


def test_aliased_imports_of_path_helpers_are_followed() -> None:
    contract = infer(
        """
        import os.path as osp
        from os.path import join
        from pathlib import PurePosixPath as P
        A = osp.join("/opt/ml/processing/input", "one")
        B = join("/opt/ml/processing/input", "two")
        C = P("/opt/ml/processing/input") / "three"
        """
    )
    assert list(contract.inputs) == ["one", "two", "three"]


def test_a_name_bound_to_two_different_paths_is_not_resolved() -> None:
    contract = infer(
        """
        def a():
            base = "/opt/ml/processing/input"
        def b():
            base = "/opt/ml/processing"
        def c(x):
            return base + "/" + x
        """
    )
    assert contract.inputs == {}


# --- logical names ------------------------------------------------------------------


MAIN_STYLE = """
import argparse
import os

INPUT_DATA_PATH = "/opt/ml/processing/input/eval_data"


def main(input_paths, output_paths, environ_vars, job_args):
    if "data_input" not in input_paths:
        raise ValueError("need data_input")


if __name__ == "__main__":
    input_paths = {
        "data_input": "/opt/ml/processing/input/data",
        "config_input": "/opt/ml/processing/input/config",
        "eval_input": INPUT_DATA_PATH,
    }
    output_paths = {"data_output": "/opt/ml/processing/output"}
    main(input_paths, output_paths, {}, None)
"""


def test_main_block_dict_keys_name_the_channels() -> None:
    contract = infer(MAIN_STYLE)
    assert contract.inputs == {
        "eval_input": "/opt/ml/processing/input/eval_data",
        "data_input": "/opt/ml/processing/input/data",
        "config_input": "/opt/ml/processing/input/config",
    }
    assert contract.outputs == {"data_output": "/opt/ml/processing/output"}


def test_get_default_key_names_the_channel() -> None:
    contract = infer(
        """
        def main(input_paths, output_paths):
            data = input_paths.get("data_input", "/opt/ml/processing/input/data")
            out = output_paths.get("model_output", "/opt/ml/processing/output/model")
        """
    )
    assert contract.inputs == {"data_input": "/opt/ml/processing/input/data"}
    assert contract.outputs == {"model_output": "/opt/ml/processing/output/model"}


def test_main_block_key_wins_over_get_key_and_other_dicts() -> None:
    contract = infer(
        """
        DEFAULTS = {"defaults_name": "/opt/ml/processing/input/data"}
        def main(input_paths):
            input_paths.get("get_name", "/opt/ml/processing/input/data")
        if __name__ == "__main__":
            main({"main_name": "/opt/ml/processing/input/data"})
        """
    )
    assert contract.inputs == {"main_name": "/opt/ml/processing/input/data"}


def test_get_key_wins_over_a_dict_outside_main() -> None:
    contract = infer(
        """
        DEFAULTS = {"defaults_name": "/opt/ml/processing/input/data"}
        def main(input_paths):
            input_paths.get("get_name", "/opt/ml/processing/input/data")
        """
    )
    assert contract.inputs == {"get_name": "/opt/ml/processing/input/data"}


def test_a_key_naming_a_deeper_path_does_not_name_the_channel() -> None:
    contract = infer(
        """
        if __name__ == "__main__":
            paths = {
                "train_input": "/opt/ml/processing/input/data/train",
                "val_input": "/opt/ml/processing/input/data/val",
            }
        """
    )
    assert contract.inputs == {"data": "/opt/ml/processing/input/data"}


def test_one_path_is_never_listed_twice() -> None:
    contract = infer(
        """
        A = "/opt/ml/processing/input/data"
        B = "/opt/ml/processing/input/data/"
        if __name__ == "__main__":
            x = {"data_input": A}
            y = {"raw": "/opt/ml/processing/input/data"}
        """
    )
    assert contract.inputs == {"data_input": "/opt/ml/processing/input/data"}


def test_clashing_names_get_a_suffix() -> None:
    contract = infer(
        """
        if __name__ == "__main__":
            paths = {"data": "/opt/ml/processing/input/raw"}
        other = "/opt/ml/processing/input/data"
        """
    )
    assert contract.inputs == {
        "data": "/opt/ml/processing/input/raw",
        "data_2": "/opt/ml/processing/input/data",
    }


def test_dict_value_from_an_env_default_is_named_by_its_key() -> None:
    contract = infer(
        """
        import os
        if __name__ == "__main__":
            outputs = {"model_output": os.environ.get("OUT_DIR", "/opt/ml/processing/output/m")}
        """
    )
    assert contract.outputs == {"model_output": "/opt/ml/processing/output/m"}
    assert contract.optional_env == {"OUT_DIR": "/opt/ml/processing/output/m"}


def test_a_reversed_main_guard_is_recognised() -> None:
    contract = infer(
        """
        if "__main__" == __name__:
            p = {"data_input": "/opt/ml/processing/input/data"}
        q = {"other": "/opt/ml/processing/input/data"}
        """
    )
    assert contract.inputs == {"data_input": "/opt/ml/processing/input/data"}


# --- training kind and channels -----------------------------------------------------


def test_training_data_channels_make_a_training_script() -> None:
    contract = infer(
        """
        train = "/opt/ml/input/data/train"
        val = "/opt/ml/input/data/val/part-0.csv"
        """
    )
    assert contract.kind is JobKind.TRAINING
    assert contract.kind_reason == "uses /opt/ml/input/data/train"
    assert contract.inputs == {
        "train": "/opt/ml/input/data/train",
        "val": "/opt/ml/input/data/val",
    }


def test_training_outputs_have_fixed_names() -> None:
    contract = infer(
        """
        a = "/opt/ml/model/model.bst"
        b = "/opt/ml/output/data/metrics.json"
        c = "/opt/ml/checkpoints"
        d = "/opt/ml/output/failure"
        """
    )
    assert contract.kind is JobKind.TRAINING
    assert contract.kind_reason == "uses /opt/ml/model/model.bst"
    assert contract.outputs == {
        "model": "/opt/ml/model",
        "output_data": "/opt/ml/output/data",
        "checkpoints": "/opt/ml/checkpoints",
    }


def test_main_block_key_names_a_training_output() -> None:
    contract = infer(
        """
        if __name__ == "__main__":
            outputs = {"model_output": "/opt/ml/model"}
        """
    )
    assert contract.outputs == {"model_output": "/opt/ml/model"}


def test_sm_channel_variable_implies_the_channel() -> None:
    contract = infer(
        """
        import os
        train_dir = os.environ["SM_CHANNEL_TRAIN"]
        test_dir = os.environ.get("SM_CHANNEL_TEST", "/tmp/test")
        """
    )
    assert contract.kind is JobKind.TRAINING
    assert contract.kind_reason == "uses SM_CHANNEL_TRAIN"
    assert contract.inputs == {
        "train": "/opt/ml/input/data/train",
        "test": "/opt/ml/input/data/test",
    }
    assert contract.required_env == ()
    assert contract.optional_env == {}


def test_sm_model_dir_implies_the_model_output_and_is_not_an_env_requirement() -> None:
    contract = infer(
        """
        import os
        model_dir = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
        hosts = os.environ["SM_HOSTS"]
        """
    )
    assert contract.kind is JobKind.TRAINING
    assert contract.kind_reason == "uses SM_MODEL_DIR"
    assert contract.outputs == {"model": "/opt/ml/model"}
    assert contract.required_env == ()
    assert contract.optional_env == {}


def test_an_sm_variable_named_in_a_literal_also_counts() -> None:
    contract = infer('VARIABLES = ["SM_OUTPUT_DATA_DIR"]\n')
    assert contract.kind is JobKind.TRAINING
    assert contract.outputs == {"output_data": "/opt/ml/output/data"}


def test_sm_variables_the_processing_platform_might_share_do_not_decide_the_kind() -> None:
    contract = infer('import os\nhost = os.environ.get("SM_CURRENT_HOST")\n')
    assert contract.kind is JobKind.PROCESSING
    assert contract.optional_env == {}


def test_kind_reason_is_the_first_training_evidence_in_the_source() -> None:
    contract = infer(
        """
        import os
        A = "/opt/ml/processing/input/data"
        B = os.environ["SM_MODEL_DIR"]
        C = "/opt/ml/input/data/train"
        """
    )
    assert contract.kind is JobKind.TRAINING
    assert contract.kind_reason == "uses SM_MODEL_DIR (also uses /opt/ml/processing/ paths)"
    # A training job mounts only training channels; the others stay known for --kind.
    assert contract.inputs == {"train": "/opt/ml/input/data/train"}
    assert contract.other_inputs == {"data": "/opt/ml/processing/input/data"}


def test_hyperparameters_file_literal_or_join() -> None:
    literal = infer('HP = "/opt/ml/input/config/hyperparameters.json"\n')
    joined = infer(
        """
        import os
        CONFIG = "/opt/ml/input/config"
        def load():
            return open(os.path.join(CONFIG, "hyperparameters.json"))
        """
    )
    channel = infer('HP = "/opt/ml/input/data/config/hyperparameters.json"\n')
    assert literal.training_hyperparameters_file is True
    assert literal.kind is JobKind.TRAINING
    assert joined.training_hyperparameters_file is True
    assert channel.training_hyperparameters_file is False
    assert channel.inputs == {"config": "/opt/ml/input/data/config"}
    assert infer(MAIN_STYLE).training_hyperparameters_file is False


# --- environment variables ----------------------------------------------------------


def test_env_reads_required_and_optional_with_defaults() -> None:
    contract = infer(
        """
        import os
        label = os.environ["LABEL_FIELD"]
        ratio = os.environ.get("TRAIN_RATIO", 0.7)
        mode = os.environ.get("MODE", "fast")
        region = os.environ.get("REGION")
        debug = os.getenv("DEBUG", "0")
        none = os.getenv("NOTHING", None)
        keyword = os.getenv("KW", default="k")
        """
    )
    assert contract.required_env == ("LABEL_FIELD",)
    assert contract.optional_env == {
        "TRAIN_RATIO": "0.7",
        "MODE": "fast",
        "REGION": None,
        "DEBUG": "0",
        "NOTHING": None,
        "KW": "k",
    }


def test_env_defaults_that_are_not_literals() -> None:
    contract = infer(
        """
        import os
        DEFAULT_MODE = "batch"
        def f(x):
            a = os.environ.get("A", x)
            b = os.environ.get("B", DEFAULT_MODE)
            c = os.environ.get("C", str(3))
            d = os.environ.get("D", -1)
        """
    )
    assert contract.optional_env == {"A": None, "B": "batch", "C": None, "D": "-1"}


def test_from_os_import_environ_and_getenv_and_aliases() -> None:
    contract = infer(
        """
        import os as operating_system
        from os import environ, getenv
        from os import environ as ENV
        env = operating_system.environ
        a = environ["A"]
        b = environ.get("B", "b")
        c = getenv("C")
        d = ENV["D"]
        e = env.get("E", "e")
        f = operating_system.getenv("F")
        """
    )
    assert contract.required_env == ("A", "D")
    assert contract.optional_env == {"B": "b", "C": None, "E": "e", "F": None}


def test_membership_test_makes_a_variable_optional() -> None:
    contract = infer(
        """
        import os
        if "ID_COL" in os.environ:
            id_col = os.environ["ID_COL"]
        if "FLAG" not in os.environ:
            pass
        needed = os.environ["NEEDED"]
        """
    )
    assert contract.required_env == ("NEEDED",)
    assert contract.optional_env == {"ID_COL": None, "FLAG": None}


def test_a_variable_read_both_ways_is_required_once() -> None:
    contract = infer(
        """
        import os
        a = os.environ.get("LABEL_FIELD", "label")
        b = os.environ["LABEL_FIELD"]
        """
    )
    assert contract.required_env == ("LABEL_FIELD",)
    assert contract.optional_env == {}


def test_writing_or_deleting_the_environment_is_not_a_read() -> None:
    contract = infer(
        """
        import os
        os.environ["PYTHONHASHSEED"] = "0"
        del os.environ["OLD"]
        """
    )
    assert contract.required_env == ()
    assert contract.optional_env == {}


def test_env_variable_names_from_constants_are_resolved() -> None:
    contract = infer('import os\nKEY = "LABEL_FIELD"\nlabel = os.environ[KEY]\n')
    assert contract.required_env == ("LABEL_FIELD",)


def test_the_first_literal_default_seen_is_kept() -> None:
    contract = infer(
        """
        import os
        a = os.environ.get("MODE")
        b = os.environ.get("MODE", "fast")
        c = os.environ.get("MODE", "slow")
        """
    )
    assert contract.optional_env == {"MODE": "fast"}


def test_column_env_vars() -> None:
    contract = infer(
        """
        import os
        a = os.environ["LABEL_FIELD"]
        b = os.environ.get("ID_FIELD")
        c = os.environ.get("SCORE_COL", "score")
        d = os.environ.get("WEIGHT_COLUMN")
        e = os.environ.get("CAT_FIELDS", "")
        f = os.environ.get("TRAIN_RATIO")
        g = os.environ.get("FIELD")
        h = os.environ.get("SM_CHANNEL_COL")
        """
    )
    assert contract.column_env_vars == (
        "LABEL_FIELD",
        "ID_FIELD",
        "SCORE_COL",
        "WEIGHT_COLUMN",
        "CAT_FIELDS",
    )


# --- argparse -----------------------------------------------------------------------


def test_add_argument_required_choices_and_default() -> None:
    contract = infer(
        """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument(
            "--job_type", type=str, required=True,
            choices=["training", "validation", "testing", "calibration"],
        )
        parser.add_argument("--n-estimators", type=int, default=100)
        parser.add_argument("-m", "--mode", dest="run_mode", default="fast", choices=("fast", 2))
        parser.add_argument("-v", action="store_true")
        parser.add_argument("--quiet", action="store_false")
        parser.add_argument("--ratio", default=None)
        parser.add_argument("--eta", default=-0.5)
        args = parser.parse_args()
        """
    )
    assert contract.arguments == {
        "job_type": InferredArgument(
            "job_type", True, None, ("training", "validation", "testing", "calibration")
        ),
        "n_estimators": InferredArgument("n_estimators", False, "100"),
        "run_mode": InferredArgument("run_mode", False, "fast", ("fast", "2")),
        "v": InferredArgument("v", False, "False"),
        "quiet": InferredArgument("quiet", False, "True"),
        "ratio": InferredArgument("ratio", False, None),
        "eta": InferredArgument("eta", False, "-0.5"),
    }


def test_positional_arguments_and_argument_groups() -> None:
    contract = infer(
        """
        import argparse
        CHOICES = ["a", "b"]
        parser = argparse.ArgumentParser()
        parser.add_argument("input_file")
        parser.add_argument("extra", nargs="?", default="x")
        group = parser.add_argument_group("g")
        group.add_argument("--level", choices=CHOICES, required=False)
        """
    )
    assert contract.arguments == {
        "input_file": InferredArgument("input_file", True, None),
        "extra": InferredArgument("extra", False, "x"),
        "level": InferredArgument("level", False, None),
    }


def test_add_argument_without_literal_names_is_skipped() -> None:
    contract = infer("def f(parser, name):\n    parser.add_argument(name)\n")
    assert contract.arguments == {}


# --- main, imports ------------------------------------------------------------------


def test_main_parameters_in_order() -> None:
    contract = infer(
        """
        def helper(): pass
        def main(input_paths, output_paths, environ_vars, job_args, *rest, logger=None, **kw):
            pass
        """
    )
    assert contract.has_main is True
    assert contract.main_params == (
        "input_paths",
        "output_paths",
        "environ_vars",
        "job_args",
        "rest",
        "logger",
        "kw",
    )


def test_only_a_module_level_main_counts() -> None:
    contract = infer(
        """
        class Job:
            def main(self):
                pass
        def outer():
            def main():
                pass
        """
    )
    assert contract.has_main is False
    assert contract.main_params == ()


def test_async_main_and_no_parameters() -> None:
    assert infer("async def main():\n    pass\n").has_main is True
    assert infer("def main():\n    pass\n").main_params == ()


def test_relative_imports_in_order_without_duplicates() -> None:
    contract = infer(
        """
        import os
        from pathlib import Path
        from ..hyperparams import ModelHyperparameters
        from . import utils
        from .processing.io import read_table
        try:
            from ..hyperparams import Other
        except ImportError:
            pass
        """
    )
    assert contract.relative_imports == ("..hyperparams", ".", ".processing.io")


def test_contract_is_frozen() -> None:
    contract = infer("")
    with pytest.raises(AttributeError):
        contract.kind = JobKind.TRAINING  # type: ignore[misc]


def test_job_kind_is_a_string_enum() -> None:
    assert JobKind("training") is JobKind.TRAINING
    assert JobKind.PROCESSING == "processing"


# --- the example scripts ------------------------------------------------------------


def test_example_tabular_preprocessing() -> None:
    contract = infer_contract_from_file(EXAMPLES / "tabular_preprocessing.py")
    assert contract.kind is JobKind.PROCESSING
    assert contract.kind_reason == "uses /opt/ml/processing/ paths"
    assert contract.inputs == {"data_input": "/opt/ml/processing/input/data"}
    assert contract.outputs == {"data_output": "/opt/ml/processing/output"}
    # main() raises when LABEL_FIELD is empty: it is required, though read with .get.
    assert contract.required_env == ("LABEL_FIELD",)
    assert contract.optional_env == {"TRAIN_RATIO": "0.7", "TEST_VAL_RATIO": "0.5"}
    assert contract.arguments == {
        "job_type": InferredArgument(
            "job_type", True, None, ("training", "validation", "testing", "calibration")
        )
    }
    assert contract.has_main is True
    assert contract.main_params == ("input_paths", "output_paths", "environ_vars", "job_args")
    assert contract.relative_imports == ()
    assert contract.column_env_vars == ("LABEL_FIELD",)
    assert contract.training_hyperparameters_file is False


def test_example_xgboost_training() -> None:
    contract = infer_contract_from_file(EXAMPLES / "xgboost_training.py")
    assert contract.kind is JobKind.TRAINING
    assert contract.kind_reason == "uses /opt/ml/input/config/hyperparameters.json"
    assert contract.inputs == {
        "train": "/opt/ml/input/data/train",
        "val": "/opt/ml/input/data/val",
        "config": "/opt/ml/input/data/config",
    }
    assert contract.outputs == {"model": "/opt/ml/model", "output_data": "/opt/ml/output/data"}
    assert contract.required_env == ()
    assert contract.optional_env == {"LABEL_FIELD": None}
    assert contract.arguments == {}
    assert contract.main_params == ("input_paths", "output_paths", "environ_vars", "job_args")
    assert contract.column_env_vars == ("LABEL_FIELD",)
    assert contract.training_hyperparameters_file is True


def test_example_model_calibration() -> None:
    contract = infer_contract_from_file(EXAMPLES / "model_calibration.py")
    assert contract.kind is JobKind.PROCESSING
    assert contract.inputs == {"eval_data": "/opt/ml/processing/input/eval_data"}
    assert contract.outputs == {
        "calibration_output": "/opt/ml/processing/output/calibration",
        "metrics_output": "/opt/ml/processing/output/metrics",
    }
    assert contract.required_env == ()
    assert contract.optional_env == {"SCORE_FIELD": "prob_class_1", "LABEL_FIELD": "label"}
    assert contract.arguments == {
        "job_type": InferredArgument(
            "job_type", False, "calibration", ("training", "validation", "testing", "calibration")
        )
    }
    assert contract.main_params == ("input_paths", "output_paths", "environ_vars", "job_args")
    assert contract.column_env_vars == ("SCORE_FIELD", "LABEL_FIELD")
    assert contract.training_hyperparameters_file is False


@pytest.mark.parametrize("name", ["tabular_preprocessing", "xgboost_training", "model_calibration"])
def test_examples_follow_the_production_pattern(name: str) -> None:
    source = (EXAMPLES / f"{name}.py").read_text(encoding="utf-8")
    assert 'if __name__ == "__main__":' in source
    assert "sys.exit(1)" in source
    contract = infer_contract(source, f"{name}.py")
    assert contract.has_main
    assert contract.inputs and contract.outputs


# --- argparse: what rebuilds the value ----------------------------------------------


def _arguments(source: str) -> dict[str, InferredArgument]:
    return infer(source).arguments


def test_action_type_and_nargs_are_recorded() -> None:
    arguments = _arguments(
        """
        import argparse
        from distutils.util import strtobool
        def str2bool(text): ...
        parser = argparse.ArgumentParser()
        parser.add_argument("--n", type=int)
        parser.add_argument("--eta", type=float, nargs="+")
        parser.add_argument("--flag", action="store_true")
        parser.add_argument("--gpu", type=str2bool)
        parser.add_argument("--cpu", type=strtobool)
        parser.add_argument("--scale", type=lambda text: float(text))
        parser.add_argument("--shuffle", action=argparse.BooleanOptionalAction)
        parser.add_argument("--files", nargs=argparse.ONE_OR_MORE)
        parser.add_argument("--pair", nargs=2)
        """
    )
    details = {name: (arg.action, arg.type_name, arg.nargs) for name, arg in arguments.items()}
    assert details == {
        "n": ("store", "int", None),
        "eta": ("store", "float", "+"),
        "flag": ("store_true", None, None),
        "gpu": ("store", "str2bool", None),
        "cpu": ("store", "distutils.util.strtobool", None),
        "scale": ("store", None, None),
        "shuffle": ("argparse.BooleanOptionalAction", None, None),
        "files": ("store", None, "+"),
        "pair": ("store", None, "2"),
    }


def test_default_value_keeps_the_python_type() -> None:
    arguments = _arguments(
        """
        import argparse
        N_TREES = 100
        parser = argparse.ArgumentParser()
        parser.add_argument("--n-trees", type=int, default=N_TREES)
        parser.add_argument("--depth", type=int, default=3)
        parser.add_argument("--eta", default=-0.5)
        parser.add_argument("--ids", default=[1, 2])
        parser.add_argument("--label", default=None)
        parser.add_argument("--mode")
        parser.add_argument("-v", action="store_true")
        parser.add_argument("--quiet", action="store_false")
        parser.add_argument("--lucky", action="store_true", default=True)
        parser.add_argument("--seed", default=argparse.SUPPRESS)
        parser.add_argument("--version", action="version", version="1")
        """
    )
    values = {name: arg.default_value for name, arg in arguments.items()}
    assert values == {
        "n_trees": 100,
        "depth": 3,
        "eta": -0.5,
        "ids": [1, 2],
        "label": None,
        "mode": None,
        "v": False,
        "quiet": True,
        "lucky": True,
        "seed": "==SUPPRESS==",
        "version": "==SUPPRESS==",
    }
    assert type(values["depth"]) is int and values["v"] is False and values["quiet"] is True


def test_default_value_of_a_non_literal_is_the_sentinel() -> None:
    arguments = _arguments(
        """
        import argparse, os
        LIMIT = 1
        LIMIT = 2
        COUNT = 1
        COUNT += 1
        parser = argparse.ArgumentParser()
        parser.add_argument("--workers", default=os.cpu_count())
        parser.add_argument("--limit", default=LIMIT)
        parser.add_argument("--count", default=COUNT)
        """
    )
    assert all(arg.default_value is NOT_LITERAL for arg in arguments.values())
    assert repr(NOT_LITERAL) == "NOT_LITERAL"


def test_default_value_of_a_folded_string_is_that_string() -> None:
    arguments = _arguments(
        """
        import argparse, os
        ROOT = "/opt/ml/processing"
        parser = argparse.ArgumentParser()
        parser.add_argument("--data", default=f"{ROOT}/input/data")
        parser.add_argument("--mode", default=os.environ.get("MODE", "fast"))
        """
    )
    assert arguments["data"].default_value == "/opt/ml/processing/input/data"
    assert arguments["mode"].default_value == "fast"


def test_const_and_option_strings_are_recorded() -> None:
    arguments = _arguments(
        """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("-l", "--level", nargs="?", const=2, default=1)
        parser.add_argument("--tag", action="store_const", const="x")
        parser.add_argument("--obj", action="store_const", const=object())
        parser.add_argument("input_file")
        """
    )
    level, tag, obj, positional = arguments.values()
    assert (level.const, level.const_value, level.option_strings) == ("2", 2, ("-l", "--level"))
    assert (tag.const, tag.const_value) == ("x", "x")
    assert (obj.const, obj.const_value) == (None, NOT_LITERAL)
    assert (positional.const_value, positional.option_strings) == (None, ())


def test_positional_with_argparse_nargs_constant_is_not_required() -> None:
    arguments = _arguments(
        """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("files", nargs=argparse.ZERO_OR_MORE)
        """
    )
    assert arguments["files"].required is False
    assert arguments["files"].nargs == "*"


def test_new_fields_take_no_part_in_equality() -> None:
    inferred = _arguments(
        "import argparse\nargparse.ArgumentParser().add_argument('--n', type=int, default=3)\n"
    )["n"]
    assert inferred == InferredArgument("n", False, "3")
    assert inferred.default_value == 3 and inferred.type_name == "int"
    hand_built = InferredArgument("n", False, "3")
    assert (hand_built.action, hand_built.default_value) == ("store", NOT_LITERAL)
