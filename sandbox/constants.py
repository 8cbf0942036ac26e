"""Platform constants: the container paths, job kinds, label names and defaults.

A leaf: it imports nothing else of the package, so any module (and a reader) finds each
path, label and default defined here once. The files mounted into the container
(``container/_container/``) run without the package and spell the paths they need.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

__all__ = [
    "ARTIFACTS_DIR",
    "BASE_LABEL",
    "BATCH_LABEL",
    "CHECKPOINTS_DIR",
    "CODE_PATH",
    "CONFIG_DIR",
    "CONTROLLER_FILE",
    "CONTROLLER_LABEL",
    "DEFAULT_IMAGE",
    "DEFAULT_INSTANCE_TYPE",
    "DEFAULT_PIDS_LIMIT",
    "DEFAULT_SCRIPTS_DIR",
    "DEFAULT_WORKSPACE",
    "DERIVED_LABEL",
    "DISTRIBUTIONS_LABEL",
    "HYPERPARAMETERS_FILE",
    "INPUT_CONFIG_DIR",
    "ML_OUTPUT_DIR",
    "MODEL_DIR",
    "MODULES_LABEL",
    "OPT_ML",
    "OUTPUT_DATA_DIR",
    "PIPELINE_RESULT_FILE",
    "PIPELINE_RUN_LABEL",
    "PIP_CONF_PATH",
    "PROCESSING_INPUT_DIR",
    "PROCESSING_OUTPUT_DIR",
    "PROCESSING_PREFIX",
    "PROCESSING_ROOT",
    "PROFILE_HASH_LABEL",
    "PROFILE_LABEL",
    "PURPOSE_LABEL",
    "PYTHON_LABEL",
    "RESERVE_BYTES",
    "RESERVE_FILE",
    "RESULT_FILE",
    "RUN_ID_LABEL",
    "SCRIPT_LABEL",
    "STDERR_LOG_FILE",
    "STDOUT_LOG_FILE",
    "TAIL_LINE_BYTES",
    "TAIL_TOTAL_BYTES",
    "TOOL_LABEL",
    "TRAINING_CODE_DIR",
    "TRAINING_DATA_DIR",
    "TRAINING_INPUT_DIR",
    "TRAINING_OUTPUT_PATHS",
    "VERSION_LABEL",
    "WHEELHOUSE_DIR",
    "WHEELS_MOUNT",
    "WORKSPACE_LABEL",
    "JobKind",
]


class JobKind(str, Enum):
    """Which SageMaker job contract a script is written for."""

    PROCESSING = "processing"
    TRAINING = "training"


# Container paths, as production lays them out.
OPT_ML = "/opt/ml"
PROCESSING_ROOT = "/opt/ml/processing"
PROCESSING_PREFIX = "/opt/ml/processing/"
PROCESSING_INPUT_DIR = "/opt/ml/processing/input"
PROCESSING_OUTPUT_DIR = "/opt/ml/processing/output"
CODE_PATH = "/opt/ml/processing/input/code"
"""Where a Processing job's code is mounted."""
CONFIG_DIR = "/opt/ml/config"
"""A Processing job's config files (``processingjobconfig.json``, ``resourceconfig.json``)."""
ML_OUTPUT_DIR = "/opt/ml/output"
"""Where any job writes its ``message`` and ``failure`` files."""
TRAINING_INPUT_DIR = "/opt/ml/input"
TRAINING_DATA_DIR = "/opt/ml/input/data"
"""A Training job's channels, one folder each."""
INPUT_CONFIG_DIR = "/opt/ml/input/config"
HYPERPARAMETERS_FILE = "/opt/ml/input/config/hyperparameters.json"
TRAINING_CODE_DIR = "/opt/ml/code"
MODEL_DIR = "/opt/ml/model"
OUTPUT_DATA_DIR = "/opt/ml/output/data"
CHECKPOINTS_DIR = "/opt/ml/checkpoints"
TRAINING_OUTPUT_PATHS = {
    "model": MODEL_DIR,
    "output_data": OUTPUT_DATA_DIR,
    "checkpoints": CHECKPOINTS_DIR,
}
"""The writable folders of a Training job, by their usual channel names."""

# Container label names: every container of the tool carries TOOL_LABEL.
TOOL_LABEL = "sandbox.tool"
RUN_ID_LABEL = "sandbox.run-id"
SCRIPT_LABEL = "sandbox.script"
VERSION_LABEL = "sandbox.version"
PURPOSE_LABEL = "sandbox.purpose"
BATCH_LABEL = "sandbox.batch"
PIPELINE_RUN_LABEL = "sandbox.pipeline-run"
PROFILE_LABEL = "sandbox.profile"
PROFILE_HASH_LABEL = "sandbox.profile-hash"
BASE_LABEL = "sandbox.base"
DISTRIBUTIONS_LABEL = "sandbox.distributions"
"""Compact JSON: ``{"name": "version", ...}`` of every distribution the image's python3 sees."""
MODULES_LABEL = "sandbox.modules"
"""Compact JSON: the sorted top-level module names importable outside the standard library
folders too (everything ``pkgutil.iter_modules`` finds)."""
PYTHON_LABEL = "sandbox.python"
"""Compact JSON: ``{"version": "3.11.2", "glibc": "2.36", "machine": "x86_64"}``."""
DERIVED_LABEL = "sandbox.derived-from"
"""On an image with baked requirements: the image it was derived from."""
WORKSPACE_LABEL = "sandbox.workspace"
"""Every container of a run carries its workspace's id: cleaning one workspace never
touches another's containers."""
CONTROLLER_LABEL = "sandbox.controller"
"""The process that controls the container (:class:`sandbox.results.controller.Controller`)."""

# Defaults of the command line and the library.
DEFAULT_IMAGE = "sklearn-1.2"
DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
"""Written to the job config when none is given (no limits apply then)."""
DEFAULT_PIDS_LIMIT = 1024
"""Processes (and threads) one container may hold at once: a fork bomb stops there."""
DEFAULT_SCRIPTS_DIR = Path("scripts")
DEFAULT_WORKSPACE = Path(".sandbox")

# Pip inside a container: the mounted wheelhouse and the pip config pointing at it.
WHEELS_MOUNT = "/opt/sandbox/wheels"
PIP_CONF_PATH = "/etc/pip.conf"

# Files of the workspace's run folders (written and read by sandbox.results.store).
RESULT_FILE = "result.json"
SPEC_FILE = "spec.json"
"""The spec a run used (secret values masked): ``--spec runs/<run-id>/spec.json`` reruns it."""
PIPELINE_RESULT_FILE = "pipeline_result.json"
CONTROLLER_FILE = "controller.json"
"""In every run folder from its creation: the process that controls the run."""
WHEELHOUSE_DIR = "wheelhouse"
"""The wheelhouse cache's folder in a workspace."""
ARTIFACTS_DIR = "artifacts"
"""The cache of model artifacts trained in an image, in a workspace's data folder."""
STDOUT_LOG_FILE = "stdout.log"
STDERR_LOG_FILE = "stderr.log"
"""The container's whole output streams, in its run folder."""
RESERVE_FILE = ".result-space"
"""Held in the run folder while the container runs; given up to save the result."""
RESERVE_BYTES = 256 * 1024
"""Room for a result without its timeline, spec and output listing (tails are capped)."""

# Bounds on what the controller holds of a container's output.
TAIL_LINE_BYTES = 1024
"""A longer tail line keeps its first kilobyte and says how long it was."""
TAIL_TOTAL_BYTES = 64 * 1024
"""The whole tail of one stream never holds more than this."""
