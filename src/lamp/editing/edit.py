"""A whole video edit (paper Sec. 5.2): tune on the source, invert it, redraw frame 1, sample the new prompt."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import PIL.Image
import torch

from lamp.editing.first_frame import FirstFrameDrawer
from lamp.editing.inversion import ddim_invert
from lamp.editing.settings import SamplingSettings
from lamp.editing.source import SourceClip
from lamp.editing.tuning import clean_latents, encode_source, tune_on_source
from lamp.sampling.pipeline import LAMPPipeline, LAMPPipelineOutput
from lamp.training import TrainConfig, TrainingCallback, TrainResult


@dataclass(eq=False)
class EditResult:
    """What :func:`edit_video` made.

    Attributes:
        frames: uint8 ``(f, h, w, 3)``, the source clip's count and size; frame 1 is the edited first frame.
        latents: the final latents ``(1, c, f, h, w)``.
        first_frame: the edited first frame, at the clip's size.
        inverted_latents: the DDIM-inverted source latents the sampling started from.
        training: the tuning run on the source clip.
    """

    frames: np.ndarray
    latents: torch.Tensor
    first_frame: PIL.Image.Image
    inverted_latents: torch.Tensor
    training: TrainResult


def invert_source(pipe: LAMPPipeline, latents: Mapping[str, torch.Tensor], num_inference_steps: int) -> torch.Tensor:
    """The source clip's latents DDIM-inverted with the empty prompt, as the paper does (no guidance)."""
    return ddim_invert(pipe, clean_latents(latents, pipe.vae.config.scaling_factor), "", num_inference_steps)


def sample_edit(
    pipe: LAMPPipeline,
    prompt: str,
    first_frame: PIL.Image.Image,
    inverted_latents: torch.Tensor,
    settings: SamplingSettings,
) -> LAMPPipelineOutput:
    """``prompt`` sampled from ``inverted_latents``, frame 1 held at ``first_frame``; the clip's count and size."""
    height, width = (side * pipe.vae_scale_factor for side in inverted_latents.shape[-2:])
    return pipe(
        prompt,
        first_frame=first_frame,
        num_frames=inverted_latents.shape[2],
        height=height,
        width=width,
        num_inference_steps=settings.num_inference_steps,
        guidance_scale=settings.guidance_scale,
        shared_noise_alpha=None,
        adain_in_loop=settings.adain_in_loop,
        adain_after=settings.adain_after,
        histogram_matching=settings.histogram_matching,
        generator=settings.generator(),
        initial_noise=inverted_latents,
    )


def side_by_side(source: np.ndarray, edited: np.ndarray) -> np.ndarray:
    """uint8 ``(f, h, 2w, 3)``: each source frame with its edited frame on the right."""
    return np.concatenate([source, edited], axis=2)


def edit_video(
    pipe: LAMPPipeline,
    source: SourceClip,
    prompt: str,
    tune: TrainConfig,
    sampling: SamplingSettings,
    model_dir: str | os.PathLike,
    source_prompt: str = "",
    first_frame: PIL.Image.Image | None = None,
    draw_first_frame: FirstFrameDrawer | None = None,
    callbacks: Sequence[TrainingCallback] = (),
) -> EditResult:
    """Edit ``source`` into ``prompt`` keeping its motion; ``pipe.unet`` (fresh motion layers) is tuned in place.

    1. tune the motion layers on the source clip (:func:`tune_on_source`; weights to ``model_dir``);
    2. DDIM-invert the clip's latents with the empty prompt (:func:`invert_source`);
    3. frame 1: ``first_frame``, else ``draw_first_frame`` redraws the source's first frame;
    4. sample ``prompt`` from the inverted latents with frame 1 held clean (:func:`sample_edit`).

    ``first_frame`` must already be at the clip's size (:func:`lamp.editing.read_first_frame`).
    """
    if first_frame is None and draw_first_frame is None:
        raise ValueError("give a first_frame, or a draw_first_frame to redraw the source's first frame")
    latents = encode_source(pipe.vae, source.frames)
    training = tune_on_source(pipe, latents, source_prompt, tune, model_dir, callbacks)
    inverted = invert_source(pipe, latents, sampling.num_inference_steps)
    if first_frame is None:
        first_frame = draw_first_frame(source.frames[0], prompt, sampling.generator())
    out = sample_edit(pipe, prompt, first_frame, inverted, sampling)
    return EditResult(out.frames, out.latents, first_frame, inverted, training)
