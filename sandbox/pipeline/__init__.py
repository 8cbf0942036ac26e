"""Many runs under one controller: pipeline specs and plans, edge checks, batches.

Owns the pipeline file (:mod:`.spec`), the checked plan (:mod:`.plan`), the data-flow
checks on an edge (:mod:`.checks`), the one scheduler of many runs (:mod:`.scheduler`),
running the steps (:mod:`.run`), running many scripts at once (:mod:`.batch`: a graph
without edges), the group of runs one controller starts and stops (:mod:`.group`), and
the split of many scripts over CI runners (:mod:`.shards`).
"""

from __future__ import annotations
