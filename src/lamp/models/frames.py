"""Shared frame count of a video forward pass."""

from __future__ import annotations


class FrameContext:
    """The number of frames folded into the batch axis of the current forward pass.

    diffusers' UNet blocks only see ``(batch * frames, channels, height, width)`` tensors and pass no
    extra arguments to convolutions, so the layers LAMP adds read the frame count from this object,
    which :class:`~lamp.models.video_unet.LAMPVideoUNet` sets at the start of every forward pass.
    The value is kept after the pass on purpose: gradient checkpointing re-runs the layers during
    the backward pass, which must see the frame count of the forward pass it belongs to.
    """

    def __init__(self) -> None:
        self.num_frames = 1

    def split(self, batch_frames: int) -> tuple[int, int]:
        """Return ``(batch, frames)`` for a tensor whose first axis is ``batch * frames``."""
        frames = self.num_frames
        if batch_frames % frames:
            raise ValueError(
                f"a batch axis of {batch_frames} cannot hold whole videos of {frames} frames"
            )
        return batch_frames // frames, frames
