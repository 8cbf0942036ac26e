"""The contract of examples/scripts/tabular_preprocessing.py, written the way pipeline
projects write script contracts: a module-level ``*_CONTRACT`` object.

    sandbox spec from-contract examples/contracts/tabular_preprocessing_contract.py
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional


@dataclass(frozen=True)
class ScriptContract:
    """What a script expects from the container that runs it."""

    entry_point: str
    expected_input_paths: Dict[str, str]
    expected_output_paths: Dict[str, str]
    required_env_vars: List[str] = field(default_factory=list)
    optional_env_vars: Dict[str, str] = field(default_factory=dict)
    expected_arguments: Dict[str, Optional[str]] = field(default_factory=dict)
    framework_requirements: Dict[str, str] = field(default_factory=dict)


TABULAR_PREPROCESSING_CONTRACT = ScriptContract(
    entry_point="tabular_preprocessing.py",
    expected_input_paths={"data_input": "/opt/ml/processing/input/data"},
    expected_output_paths={"data_output": "/opt/ml/processing/output"},
    required_env_vars=["LABEL_FIELD"],
    optional_env_vars={"TRAIN_RATIO": "0.7", "TEST_VAL_RATIO": "0.5"},
    expected_arguments={"job_type": "training"},
    framework_requirements={"pandas": ">=1.3", "scikit-learn": ">=1.0"},
)
