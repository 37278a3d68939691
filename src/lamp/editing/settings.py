"""The settings of a video edit (``params.yaml: edit``): how it is tuned, sampled and its frame 1 redrawn.

Kept apart from the code that uses them, and importing no torch or diffusers, because every
``kedro run`` checks all parameters by building these settings (:mod:`lamp.parameters`), even a
stage that edits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from lamp.params import at_least, from_params
from lamp.training.config import TrainConfig

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class SamplingSettings:
    """How the edit is sampled from the inverted latents (:meth:`LAMPPipeline.__call__` arguments).

    ``num_inference_steps`` serves inversion and sampling alike: sampling must retrace the inverted
    steps. Shared noise (Eq. 6) has no place here, the starting noise being the inverted latents.
    """

    num_inference_steps: int = 50
    guidance_scale: float = 12.5
    adain_in_loop: bool = True
    adain_after: bool = True
    histogram_matching: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        at_least("num_inference_steps", self.num_inference_steps, 1)
        at_least("guidance_scale", self.guidance_scale, 0)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> SamplingSettings:
        return from_params(cls, values, "edit.sampling settings")

    def generator(self) -> torch.Generator:
        """A fresh CPU generator seeded with ``seed``: the same inputs give the same edit."""
        import torch  # here, not above: the parameter checks build these settings and must not import torch

        return torch.Generator().manual_seed(self.seed)


@dataclass(frozen=True)
class Img2ImgSettings:
    """The mini profile's image-to-image pass; ``strength`` is how much of the source frame is redrawn."""

    strength: float = 0.6
    num_inference_steps: int = 25
    guidance_scale: float = 5.0

    def __post_init__(self) -> None:
        if not 0 < self.strength <= 1:
            raise ValueError(f"strength must be in (0, 1], got {self.strength!r}")
        at_least("num_inference_steps", self.num_inference_steps, 1)
        at_least("guidance_scale", self.guidance_scale, 0)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> Img2ImgSettings:
        return from_params(cls, values, "edit.img2img settings")


@dataclass(frozen=True)
class ControlNetSettings:
    """The full profile's canny ControlNet on SD-XL.

    ``upscale``: SD-XL draws poorly much below its native 1024 pixels, so it draws at this multiple
    of the video size (2: 640 x 1024 for 320 x 512) and the result is resized back.
    """

    model: str = "diffusers/controlnet-canny-sdxl-1.0"
    revision: str | None = None
    low_threshold: int = 100
    high_threshold: int = 200
    conditioning_scale: float = 0.5
    num_inference_steps: int = 50
    guidance_scale: float = 7.5
    upscale: int = 2

    def __post_init__(self) -> None:
        if not 0 <= self.low_threshold <= self.high_threshold <= 255:
            raise ValueError(f"the canny thresholds must satisfy 0 <= low_threshold <= high_threshold <= 255, "
                             f"got {self.low_threshold!r} and {self.high_threshold!r}")
        at_least("conditioning_scale", self.conditioning_scale, 0)
        at_least("num_inference_steps", self.num_inference_steps, 1)
        at_least("guidance_scale", self.guidance_scale, 0)
        at_least("upscale", self.upscale, 1)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> ControlNetSettings:
        return from_params(cls, values, "edit.controlnet settings")


def tune_config(train: Mapping[str, Any], n_frames: int) -> TrainConfig:
    """The settings of tuning on one clip: ``train`` (``TrainConfig`` keys) on the whole clip, never mirrored.

    The clip is already the strided frames being edited, so every step trains on all of it (stride 1,
    one start); mirroring would also teach the mirrored motion, which the edit must not take.
    ``max_train_steps`` defaults to the authors' 500 for editing. The run is short and writes no checkpoint (checkpointing_steps past the last step), so a rerun on
    another video can never resume from this one.
    """
    settings = {"max_train_steps": 500, **train}
    return TrainConfig.from_dict(
        {
            **settings,
            "n_sample_frames": n_frames,
            "sample_frame_rate": 1,
            "random_flip": False,
            "checkpointing_steps": settings["max_train_steps"] + 1,
        }
    )
