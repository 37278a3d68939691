"""The evaluation set's prompts file: ``motion,prompt`` rows, checked, each with a video id.

Apart from :mod:`lamp.sampling.evaluation_set` because it needs no torch: the catalog's dataset of
the prompts file reads it in every stage that takes the prompts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

PROMPT_COLUMNS = ["motion", "prompt"]


def read_prompts(path: str | Path, motions: Sequence[str] | None = None) -> pd.DataFrame:
    """The ``motion,prompt`` table of ``path`` (only ``motions``, if given) with a ``video_id`` per row.

    ``video_id`` is ``<motion>_<k>``, ``k`` counting that motion's prompts in file order.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"prompts file {path} does not exist: set profiles.<profile>.prompts_file in params.yaml")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(table.columns) != PROMPT_COLUMNS:
        raise ValueError(f"{path}: the header must be exactly 'motion,prompt', got {','.join(table.columns)!r}")
    empty = table.index[(table.motion.str.strip() == "") | (table.prompt.str.strip() == "")]
    if len(empty):
        raise ValueError(f"{path}: rows {[i + 2 for i in empty]} have an empty motion or prompt")
    if motions is not None:
        table = table[table.motion.isin(motions)]
    table = table.reset_index(drop=True)
    table.insert(0, "video_id", [f"{m}_{k:02d}" for m, k in zip(table.motion, table.groupby("motion").cumcount())])
    return table
