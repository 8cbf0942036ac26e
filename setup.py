"""Ship the image profiles (the repository's ``images/<profile>/`` folders) inside the wheel.

``images/`` stays the one source of truth: at build time each profile folder is copied to
``sandbox/_profiles/<profile>/`` of the built package (no ``wheels/``, no caches), where
``sandbox.container.images`` finds them with ``importlib.resources`` when there is no clone around.
Everything else about the package is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

IMAGES = Path(__file__).resolve().parent / "images"


class BuildPyWithProfiles(build_py):
    """``build_py`` plus a copy of every profile folder into the package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads images/ of the clone itself
            return
        target = Path(self.build_lib) / "sandbox" / "_profiles"
        shutil.rmtree(target, ignore_errors=True)
        for spec in sorted(IMAGES.glob("*/profile.json")):
            shutil.copytree(
                spec.parent,
                target / spec.parent.name,
                ignore=shutil.ignore_patterns("wheels", "__pycache__"),
            )


setup(cmdclass={"build_py": BuildPyWithProfiles})
