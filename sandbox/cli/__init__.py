"""The ``sandbox`` command line: parse, call one library function, render, exit.

Exit codes: 0 passed, 1 a script failed, 2 usage or spec error, 3 infrastructure error
(no Docker engine, image cannot be built or pulled), 130 interrupted.

One module per command family (:mod:`~sandbox.cli.run`, :mod:`~sandbox.cli.pipeline`,
:mod:`~sandbox.cli.results`, :mod:`~sandbox.cli.data`, :mod:`~sandbox.cli.images`,
:mod:`~sandbox.cli.spec`), what they share in :mod:`~sandbox.cli.common`, and the group
that adds them all in :mod:`~sandbox.cli.app`. Heavy library modules are imported inside
the commands, so that ``sandbox --help`` starts fast.
"""

from __future__ import annotations

from sandbox.cli.app import cli, main

__all__ = ["cli", "main"]
