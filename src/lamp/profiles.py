"""The two profiles: ``full`` (the paper's models) and ``mini`` (small models the project trains itself)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from lamp.params import from_params


@dataclass(frozen=True)
class Profile:
    """The models and sizes one profile uses; every model is a hub id or a local diffusers folder.

    Attributes:
        name: ``"full"`` or ``"mini"``.
        height, width: frame size of training clips and generated videos (paper: 320 x 512).
        n_frames: frames per training clip and generated video (paper: 16).
        video_base_model: the image model inflated to video (full: SD v1.4), diffusers layout.
        video_base_revision: hub revision of ``video_base_model`` (None: the default branch).
        first_frame_model: the text-to-image model that makes frame 1 (full: SD-XL).
        clip_model: open_clip architecture name (full) or a local folder of the mini CLIP.
        clip_pretrained: open_clip weights tag for ``clip_model`` (None for a local folder).
        prompts_file: ``motion,prompt`` CSV of the evaluation set.
    """

    name: str
    height: int
    width: int
    n_frames: int
    video_base_model: str
    first_frame_model: str
    clip_model: str
    prompts_file: str
    video_base_revision: str | None = None
    clip_pretrained: str | None = None

    @classmethod
    def from_params(cls, name: str, values: Mapping[str, Any]) -> Profile:
        return from_params(cls, values, f"keys of profile {name!r}", name=name)


def active_profile(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of the profile that ``parameters['profile']`` selects, with its name, checked."""
    name = parameters.get("profile")
    profiles = parameters.get("profiles") or {}
    if name not in profiles:
        raise ValueError(
            f"params.yaml: profile is {name!r}, but profiles defines {sorted(profiles)}; "
            "set `profile:` to one of them"
        )
    Profile.from_params(name, profiles[name])
    return {"name": name, **profiles[name]}


def load_base_component(active_profile: Mapping[str, Any], cls: Any, subfolder: str) -> Any:
    """``cls.from_pretrained`` of one component (``unet``, ``vae``, ...) of the profile's video base model."""
    return cls.from_pretrained(
        active_profile["video_base_model"], subfolder=subfolder, revision=active_profile.get("video_base_revision")
    )
