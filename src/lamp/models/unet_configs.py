"""UNet configurations written in code: SD v1.4's, and tiny ones for tests and the mini profile."""

from __future__ import annotations

from typing import Any

#: ``unet/config.json`` of CompVis/stable-diffusion-v1-4 (architecture keys only).
SD14_UNET_CONFIG: dict[str, Any] = {
    "act_fn": "silu",
    "attention_head_dim": 8,
    "block_out_channels": (320, 640, 1280, 1280),
    "center_input_sample": False,
    "cross_attention_dim": 768,
    "down_block_types": (
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "DownBlock2D",
    ),
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 4,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
    "sample_size": 64,
    "up_block_types": (
        "UpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
    ),
}


def tiny_unet_config(
    channels: tuple[int, ...] = (32, 64),
    cross_attention_dim: int = 32,
    sample_size: int = 16,
    attention_head_dim: int = 8,
    norm_num_groups: int = 8,
    layers_per_block: int = 1,
) -> dict[str, Any]:
    """An SD v1.x-shaped UNet config small enough for CPU tests: cross-attention blocks but the last."""
    levels = len(channels)
    return {
        **SD14_UNET_CONFIG,
        "block_out_channels": tuple(channels),
        "cross_attention_dim": cross_attention_dim,
        "sample_size": sample_size,
        "attention_head_dim": attention_head_dim,
        "norm_num_groups": norm_num_groups,
        "layers_per_block": layers_per_block,
        "down_block_types": ("CrossAttnDownBlock2D",) * (levels - 1) + ("DownBlock2D",),
        "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * (levels - 1),
    }
