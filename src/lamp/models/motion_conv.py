"""The temporal-spatial motion learning layer (LAMP Sec. 3.4) on a spatial convolution."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lamp.models.config import ConvMode
from lamp.models.frames import FrameContext

#: Frames padded before/after the sequence for each conv mode (kernel 3).
_TEMPORAL_PADDING = {"prediction": (2, 0), "vanilla": (1, 1)}


class MotionConv2d(nn.Conv2d):
    """A spatial conv plus a gated 1D conv over frames: ``y = y2d + sigmoid(gate(y2d)) * conv1d(y2d)``.

    It subclasses ``nn.Conv2d`` and shares the image conv's weight and bias, so the base model's
    parameter names (``...conv1.weight``) are unchanged and the new parameters sit beside them as
    ``conv1d`` and ``conv_gate``, the names of the authors' code. diffusers has no motion-layer conv
    to reuse: its AnimateDiff motion modules are attention-only.

    In ``prediction`` mode the frame axis is padded by two frames in front only, so the output at
    frame f is computed from frames f-2, f-1, f (the authors' code pads both sides and drops the last
    two outputs, which is the same function). ``vanilla`` pads one frame on each side.

    The 1D conv and the gate start at zero, as in the paper and in the authors' constructor (which
    zeroes every ``Conv1d``): the gate is then sigmoid(0) = 0.5 and the motion branch adds nothing.
    """

    def __init__(
        self,
        conv: nn.Conv2d,
        frames: FrameContext,
        mode: ConvMode = "prediction",
    ) -> None:
        super().__init__(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=conv.groups,
            bias=conv.bias is not None,
            padding_mode=conv.padding_mode,
            device="meta",
        )
        self.weight = conv.weight
        self.bias = conv.bias
        factory = {"device": conv.weight.device, "dtype": conv.weight.dtype}
        channels = conv.out_channels
        self.conv1d = nn.Conv1d(channels, channels, kernel_size=3, **factory)
        self.conv_gate = nn.Conv2d(channels, 1, kernel_size=3, padding=1, **factory)
        self.frames = frames
        self.mode = mode
        for param in (*self.conv1d.parameters(), *self.conv_gate.parameters()):
            nn.init.zeros_(param)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y2d = super().forward(x)
        gate = torch.sigmoid(self.conv_gate(y2d))
        return y2d + gate * self.temporal(y2d)

    def temporal(self, y2d: torch.Tensor) -> torch.Tensor:
        """The 1D conv over the frame axis at every pixel, shaped like its input."""
        batch, frames = self.frames.split(y2d.shape[0])
        _, channels, height, width = y2d.shape
        per_pixel = (
            y2d.view(batch, frames, channels, height, width)
            .permute(0, 3, 4, 2, 1)
            .reshape(batch * height * width, channels, frames)
        )
        out = self.conv1d(F.pad(per_pixel, _TEMPORAL_PADDING[self.mode]))
        return (
            out.view(batch, height, width, channels, frames)
            .permute(0, 4, 3, 1, 2)
            .reshape(batch * frames, channels, height, width)
        )

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, mode={self.mode}"
