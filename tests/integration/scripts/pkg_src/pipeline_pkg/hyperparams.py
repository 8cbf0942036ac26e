"""Shared settings, imported by the steps relative to the package."""

DEFAULT_OUTPUT_NAME = "from_package.txt"
