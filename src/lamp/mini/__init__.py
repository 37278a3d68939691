"""Offline "mini" profile: a procedural, seeded world of coloured shapes and the eight LAMP motions.

:mod:`lamp.mini.scenes` renders pictures and videos in memory; :mod:`lamp.mini.synthetic` writes
the datasets (motion videos, captioned stills, evaluation prompts) reproducibly to disk.
"""

from lamp.mini.scenes import (
    BACKGROUNDS,
    COLOURS,
    MOTIONS,
    SHAPES,
    Content,
    VideoSpec,
    all_contents,
    colour_rgb,
    motion_caption,
    parse_caption,
    render_background,
    render_still,
    render_video,
)
from lamp.mini.synthetic import (
    derived_seed,
    evaluation_prompts,
    still_contents,
    training_contents,
    eval_prompt_table,
    write_eval_prompts,
    write_motion_dataset,
    write_still_dataset,
)

__all__ = [
    "BACKGROUNDS",
    "COLOURS",
    "MOTIONS",
    "SHAPES",
    "Content",
    "VideoSpec",
    "all_contents",
    "colour_rgb",
    "derived_seed",
    "evaluation_prompts",
    "motion_caption",
    "parse_caption",
    "render_background",
    "render_still",
    "render_video",
    "still_contents",
    "training_contents",
    "eval_prompt_table",
    "write_eval_prompts",
    "write_motion_dataset",
    "write_still_dataset",
]
