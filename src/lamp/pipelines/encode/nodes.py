"""Nodes of the ``encode`` pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from diffusers import AutoencoderKL
from transformers import CLIPTextModel, CLIPTokenizer

from lamp.data.latents import encode_clips, encode_prompts
from lamp.profiles import PretrainedModel


def encode_latents(
    clips: dict[str, np.ndarray], video_base: PretrainedModel, data: dict[str, Any], encode: dict[str, Any]
) -> dict[str, torch.Tensor]:
    """The base's VAE posterior (mean, log-variance) of every frame, plus mirrored frames when ``data.flip``."""
    vae = video_base.component(AutoencoderKL, "vae").eval()
    vae.enable_slicing()
    return encode_clips(vae, clips, batch_size=encode["batch_size"], flip=data["flip"])


def encode_text(ingest_summary: dict[str, Any], video_base: PretrainedModel) -> dict[str, torch.Tensor]:
    """The base's text-encoder states of the motion prompt and of the empty prompt (for classifier-free guidance)."""
    tokenizer = video_base.component(CLIPTokenizer, "tokenizer")
    text_encoder = video_base.component(CLIPTextModel, "text_encoder").eval()
    return encode_prompts(tokenizer, text_encoder, {"prompt": ingest_summary["prompt"], "empty": ""})
