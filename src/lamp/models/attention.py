"""Attention that LAMP changes or adds: first-frame self-attention and temporal attention."""

from __future__ import annotations

from typing import Any

import torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from einops import rearrange
from torch import nn

from lamp.models.config import MotionInit
from lamp.models.frames import FrameContext


class FirstFrameAttnProcessor:
    """Self-attention in which every frame's queries attend to frame 1's keys and values (Eq. 5).

    It wraps a diffusers processor (SDPA or xformers) instead of rewriting attention: the queries of
    all frames of one video are laid out as one long sequence and frame 1's tokens are passed as the
    ``encoder_hidden_states``, so keys and values are computed for frame 1 only and each query still
    attends independently, exactly as per-frame attention to frame 1 would.
    """

    def __init__(self, frames: FrameContext, inner: Any | None = None) -> None:
        self.frames = frames
        self.inner = inner if inner is not None else AttnProcessor2_0()

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        if encoder_hidden_states is not None or attention_mask is not None:
            raise ValueError(
                "FirstFrameAttnProcessor serves self-attention (attn1) without a mask only"
            )
        batch, frames = self.frames.split(hidden_states.shape[0])
        tokens, channels = hidden_states.shape[1:]
        video = hidden_states.reshape(batch, frames * tokens, channels)
        first_frame = hidden_states.view(batch, frames, tokens, channels)[:, 0]
        out = self.inner(attn, video, encoder_hidden_states=first_frame, **kwargs)
        return out.reshape(batch * frames, tokens, channels)


def temporal_attention(dim: int, heads: int, dim_head: int, init: MotionInit = "zero") -> Attention:
    """A diffusers ``Attention`` over the frame axis, its output projection's weight zero.

    ``init="zero"`` (the paper) zeroes the output bias too, so the layer adds nothing before training;
    ``"code"`` keeps PyTorch's default random bias, as the authors' constructor does
    (``nn.init.zeros_(attn_temp.to_out[0].weight)`` only).
    """
    attn = Attention(query_dim=dim, heads=heads, dim_head=dim_head, bias=False)
    nn.init.zeros_(attn.to_out[0].weight)
    if init == "zero":
        nn.init.zeros_(attn.to_out[0].bias)
    return attn


class TemporalAttentionHook:
    """Forward hook that applies a transformer block's temporal attention to the block's output.

    LAMP adds ``h = attn_temp(norm_temp(h)) + h`` over the frame axis after each transformer block's
    feed-forward. The two layers are attached to diffusers' ``BasicTransformerBlock`` itself as
    ``norm_temp`` and ``attn_temp`` (the authors' parameter names) and run by this hook, so the
    block's code and the base model's parameter names stay diffusers' own; gradient checkpointing,
    which calls the block, runs the hook inside the checkpoint.
    """

    def __init__(self, frames: FrameContext) -> None:
        self.frames = frames

    def __call__(self, block: nn.Module, args: Any, output: torch.Tensor) -> torch.Tensor:
        batch, frames = self.frames.split(output.shape[0])
        per_pixel = rearrange(output, "(b f) n c -> (b n) f c", f=frames)
        per_pixel = block.attn_temp(block.norm_temp(per_pixel)) + per_pixel
        return rearrange(per_pixel, "(b n) f c -> (b f) n c", b=batch)
