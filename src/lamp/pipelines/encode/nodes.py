"""Nodes of the ``encode`` pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from diffusers import AutoencoderKL
from transformers import CLIPTextModel, CLIPTokenizer

from lamp.data.latents import encode_clips, encode_prompts
from lamp.profiles import Profile


def encode_latents(
    clips: dict[str, np.ndarray], active_profile: dict[str, Any], data: dict[str, Any], encode: dict[str, Any]
) -> dict[str, torch.Tensor]:
    """The VAE posterior (mean, log-variance) of every frame, plus mirrored frames when ``data.flip``."""
    profile = Profile.from_active(active_profile)
    vae = profile.base_component(AutoencoderKL, "vae").eval()
    vae.enable_slicing()
    return encode_clips(vae, clips, batch_size=encode["batch_size"], flip=data["flip"])


def encode_text(ingest_summary: dict[str, Any], active_profile: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Hidden states of the motion prompt and of the empty prompt (for classifier-free guidance)."""
    profile = Profile.from_active(active_profile)
    tokenizer = profile.base_component(CLIPTokenizer, "tokenizer")
    text_encoder = profile.base_component(CLIPTextModel, "text_encoder").eval()
    return encode_prompts(tokenizer, text_encoder, {"prompt": ingest_summary["prompt"], "empty": ""})
