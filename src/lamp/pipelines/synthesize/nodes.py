"""Nodes of the ``synthesize`` pipeline (mini profile)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from lamp.mini.synthetic import eval_prompt_table, training_contents, write_motion_dataset, write_still_dataset


#: Where a user puts source videos; conf/base/catalog.yml's ``{motion}.videos`` reads the same folder.
VIDEOS_DIR = Path("data/01_raw/videos")


def synthesize_videos(synthesize: dict[str, Any], motion: str) -> pd.DataFrame:
    """Write one motion's mini training videos into ``VIDEOS_DIR/<motion>/``, as a user would; return their index."""
    return write_motion_dataset(
        VIDEOS_DIR,
        motions=[motion],
        videos_per_motion=synthesize["videos_per_motion"],
        n_frames=synthesize["n_frames"],
        height=synthesize["height"],
        width=synthesize["width"],
        fps=synthesize["fps"],
        seed=synthesize["seed"],
    )


def synthesize_stills(synthesize: dict[str, Any]) -> pd.DataFrame:
    """Write the captioned still images the mini base models learn from; return their captions."""
    size = synthesize["still_size"]
    return write_still_dataset(synthesize["stills_dir"], synthesize["n_stills"], size, size, synthesize["seed"])


def synthesize_eval_prompts(synthesize: dict[str, Any], motions: list[str]) -> pd.DataFrame:
    """``motion,prompt`` rows: per motion, prompts whose content none of its training videos shows."""
    seed = synthesize["seed"]
    training = {m: training_contents(m, synthesize["videos_per_motion"], seed) for m in motions}
    return eval_prompt_table(motions, training, synthesize["eval_prompts_per_motion"], seed)


def video_index(*indexes: pd.DataFrame) -> pd.DataFrame:
    """Every motion's video index in one table."""
    return pd.concat(indexes, ignore_index=True)
