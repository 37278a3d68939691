"""Checks of an inflated UNet against the image UNet it came from."""

from __future__ import annotations

import copy
from typing import Any

import torch
from diffusers import UNet2DConditionModel

from lamp.models.config import LAMPConfig
from lamp.models.video_unet import LAMPVideoUNet


@torch.no_grad()
def inflation_report(
    image_unet: UNet2DConditionModel,
    config: LAMPConfig,
    frames: int = 4,
    seed: int = 0,
    tolerance: float = 1e-5,
) -> dict[str, Any]:
    """Parameter counts and how far the untrained video UNet is from the image UNet, per frame.

    The paper zero-initialises every new layer so that, before training, the video UNet computes the
    image UNet on every frame (frame 1 only, when self-attention reads frame 1's keys and values).
    With ``group_norm: video`` that holds only where statistics pooled over frames are those of each
    frame, so the check then runs on one image repeated over the frames (``identical_frames``).
    """
    generator = torch.Generator().manual_seed(seed)
    cfg = image_unet.config
    size = min(cfg.sample_size, 8)
    sample = torch.randn(1, cfg.in_channels, frames, size, size, generator=generator)
    identical_frames = config.group_norm == "video"
    if identical_frames:
        sample = sample[:, :, :1].expand_as(sample).contiguous()
    text = torch.randn(1, 8, cfg.cross_attention_dim, generator=generator)
    timestep = torch.tensor(500)
    reference = torch.stack([image_unet(sample[:, :, f], timestep, text).sample for f in range(frames)], 2)

    video_unet = LAMPVideoUNet(copy.deepcopy(image_unet), config).eval()
    per_frame = (video_unet(sample, timestep, text) - reference).abs().amax(dim=(0, 1, 3, 4))
    counts = video_unet.parameter_counts()
    equals_image_model = bool(per_frame[0] <= tolerance) and (
        config.first_frame_attention or bool(per_frame.max() <= tolerance)
    )
    return {
        "lamp": config.to_dict(),
        "base_parameters": sum(p.numel() for p in image_unet.parameters()),
        "total_parameters": counts.total,
        "trainable_parameters": counts.trainable,
        "trainable_fraction": round(counts.trainable_fraction, 6),
        "max_abs_diff_per_frame": [float(d) for d in per_frame],
        "identical_frames": identical_frames,
        "tolerance": tolerance,
        "untrained_equals_image_model": equals_image_model,
    }
