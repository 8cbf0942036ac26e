"""Results: the models of a run, the verdict, and the store of run folders.

Owns :class:`~sandbox.results.models.TestResult` and its parts (:mod:`.models`, pipeline
results in :mod:`.pipeline`, the one document of ``--output-format json`` in :mod:`.output`),
turning what a container left behind into a result
(:mod:`.collect`, :mod:`.checks`, :mod:`.verdict`, a PASS that did nothing in
:mod:`.hollow`, a failure on what a local run does not bring in
:mod:`.missing_context`), secret values masked wherever a result is written
(:mod:`.masking`), strings made safe to store and show (:mod:`.printable`), and the
workspace's run folders (:mod:`.workspace`, :mod:`.store`).
"""

from __future__ import annotations
