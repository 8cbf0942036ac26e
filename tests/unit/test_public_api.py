"""The curated public API (sandbox/__init__.py): every name resolves, lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import sandbox


@pytest.mark.parametrize("name", sandbox.__all__)
def test_every_public_name_resolves_to_its_home(name: str) -> None:
    value = getattr(sandbox, name)
    assert value is not None
    if name != "__version__":
        assert value.__module__.startswith("sandbox.")


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'run_everything'"):
        getattr(sandbox, "run_everything")  # noqa: B009


def test_importing_the_package_loads_no_room_until_a_name_is_used() -> None:
    code = (
        "import sys, sandbox\n"
        "assert 'sandbox.runner' not in sys.modules and 'pydantic' not in sys.modules\n"
        "from sandbox import RunRequest, run_script\n"
        "assert 'sandbox.runner' in sys.modules and run_script.__name__ == 'run_script'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
