"""Tuning LAMP on the one source video of an edit, so the model learns exactly that video's motion."""

from __future__ import annotations

import os
import tempfile
from typing import Mapping, Sequence

import numpy as np
import torch
from diffusers import AutoencoderKL, DDPMScheduler

from lamp.data.latents import encode_clips, encode_prompts, latent_key
from lamp.sampling.pipeline import LAMPPipeline
from lamp.training import TrainConfig, TrainingCallback, TrainResult, train_motion

#: The video id of the source clip in its latents.
SOURCE = "source"


def encode_source(vae: AutoencoderKL, frames: np.ndarray) -> dict[str, torch.Tensor]:
    """The VAE posterior (mean, log-variance) of every frame of the clip, keyed as training reads it."""
    return encode_clips(vae, {SOURCE: frames}, flip=False)


def clean_latents(latents: Mapping[str, torch.Tensor], scaling_factor: float) -> torch.Tensor:
    """``(1, c, f, h, w)``: the posterior means, scaled; the mean, not a draw, so inversion is repeatable."""
    return (latents[latent_key(SOURCE, False, "mean")] * scaling_factor).permute(1, 0, 2, 3)[None]


def tune_on_source(
    pipe: LAMPPipeline,
    latents: Mapping[str, torch.Tensor],
    source_prompt: str,
    config: TrainConfig,
    model_dir: str | os.PathLike,
    callbacks: Sequence[TrainingCallback] = (),
) -> TrainResult:
    """Train ``pipe.unet``'s motion layers on the source clip (paper Eq. 4); the weights go to ``model_dir``.

    The objective is the motion sets' (:func:`lamp.training.train_motion`), conditioned on
    ``source_prompt``; the UNet is left in eval mode for inversion and sampling.
    """
    text = encode_prompts(pipe.tokenizer, pipe.text_encoder, {"prompt": source_prompt})
    scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    with tempfile.TemporaryDirectory() as checkpoints:
        result = train_motion(
            pipe.unet, latents, text, scheduler, pipe.vae.config.scaling_factor, config, model_dir, callbacks, checkpoints
        )
    pipe.unet.eval()
    return result
