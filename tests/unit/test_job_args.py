"""Unit tests for sandbox.contract.job_args: typed ``job_args`` rebuilt from inferred arguments.

Each test infers the arguments of a small inline script with ``infer_contract``, so
inference and typing are tested together; the parity tests also run the script's own
parser on the equivalent command line and demand the same namespace.
"""

from __future__ import annotations

import argparse
import json
import shlex
import textwrap

import pytest

from sandbox.contract.inference import InferredArgument, infer_contract
from sandbox.contract.job_args import typed_job_args
from sandbox.errors import UsageError

PARSER = """
import argparse
N_TREES = 3
def str2bool(text):
    return text.lower() in ("true", "1", "yes")
parser = argparse.ArgumentParser()
parser.add_argument("--job_type", choices=["training", "validation", "testing"])
parser.add_argument("--n-trees", type=int, default=N_TREES)
parser.add_argument("--eta", type=float, default="0.3")
parser.add_argument("--ratio", type=float)
parser.add_argument("--debug", action="store_true")
parser.add_argument("--no-cache", dest="cache", action="store_false")
parser.add_argument("--label", default=None)
parser.add_argument("--cols", nargs="+")
parser.add_argument("--ids", nargs="*", type=int, default=[1, 2])
parser.add_argument("--pair", nargs=2, type=float)
parser.add_argument("--level", nargs="?", const="high", default="low")
parser.add_argument("--depth", type=int, choices=[2, 4, 8], default=4)
parser.add_argument("--scale", type=lambda text: float(text) * 2)
parser.add_argument("--use-gpu", type=str2bool, default=False)
parser.add_argument("--fast", type=bool, default=False)
parser.add_argument("--version", action="version", version="1.0")
"""


def _arguments(source: str = PARSER) -> dict[str, InferredArgument]:
    return infer_contract(textwrap.dedent(source)).arguments


def _typed(given: dict[str, str], source: str = PARSER) -> dict[str, object]:
    return typed_job_args(given, _arguments(source))


def _argparse(argv: str, source: str = PARSER) -> dict[str, object]:
    """What the script's own parser gives for ``argv`` (the command-line call style)."""
    namespace: dict[str, object] = {}
    exec(textwrap.dedent(source), namespace)  # the test's own inline script
    parser = namespace["parser"]
    assert isinstance(parser, argparse.ArgumentParser)
    return vars(parser.parse_args(shlex.split(argv)))


# --- parity with argparse -----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "argv"),
    [
        ({}, ""),
        ({"job_type": "training"}, "--job_type training"),
        ({"n_trees": "5", "eta": "0.05", "ratio": "1e-3"}, "--n-trees 5 --eta 0.05 --ratio 1e-3"),
        ({"debug": "", "cache": ""}, "--debug --no-cache"),
        ({"label": "y"}, "--label y"),
        ({"cols": "a b,c"}, "--cols a b,c"),
        ({"ids": "7 8 9"}, "--ids 7 8 9"),
        ({"ids": ""}, "--ids"),
        ({"pair": "0.5 2"}, "--pair 0.5 2"),
        ({"level": ""}, "--level"),
        ({"level": "mid"}, "--level mid"),
        ({"depth": "8"}, "--depth 8"),
        ({"fast": "False"}, "--fast False"),
    ],
)
def test_same_namespace_as_the_scripts_own_parser(given: dict[str, str], argv: str) -> None:
    assert _typed(given) == _argparse(argv)


def test_defaults_keep_their_python_types() -> None:
    typed = _typed({})
    assert typed["n_trees"] == 3 and type(typed["n_trees"]) is int  # from a module constant
    assert typed["eta"] == 0.3  # a string default goes through type=, as in argparse
    assert typed["debug"] is False and typed["cache"] is True
    assert typed["label"] is None and typed["ratio"] is None and typed["cols"] is None
    assert typed["ids"] == [1, 2]
    assert typed["use_gpu"] is False


def test_help_and_version_set_no_attribute() -> None:
    typed = _typed({})
    assert "version" not in typed and "help" not in typed


def test_suppressed_default_sets_no_attribute_until_given() -> None:
    source = """
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=argparse.SUPPRESS)
    """
    assert _typed({}, source) == _argparse("", source) == {}
    assert _typed({"seed": "7"}, source) == _argparse("--seed 7", source) == {"seed": 7}


def test_positional_nargs_star_defaults_to_an_empty_list() -> None:
    source = """
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*")
    parser.add_argument("mode", nargs="?", default="2", type=int)
    """
    assert _typed({}, source) == _argparse("", source) == {"files": [], "mode": 2}


# --- flags --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", True), ("true", True), ("1", True), ("YES", True), ("false", False), ("0", False)],
)
def test_store_true_flag(value: str, expected: bool) -> None:
    assert _typed({"debug": value})["debug"] is expected


@pytest.mark.parametrize(("value", "expected"), [("", False), ("no", False), ("true", True)])
def test_store_false_flag_value_is_the_attributes_value(value: str, expected: bool) -> None:
    assert _typed({"cache": value})["cache"] is expected


def test_flag_with_a_non_boolean_value_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"argument --debug: ignored explicit argument 'maybe'"):
        _typed({"debug": "maybe"})


def test_boolean_optional_action() -> None:
    source = """
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--shuffle", action=argparse.BooleanOptionalAction)
    """
    assert _typed({}, source) == {"shuffle": None}
    assert _typed({"shuffle": ""}, source) == {"shuffle": True}
    assert _typed({"shuffle": "no"}, source) == {"shuffle": False}


# --- types and choices --------------------------------------------------------------


def test_int_and_float_values_are_converted() -> None:
    typed = _typed({"n_trees": "12", "ratio": "0.25"})
    assert typed["n_trees"] == 12 and type(typed["n_trees"]) is int
    assert typed["ratio"] == 0.25 and type(typed["ratio"]) is float


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"n_trees": "many"}, "argument --n-trees: invalid int value: 'many'"),
        ({"n_trees": "2.5"}, "argument --n-trees: invalid int value: '2.5'"),
        ({"ratio": "half"}, "argument --ratio: invalid float value: 'half'"),
        ({"ids": "1 x"}, "argument --ids: invalid int value: 'x'"),
    ],
)
def test_a_value_that_does_not_convert_is_a_usage_error(
    given: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        _typed(given)
    assert str(caught.value) == message
    assert caught.value.exit_code == 2


def test_invalid_choice_is_a_usage_error_after_conversion() -> None:
    assert _typed({"depth": "2"})["depth"] == 2
    with pytest.raises(UsageError, match=r"argument --depth: invalid choice: 3 \(choose from"):
        _typed({"depth": "3"})
    with pytest.raises(UsageError, match=r"argument --job_type: invalid choice: 'train'"):
        _typed({"job_type": "train"})


def test_bool_like_callable_gives_a_bool() -> None:
    assert _typed({"use_gpu": "True"})["use_gpu"] is True
    assert _typed({"use_gpu": "no"})["use_gpu"] is False
    with pytest.raises(UsageError, match=r"argument --use-gpu: invalid str2bool value: 'x'"):
        _typed({"use_gpu": "x"})


def test_type_bool_is_as_truthy_as_in_argparse() -> None:
    assert _typed({"fast": "False"})["fast"] is True  # bool("False"), argparse's own trap


def test_unknown_callable_keeps_the_text() -> None:
    assert _typed({"scale": "1.5"})["scale"] == "1.5"


# --- nargs ----------------------------------------------------------------------------


def test_list_nargs_split_on_whitespace_and_keep_commas() -> None:
    assert _typed({"cols": "  a  b,c\td "})["cols"] == ["a", "b,c", "d"]


def test_list_nargs_are_typed_element_by_element() -> None:
    assert _typed({"ids": "3 4"})["ids"] == [3, 4]
    assert _typed({"pair": "1 2"})["pair"] == [1.0, 2.0]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"cols": ""}, "argument --cols: expected at least one argument"),
        ({"pair": "1 2 3"}, "argument --pair: expected 2 arguments"),
        ({"label": ""}, "argument --label: expected one argument"),
    ],
)
def test_wrong_number_of_values_is_a_usage_error(given: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        _typed(given)
    assert str(caught.value) == message


def test_optional_value_without_value_gives_const() -> None:
    assert _typed({"level": ""})["level"] == "high"
    assert _typed({})["level"] == "low"


# --- other actions --------------------------------------------------------------------

ACTIONS = """
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--mode", action="store_const", const=42)
parser.add_argument("--tag", action="append", default=["base"])
parser.add_argument("--n", action="append", type=int)
parser.add_argument("--flag", action="append_const", const="x")
parser.add_argument("-v", "--verbose", action="count", default=0)
parser.add_argument("--more", action="extend", nargs="+", type=int)
"""


def test_other_actions_start_from_their_defaults() -> None:
    assert _typed({}, ACTIONS) == _argparse("", ACTIONS)


@pytest.mark.parametrize(
    ("given", "argv"),
    [
        ({"mode": ""}, "--mode"),
        ({"tag": "extra"}, "--tag extra"),
        ({"n": "5"}, "--n 5"),
        ({"flag": ""}, "--flag"),
        ({"verbose": ""}, "-v"),
        ({"more": "1 2"}, "--more 1 2"),
    ],
)
def test_other_actions_match_argparse(given: dict[str, str], argv: str) -> None:
    assert _typed(given, ACTIONS) == _argparse(argv, ACTIONS)


def test_count_takes_a_number_as_a_convenience() -> None:
    assert _typed({"verbose": "3"}, ACTIONS)["verbose"] == 3
    with pytest.raises(UsageError, match=r"argument -v/--verbose: ignored explicit argument"):
        _typed({"verbose": "lots"}, ACTIONS)


def test_store_const_takes_no_value() -> None:
    with pytest.raises(UsageError, match=r"argument --mode: ignored explicit argument 'on'"):
        _typed({"mode": "on"}, ACTIONS)


def test_custom_action_class_keeps_the_text() -> None:
    source = """
    import argparse
    class Upper(argparse.Action):
        pass
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", action=Upper)
    """
    assert _typed({"name": "abc"}, source) == {"name": "abc"}


# --- undeclared names, hand-built arguments, JSON -------------------------------------


def test_names_the_script_does_not_declare_keep_their_text() -> None:
    typed = _typed({"max_depth": "6", "objective": "binary:logistic", "flag": ""})
    assert (typed["max_depth"], typed["objective"], typed["flag"]) == (
        "6",
        "binary:logistic",
        "",
    )


def test_a_script_without_argparse_gets_the_text_as_given() -> None:
    assert typed_job_args({"eta": "0.1"}, {}) == {"eta": "0.1"}


def test_hand_built_argument_without_details_falls_back_to_the_text_default() -> None:
    arguments = {"job_type": InferredArgument("job_type", False, "training")}
    assert typed_job_args({}, arguments) == {"job_type": "training"}


def test_non_literal_default_is_none() -> None:
    source = """
    import argparse, os
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    """
    assert _typed({}, source) == {"workers": None}
    assert _typed({"workers": "4"}, source) == {"workers": 4}


def test_every_value_is_json_ready() -> None:
    source = """
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default=(2, 3))
    parser.add_argument("--keys", default={"b"})
    parser.add_argument("--raw", default=b"x")
    """
    typed = _typed({}, source)
    assert typed == {"shape": [2, 3], "keys": ["b"], "raw": "b'x'"}
    assert json.loads(json.dumps(typed)) == typed


def test_result_does_not_share_the_contracts_default_list() -> None:
    arguments = _arguments()
    ids = typed_job_args({}, arguments)["ids"]
    assert isinstance(ids, list)
    ids.append(99)
    assert arguments["ids"].default_value == [1, 2]
