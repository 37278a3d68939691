"""Seeded datasets built from :mod:`lamp.mini.scenes`: motion videos, captioned stills, prompts.

Every writer is deterministic: the same arguments write byte-identical files. Videos go through
:func:`lamp.data.video_io.write_video`, whose H.264 encoder is reproducible, and every file is
written through :func:`lamp.io.atomic_path`, so a reader never sees a half-written file.
"""

from __future__ import annotations

import math
import os
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from lamp.data.video_io import write_video
from lamp.io import atomic_path
from lamp.mini.scenes import (
    BACKGROUNDS,
    COLOURS,
    MOTIONS,
    SHAPES,
    Content,
    VideoSpec,
    all_contents,
    motion_caption,
    render_still,
    render_video,
)

# Streams of randomness are keyed by (seed, purpose, ...) so that, e.g., adding a motion or a
# video never changes the contents or frames drawn for the others.
_TRAINING, _EVALUATION, _VIDEO, _STILL_ORDER, _STILL = range(5)

_VIDEO_COLUMNS = ["motion", "path", "caption", "colour", "shape", "background", "seed"]
_STILL_COLUMNS = ["file_name", "caption", "colour", "shape", "background"]


def derived_seed(*keys: int) -> int:
    """A 32-bit seed determined by ``keys`` (independent streams for different keys)."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1, dtype=np.uint32)[0])


def _rng(*keys: int) -> np.random.Generator:
    """A generator seeded by ``keys``."""
    return np.random.default_rng(np.random.SeedSequence(list(keys)))


def _balanced_pick(
    candidates: Sequence[Content], n: int, rng: np.random.Generator
) -> list[Content]:
    """``n`` distinct candidates in seeded order, spreading colours, shapes and backgrounds evenly.

    A shuffled pass takes a candidate only while none of its three attributes is above its fair
    share; any shortfall is then filled from the remaining candidates in the same order.
    """
    if n > len(candidates):
        raise ValueError(f"asked for {n} contents but only {len(candidates)} are available")
    order = [candidates[i] for i in rng.permutation(len(candidates))]
    caps = {
        "colour": math.ceil(n / len(COLOURS)),
        "shape": math.ceil(n / len(SHAPES)),
        "background": math.ceil(n / len(BACKGROUNDS)),
    }
    counts = {attribute: Counter() for attribute in caps}
    chosen: list[Content] = []
    for content in order:
        if len(chosen) == n:
            break
        if all(counts[a][getattr(content, a)] < cap for a, cap in caps.items()):
            chosen.append(content)
            for attribute in caps:
                counts[attribute][getattr(content, attribute)] += 1
    chosen += [c for c in order if c not in chosen][: n - len(chosen)]
    return chosen


def training_contents(motion: str, n_videos: int, seed: int) -> list[Content]:
    """The distinct contents of ``motion``'s training videos, attributes spread evenly."""
    return _balanced_pick(all_contents(), n_videos, _rng(seed, _TRAINING, MOTIONS.index(motion)))


def evaluation_prompts(
    motion: str, n_prompts: int, seed: int, training: Sequence[Content]
) -> list[str]:
    """``n_prompts`` distinct captions (:func:`~lamp.mini.scenes.motion_caption`) whose content never
    appears in ``training``.

    A motion the mini world does not render (a user's own, trained on the mini base) gets captions
    of the mini world's contents too, from a stream of its own name.
    """
    seen = set(training)
    unseen = [c for c in all_contents() if c not in seen]
    stream = MOTIONS.index(motion) if motion in MOTIONS else len(MOTIONS) + zlib.crc32(motion.encode())
    picked = _balanced_pick(unseen, n_prompts, _rng(seed, _EVALUATION, stream))
    return [motion_caption(content, motion) for content in picked]


def _attributes(content: Content) -> list[str]:
    """``[colour, shape, background]`` of ``content``, as table columns."""
    return [content.colour, content.shape, content.background]


def _write_csv(path: Path, table: pd.DataFrame) -> None:
    """Write ``table`` as a CSV with fixed line endings, atomically."""
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False, lineterminator="\n")


def write_motion_dataset(
    out_dir: str | os.PathLike,
    motions: Sequence[str] = MOTIONS,
    videos_per_motion: int = 12,
    n_frames: int = 24,
    height: int = 72,
    width: int = 96,
    fps: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Render and write ``out_dir/<motion>/<motion>_<i:02d>.mp4`` for every motion.

    Returns one row per video: ``motion, path, caption, colour, shape, background, seed``, where
    ``path`` is ``out_dir`` joined with the file's relative path (so it is relative exactly when
    ``out_dir`` is) and ``seed`` is the :class:`VideoSpec` seed that reproduces the frames.
    """
    rows = []
    for motion in motions:
        for i, content in enumerate(training_contents(motion, videos_per_motion, seed)):
            spec = VideoSpec(
                motion=motion,
                content=content,
                seed=derived_seed(seed, _VIDEO, MOTIONS.index(motion), i),
                n_frames=n_frames,
                height=height,
                width=width,
                fps=fps,
            )
            path = Path(out_dir) / motion / f"{motion}_{i:02d}.mp4"
            write_video(path, render_video(spec), fps)
            rows.append([motion, path.as_posix(), motion_caption(content, motion), *_attributes(content), spec.seed])
    return pd.DataFrame(rows, columns=_VIDEO_COLUMNS)


def still_contents(n_images: int, seed: int) -> list[Content]:
    """Contents of ``n_images`` stills: shuffled rounds over all combinations, so each appears
    equally often, give or take one."""
    combinations = all_contents()
    contents: list[Content] = []
    for round_index in range(math.ceil(n_images / len(combinations))):
        order = _rng(seed, _STILL_ORDER, round_index).permutation(len(combinations))
        contents += [combinations[i] for i in order]
    return contents[:n_images]


def write_still_dataset(
    out_dir: str | os.PathLike, n_images: int, height: int = 64, width: int = 64, seed: int = 0
) -> pd.DataFrame:
    """Write ``out_dir/<i:05d>.png`` stills and ``out_dir/captions.csv``; return the caption table.

    The table has columns ``file_name, caption, colour, shape, background``; ``file_name`` is
    relative to ``out_dir``. Every (colour, shape, background) combination appears about evenly.
    """
    out = Path(out_dir)
    rows = []
    for i, content in enumerate(still_contents(n_images, seed)):
        file_name = f"{i:05d}.png"
        pixels = render_still(content, height, width, derived_seed(seed, _STILL, i))
        with atomic_path(out / file_name) as temporary:
            Image.fromarray(pixels).save(temporary, format="PNG")
        rows.append([file_name, content.caption, *_attributes(content)])
    table = pd.DataFrame(rows, columns=_STILL_COLUMNS)
    _write_csv(out / "captions.csv", table)
    return table


def eval_prompt_table(
    motions: Sequence[str],
    training_by_motion: Mapping[str, Sequence[Content]],
    n_prompts: int = 6,
    seed: int = 0,
) -> pd.DataFrame:
    """``motion,prompt`` rows: ``n_prompts`` unseen-content prompts per motion."""
    rows = [
        [motion, prompt]
        for motion in motions
        for prompt in evaluation_prompts(motion, n_prompts, seed, training_by_motion[motion])
    ]
    return pd.DataFrame(rows, columns=["motion", "prompt"])


def write_eval_prompts(
    path: str | os.PathLike,
    motions: Sequence[str],
    training_by_motion: Mapping[str, Sequence[Content]],
    n_prompts: int = 6,
    seed: int = 0,
) -> pd.DataFrame:
    """Write :func:`eval_prompt_table` as a CSV; return it."""
    table = eval_prompt_table(motions, training_by_motion, n_prompts, seed)
    _write_csv(Path(path), table)
    return table
