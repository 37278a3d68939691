"""How the evaluation set is sampled (``params.yaml: generate``): its videos and their first frames.

Kept apart from the code that samples, and importing no torch or diffusers, because every
``kedro run`` checks all parameters by building these settings (:mod:`lamp.parameters`), even a
stage that samples nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from lamp.params import at_least, from_params, positive

if TYPE_CHECKING:
    from lamp.profiles import Profile

#: Keys of ``params.yaml: generate`` that choose what to generate and how to load, not how to sample.
RUN_LEVEL_KEYS = ("motions", "first_frame", "mixed_precision", "processes")


@dataclass(frozen=True)
class GenerationSettings:
    """How every video of a run is sampled (:meth:`LAMPPipeline.__call__` arguments, the paper's defaults).

    ``shared_noise_alpha: null`` switches shared-noise sampling off; ``seed`` is combined with each
    video's id (:func:`~lamp.sampling.evaluation_set.video_seed`) so a video keeps its noise when
    prompts are added or removed; that video seed draws both its frame 1 and its noise.
    """

    num_frames: int = 16
    height: int = 320
    width: int = 512
    num_inference_steps: int = 50
    guidance_scale: float = 12.5
    negative_prompt: str = ""
    shared_noise_alpha: float | None = 0.2
    adain_in_loop: bool = True
    adain_after: bool = True
    histogram_matching: bool = True
    first_frame_conditioning: bool = True
    seed: int = 0
    fps: float = 8.0

    def __post_init__(self) -> None:
        at_least("num_frames", self.num_frames, 2 if self.first_frame_conditioning else 1)
        for name in ("height", "width", "num_inference_steps"):
            at_least(name, getattr(self, name), 1)
        at_least("guidance_scale", self.guidance_scale, 0)
        positive("fps", self.fps)
        if self.shared_noise_alpha is not None and not 0 <= self.shared_noise_alpha <= 1:
            raise ValueError(f"shared_noise_alpha must be in [0, 1] or null, got {self.shared_noise_alpha!r}")

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None, **extra: Any) -> GenerationSettings:
        return from_params(cls, {**(values or {}), **extra}, "generation settings")

    @classmethod
    def for_profile(cls, generate: dict[str, Any], profile: Profile, **overrides: Any) -> GenerationSettings:
        """``params.yaml: generate`` without its run-level keys, the profile's frame count and size, ``overrides``."""
        values = {k: v for k, v in generate.items() if k not in RUN_LEVEL_KEYS}
        values |= {"num_frames": profile.n_frames, "height": profile.height, "width": profile.width}
        return cls.from_dict(values | overrides)

    def pipeline_arguments(self) -> dict[str, Any]:
        """The keyword arguments of :meth:`LAMPPipeline.__call__` (all but the seed and fps)."""
        return {k: v for k, v in asdict(self).items() if k not in ("seed", "fps")}


@dataclass(frozen=True)
class FirstFrameSettings:
    """How the text-to-image model draws frame 1 (full: SD-XL; mini: the mini text-to-image model).

    ``height``/``width`` None: the video size. SD-XL draws poorly far below its native 1024 pixels, so
    the full profile draws at 1024 x 640, as the authors' benchmark first frames were drawn, and
    :func:`~lamp.sampling.evaluation_set.draw_first_frame` resizes them to the video size
    (centre-cropping another aspect).
    """

    num_inference_steps: int = 50
    guidance_scale: float = 7.5
    height: int | None = None
    width: int | None = None

    def __post_init__(self) -> None:
        at_least("num_inference_steps", self.num_inference_steps, 1)
        at_least("guidance_scale", self.guidance_scale, 0)
        for name in ("height", "width"):
            if getattr(self, name) is not None:
                at_least(name, getattr(self, name), 8)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> FirstFrameSettings:
        return from_params(cls, values, "first-frame settings")

    @classmethod
    def for_profile(cls, generate: dict[str, Any], **overrides: Any) -> FirstFrameSettings:
        """``params.yaml: generate.first_frame`` (resolved for the profile), with ``overrides``."""
        return cls.from_dict({**(generate.get("first_frame") or {}), **overrides})
