"""The README's generated blocks (the settings table, the stage flowchart): rewritten by a command, checked by a test.

Each block lives between ``<!-- <block>:start -->`` and ``<!-- <block>:end -->``, so the prose around it
stays hand-written while what the code can say for itself is never typed.
"""

from __future__ import annotations

import os
from pathlib import Path

from lamp.io import atomic_path


def readme_with_block(readme: str, block: str, text: str) -> str:
    """``readme`` with the text between the markers of ``block`` replaced by ``text``."""
    start_marker, end_marker = f"<!-- {block}:start -->\n", f"<!-- {block}:end -->"
    start, end = readme.index(start_marker) + len(start_marker), readme.index(end_marker)
    return readme[:start] + text + "\n" + readme[end:]


def write_readme_block(path: str | os.PathLike[str], block: str, text: str) -> None:
    """Rewrite one generated block of the file ``path`` (:func:`readme_with_block`), atomically."""
    path = Path(path)
    readme = path.read_text()
    with atomic_path(path) as temporary:
        temporary.write_text(readme_with_block(readme, block, text))
