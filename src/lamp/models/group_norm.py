"""GroupNorm whose statistics pool over all frames of a video, as the authors' model computes it."""

from __future__ import annotations

import torch
from torch import nn

from lamp.models.frames import FrameContext


class VideoGroupNorm(nn.GroupNorm):
    """A GroupNorm on ``(batch * frames, c, h, w)`` whose mean and variance span every frame of a video.

    The authors' resnets and ``conv_norm_out`` apply ``nn.GroupNorm`` to 5-D ``(b, c, f, h, w)``
    tensors, so each group's statistics pool over (channels of the group, frames, height, width);
    diffusers' UNet folds frames into the batch and normalises each frame alone. This subclass
    shares the image GroupNorm's weight and bias (parameter names unchanged) and runs the same
    ``nn.GroupNorm`` on the video laid out as the authors lay it out; the frame count comes from the
    model's :class:`~lamp.models.frames.FrameContext`.
    """

    def __init__(self, norm: nn.GroupNorm, frames: FrameContext) -> None:
        super().__init__(norm.num_groups, norm.num_channels, eps=norm.eps, affine=norm.affine, device="meta")
        self.weight = norm.weight
        self.bias = norm.bias
        self.frames = frames

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, frames = self.frames.split(x.shape[0])
        video = x.unflatten(0, (batch, frames)).transpose(1, 2)  # (b, c, f, h, w)
        return super().forward(video).transpose(1, 2).flatten(0, 1)
