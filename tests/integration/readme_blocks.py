"""The README's command blocks: ``<!-- readme-commands WHERE: ... -->`` then a bash block,
each line a command that runs from WHERE (``clone``: the clone's root; ``anywhere``: also
from a wheel installed outside the clone)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(
    r"<!-- readme-commands (\w+):.*?-->\s*```bash\n(.*?)```\s*<!-- end readme-commands -->",
    re.DOTALL,
)


def readme_commands(*where: str) -> list[str]:
    """The commands of the blocks marked with one of ``where`` (every block without it)."""
    blocks = BLOCK.findall((REPO / "README.md").read_text(encoding="utf-8"))
    assert blocks, "README.md has no readme-commands block"
    return [
        line.strip()
        for place, text in blocks
        if not where or place in where
        for line in text.splitlines()
        if line.strip()
    ]
