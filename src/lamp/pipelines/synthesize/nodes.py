"""Nodes of the ``synthesize`` pipeline (mini profile)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from lamp.mini.scenes import MOTIONS
from lamp.mini.synthetic import eval_prompt_table, training_contents, write_motion_dataset, write_still_dataset
from lamp.profiles import Profile


def synthesize_videos(synthesize: dict[str, Any], motion: str) -> tuple[pd.DataFrame, Path]:
    """Write one motion's mini training videos into ``synthesize.videos_dir/<motion>/``; their index and
    that folder (the catalog's ``<motion>.videos``, which ingest reads).

    The mini world's own folder, never a user's: the profile's ``motions`` point at it.
    """
    if motion not in MOTIONS:
        raise ValueError(f"synthesize.motions names {motion!r}; the mini world renders only {list(MOTIONS)}")
    index = write_motion_dataset(
        Path(synthesize["videos_dir"]),
        motions=[motion],
        videos_per_motion=synthesize["videos_per_motion"],
        n_frames=synthesize["n_frames"],
        height=synthesize["height"],
        width=synthesize["width"],
        fps=synthesize["fps"],
        seed=synthesize["seed"],
    )
    return index, Path(synthesize["videos_dir"]) / motion


def synthesize_stills(synthesize: dict[str, Any]) -> pd.DataFrame:
    """Write the captioned still images the mini base models learn from; return their captions."""
    size = synthesize["still_size"]
    return write_still_dataset(synthesize["stills_dir"], synthesize["n_stills"], size, size, synthesize["seed"])


def synthesize_eval_prompts(synthesize: dict[str, Any], active_profile: dict[str, Any]) -> pd.DataFrame:
    """``motion,prompt`` rows for every motion of the profile, each prompt of a content that none of the
    motion's training videos shows (a user's own motion: any of the mini world's contents)."""
    profile = Profile.from_active(active_profile)
    seed, motions = synthesize["seed"], list(profile.motions)
    rendered = set(synthesize["motions"])
    training = {m: training_contents(m, synthesize["videos_per_motion"], seed) if m in rendered else []
                for m in motions}
    return eval_prompt_table(motions, training, synthesize["eval_prompts_per_motion"], seed)


def video_index(*indexes: pd.DataFrame) -> pd.DataFrame:
    """Every motion's video index in one table."""
    return pd.concat(indexes, ignore_index=True)
