"""Nodes of the ``model_card`` pipeline."""

from __future__ import annotations

from typing import Any

from diffusers import UNet2DConditionModel

from lamp.models import LAMPConfig
from lamp.models.checks import inflation_report
from lamp.profiles import PretrainedModel, Profile


def model_card(
    video_base: PretrainedModel, active_profile: dict[str, Any], model: dict[str, Any], model_card: dict[str, Any]
) -> dict[str, Any]:
    """Inflate the profile's base UNet and report its parameter counts and zero-init equivalence.

    With ``motion_init: zero`` (the paper) a video UNet that differs from its image UNet before
    training is a bug, so the run fails; ``motion_init: code`` differs by design and is only reported.
    """
    profile = Profile.from_active(active_profile)
    config = LAMPConfig.from_dict(model)
    unet = video_base.component(UNet2DConditionModel, "unet").eval()
    report = inflation_report(unet, config, **model_card)
    if config.motion_init == "zero" and not report["untrained_equals_image_model"]:
        raise RuntimeError(
            "the untrained LAMP video UNet differs from its image UNet by "
            f"{max(report['max_abs_diff_per_frame']):.3g} (tolerance {report['tolerance']})"
        )
    return {"profile": profile.name, "base_model": video_base.location, **report}
