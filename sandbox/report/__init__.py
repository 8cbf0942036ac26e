"""Reports of results for people and tools: rich text, JSON, JUnit XML, HTML.

Every renderer returns or prints what it makes; :mod:`.files` writes report files of
stored runs; :mod:`.junit_merge` joins the JUnit files of several shards. Nothing here
runs a container or changes a result.
"""

from __future__ import annotations
