"""A tiny LAMP pipeline (random weights, CPU) and tiny source videos for the editing tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, UNet2DConditionModel

from lamp.data import write_video
from lamp.mini.base_models import build_text_encoder, build_tokenizer, build_vae, sd_scheduler
from lamp.mini.settings import MiniBaseConfig
from lamp.models import LAMPVideoUNet, tiny_unet_config
from lamp.sampling import LAMPPipeline

CONFIG = MiniBaseConfig(image_size=32, vae_channels=(16, 16), latent_channels=4, text_width=32, text_layers=1,
                        text_heads=2, max_tokens=8)


def tiny_pipeline(output_scale: float = 1.0) -> LAMPPipeline:
    """A LAMP pipeline of tiny random models; ``output_scale`` damps the UNet's noise prediction."""
    torch.manual_seed(0)
    tokenizer = build_tokenizer(CONFIG)
    unet = LAMPVideoUNet(UNet2DConditionModel(**tiny_unet_config(cross_attention_dim=32, sample_size=16))).eval()
    with torch.no_grad():
        for _, p in unet.trainable_named_parameters():  # trained-looking motion layers
            p.add_(torch.randn_like(p) * 0.02)
        for p in unet.unet.conv_out.parameters():
            p.mul_(output_scale)
    pipe = LAMPPipeline(
        vae=build_vae(CONFIG).eval(),
        text_encoder=build_text_encoder(CONFIG, tokenizer).eval(),
        tokenizer=tokenizer,
        unet=unet,
        scheduler=DDIMScheduler.from_config(sd_scheduler().config),
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def moving_square(n_frames: int, height: int, width: int) -> np.ndarray:
    """uint8 frames: a white square moving right on a blue background."""
    frames = np.zeros((n_frames, height, width, 3), np.uint8)
    frames[..., 2] = 160
    for f in range(n_frames):
        frames[f, height // 3 : height // 3 + 8, 2 + 3 * f : 10 + 3 * f] = 255
    return frames


def write_source_video(path: Path, n_frames: int = 9, height: int = 32, width: int = 32) -> Path:
    return write_video(path, moving_square(n_frames, height, width), fps=8)


@pytest.fixture
def pipe() -> LAMPPipeline:
    return tiny_pipeline()
