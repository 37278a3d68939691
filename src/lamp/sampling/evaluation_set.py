"""The evaluation set: one video per (motion, prompt), each animating a first frame drawn once per prompt."""

from __future__ import annotations

import time
import zlib
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import pandas as pd
import PIL.Image
import torch
from diffusers import DiffusionPipeline
from tqdm.auto import tqdm

from lamp.data import resize_frames
from lamp.models.files import MotionModel
from lamp.profiles import PretrainedModel
from lamp.sampling.pipeline import LAMPPipeline
from lamp.sampling.settings import FirstFrameSettings, GenerationSettings

DTYPES = {"no": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def video_seed(seed: int, video_id: str) -> int:
    """A seed per video, stable across runs and independent of the other videos of the set."""
    return (seed * 1_000_003 + zlib.crc32(video_id.encode())) % 2**32


def load_first_frame_pipeline(model: PretrainedModel, device: torch.device | str = "cpu",
                              dtype: torch.dtype = torch.float32) -> DiffusionPipeline:
    """The text-to-image pipeline in ``model`` (its class read from ``model_index.json``: SD-XL, SD v1, ...)."""
    pipe = DiffusionPipeline.from_pretrained(model.location, revision=model.revision, torch_dtype=dtype)  # its VAE stays float32 where needed
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def draw_first_frame(
    pipe: DiffusionPipeline, prompt: str, settings: FirstFrameSettings, height: int, width: int, seed: int
) -> PIL.Image.Image:
    """Frame 1 of a video: ``prompt`` drawn by the text-to-image ``pipe`` from ``seed``, at the video size.

    Drawn at ``settings``' size (None: the video's), then resized, centre-cropping another aspect.
    The evaluation set, the ablation and ``lamp generate`` all draw frame 1 here, so one seed gives one frame.
    """
    image = pipe(
        prompt,
        height=settings.height or height,
        width=settings.width or width,
        num_inference_steps=settings.num_inference_steps,
        guidance_scale=settings.guidance_scale,
        generator=torch.Generator().manual_seed(seed),
    ).images[0]
    return at_size(image, height, width)


def draw_first_frames(
    pipe: DiffusionPipeline, prompts: pd.DataFrame, settings: FirstFrameSettings, height: int, width: int, seed: int
) -> Iterator[tuple[str, PIL.Image.Image]]:
    """``(video_id, image)`` for each prompt row, from the video's own seed (:func:`video_seed` of ``seed``)."""
    for row in tqdm(prompts.itertuples(), total=len(prompts), desc="first frames"):
        yield row.video_id, draw_first_frame(pipe, row.prompt, settings, height, width, video_seed(seed, row.video_id))


def at_size(image: PIL.Image.Image, height: int, width: int) -> PIL.Image.Image:
    """``image`` resized to ``height`` x ``width`` (scaling its short side, centre-cropping the rest)."""
    if image.size == (width, height):
        return image
    return PIL.Image.fromarray(resize_frames(np.asarray(image.convert("RGB"))[None], height, width, "crop")[0])


def generate_video(
    pipe: LAMPPipeline, prompt: str, first_frame: PIL.Image.Image | np.ndarray, settings: GenerationSettings, seed: int
) -> np.ndarray:
    """uint8 frames ``(f, h, w, 3)`` of one video from ``seed``; the same inputs give the same bytes on a CPU."""
    generator = torch.Generator().manual_seed(seed)
    return pipe(prompt, first_frame=first_frame, generator=generator, **settings.pipeline_arguments()).frames


def motion_pipelines(
    models: Mapping[str, MotionModel], video_base: PretrainedModel, device: torch.device | str, dtype: torch.dtype
) -> Iterator[tuple[str, LAMPPipeline]]:
    """Each motion's :class:`LAMPPipeline` in turn, the base's VAE and text encoder loaded once."""
    base, revision = video_base.location, video_base.revision
    pipe = None
    for motion, model in models.items():
        if pipe is None:
            pipe = LAMPPipeline.from_motion(base, model.directory, revision).to(device)
            if dtype != torch.float32:
                pipe.to(dtype=dtype)
        else:
            pipe = pipe.with_motion(model.directory, base, revision)
        pipe.set_progress_bar_config(leave=False, desc=motion)
        yield motion, pipe


def evaluation_videos(
    prompts: pd.DataFrame,
    first_frames: Mapping[str, Callable[[], PIL.Image.Image]],
    models: Mapping[str, MotionModel],
    video_base: PretrainedModel,
    settings: GenerationSettings,
    device: torch.device | str,
    dtype: torch.dtype,
) -> Iterator[tuple[Any, np.ndarray, int, float]]:
    """``(row, frames, seed, seconds)`` of each row of ``prompts`` (``video_id``, ``motion``, ``prompt``), motion
    by motion (each motion's pipeline loaded once): frame 1 from ``first_frames``, noise from the video's seed."""
    by_motion = rows_by_motion(prompts)
    for motion, pipe in motion_pipelines({m: models[m] for m in by_motion}, video_base, device, dtype):
        for row in by_motion[motion]:
            start = time.perf_counter()
            seed = video_seed(settings.seed, row.video_id)
            frames = generate_video(pipe, row.prompt, first_frames[row.video_id](), settings, seed)
            yield row, frames, seed, time.perf_counter() - start


def rows_by_motion(prompts: pd.DataFrame) -> dict[str, list[Any]]:
    """The rows of ``prompts`` (named tuples) per motion, motions in their first appearance's order: the order
    :func:`evaluation_videos` makes videos in, one process or many."""
    return {motion: list(prompts[prompts.motion == motion].itertuples()) for motion in dict.fromkeys(prompts.motion)}
