"""The script's contract: finding the script, reading its source (AST inference), specs.

Owns how a script name and options become the effective spec a run executes
(:mod:`.resolve`, :mod:`.spec`), what a script's source says about its channels,
environment and arguments (:mod:`.inference`), the argparse namespace of the ``main``
call style (:mod:`.job_args`), and importing a pipeline project's script contract
(:mod:`.from_contract`, :mod:`.drift`), what each channel must hold as the source reads it
(:mod:`.channel_content`, with :mod:`._content_ast`), and the names and values checked
before anything runs (:mod:`.validation`). Nothing here touches Docker or the workspace.
"""

from __future__ import annotations
