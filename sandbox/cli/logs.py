"""Logging of the ``sandbox`` command: one handler on stderr, the level printed once, and
the Docker client's and urllib3's messages kept at WARNING unless asked for."""

from __future__ import annotations

import logging
import sys

__all__ = ["LIBRARY_LOGGERS", "configure_logging"]

LIBRARY_LOGGERS = ("docker", "urllib3")
"""The libraries whose debug output is noise for a user of the tool."""


def configure_logging(level_name: str, *, libraries: bool = False) -> None:
    """Log the tool's messages at ``level_name`` (warning, info, debug) to stderr as
    ``sandbox: LEVEL: message``; the libraries' at that level only with ``libraries``."""
    level = getattr(logging, level_name.upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("sandbox: %(levelname)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("sandbox").setLevel(level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(level if libraries else max(level, logging.WARNING))
