"""Cached VAE latent distributions and text embeddings, so training needs neither the VAE nor the text encoder."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import torch
from diffusers import AutoencoderKL
from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution
from tqdm.auto import tqdm
from transformers import CLIPTextModel, CLIPTokenizer

FLIP = "flip"


def latent_key(video: str, flipped: bool, part: str) -> str:
    """Key of one tensor in the latents file: ``<video>.mean``, ``<video>.flip.logvar``, ..."""
    return f"{video}.{FLIP}.{part}" if flipped else f"{video}.{part}"


def frames_to_pixels(frames: np.ndarray) -> torch.Tensor:
    """uint8 ``(T, H, W, 3)`` frames -> float ``(T, 3, H, W)`` in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


@torch.no_grad()
def encode_frames(vae: AutoencoderKL, frames: np.ndarray, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and log-variance ``(T, C, h, w)`` of the VAE posterior of each frame, ``batch_size`` frames a call."""
    means, logvars = [], []
    for chunk in frames_to_pixels(frames).split(batch_size):
        posterior = vae.encode(chunk.to(vae.device, vae.dtype)).latent_dist
        means.append(posterior.mean.float().cpu())
        logvars.append(posterior.logvar.float().cpu())
    return torch.cat(means).contiguous(), torch.cat(logvars).contiguous()


def encode_clips(
    vae: AutoencoderKL, clips: Mapping[str, np.ndarray], batch_size: int = 16, flip: bool = True
) -> dict[str, torch.Tensor]:
    """Posterior mean/log-variance of every frame of every clip, and of its mirror image when ``flip``.

    Flipped frames are encoded rather than flipping latents: the VAE is not equivariant to flips.
    """
    tensors = {}
    jobs = [(video, mirrored) for video in clips for mirrored in ((False, True) if flip else (False,))]
    for video, mirrored in tqdm(jobs, desc="encode"):
        frames = clips[video][:, :, ::-1] if mirrored else clips[video]
        mean, logvar = encode_frames(vae, frames, batch_size)
        tensors[latent_key(video, mirrored, "mean")] = mean
        tensors[latent_key(video, mirrored, "logvar")] = logvar
    return tensors


def cached_videos(latents: Mapping[str, torch.Tensor]) -> list[str]:
    """The video ids of a latents file, in order."""
    return sorted({key.split(".")[0] for key in latents})


def sample_latents(
    latents: Mapping[str, torch.Tensor], video: str, frames: Sequence[int] | slice, flipped: bool, generator: torch.Generator
) -> torch.Tensor:
    """A fresh latent draw of ``frames`` of ``video``: what ``latent_dist.sample()`` gives when encoding on the fly."""
    mean = latents[latent_key(video, flipped, "mean")][frames]
    logvar = latents[latent_key(video, flipped, "logvar")][frames]
    parameters = torch.cat([mean, logvar], dim=1)
    return DiagonalGaussianDistribution(parameters).sample(generator=generator)


@torch.no_grad()
def encode_prompts(
    tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel, prompts: Mapping[str, str]
) -> dict[str, torch.Tensor]:
    """Text-encoder hidden states ``(1, tokens, dim)`` per named prompt, as the SD pipelines compute them."""
    names: Iterable[str] = list(prompts)
    ids = tokenizer(
        [prompts[n] for n in names],
        padding="max_length",
        max_length=tokenizer.model_max_length,
        truncation=True,
        return_tensors="pt",
    ).input_ids
    hidden = text_encoder(ids.to(text_encoder.device))[0].float().cpu()
    return {name: hidden[i : i + 1].contiguous() for i, name in enumerate(names)}
