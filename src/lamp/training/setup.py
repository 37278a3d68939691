"""Training set up from ``params.yaml`` groups: the settings, the inflated base, stale checkpoints.

Shared by the ``train`` pipeline and the ablations, which train their variants the same way.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel

from lamp.io import atomic_path, file_sha256
from lamp.models import LAMPConfig, LAMPVideoUNet
from lamp.profiles import load_base_component
from lamp.training.checkpoint import latest_checkpoint, resumable
from lamp.training.config import TrainConfig

logger = logging.getLogger(__name__)

#: Keys of params ``train`` that are not training settings: where files go, validation videos.
_NOT_SETTINGS = ("output_dir", "checkpoints_dir", "validation")


def train_config(active_profile: dict[str, Any], data: dict[str, Any], train: dict[str, Any]) -> TrainConfig:
    """The training settings: ``train`` params, the clip length of the profile, the clip stride and flip of ``data``."""
    settings = {k: v for k, v in train.items() if k not in _NOT_SETTINGS}
    return TrainConfig.from_dict(
        {
            **settings,
            "n_sample_frames": active_profile["n_frames"],
            "sample_frame_rate": data["sample_frame_rate"],
            "random_flip": data["flip"],
        }
    )


def base_video_unet(active_profile: dict[str, Any], model: dict[str, Any], seed: int) -> LAMPVideoUNet:
    """The profile's base UNet inflated with the ``model`` switches (new layers seeded for reproducibility)."""
    unet = load_base_component(active_profile, UNet2DConditionModel, "unet")
    torch.manual_seed(seed)
    return LAMPVideoUNet(
        unet,
        LAMPConfig.from_dict(model),
        base_model=active_profile["video_base_model"],
        base_revision=active_profile.get("video_base_revision"),
    )


def base_noise_schedule(active_profile: dict[str, Any]) -> tuple[DDPMScheduler, float]:
    """The profile's base model's training scheduler and its VAE's latent scaling factor."""
    scheduler = load_base_component(active_profile, DDPMScheduler, "scheduler")
    vae_config = AutoencoderKL.load_config(
        active_profile["video_base_model"], subfolder="vae", revision=active_profile.get("video_base_revision")
    )
    return scheduler, vae_config["scaling_factor"]


def base_fingerprint(active_profile: dict[str, Any]) -> str:
    """Identity of the base UNet: a hash of a local folder's UNet files, or the hub id and revision."""
    base = Path(active_profile["video_base_model"])
    unet_files = sorted((base / "unet").glob("*")) if base.is_dir() else []
    if not unet_files:
        return f"{active_profile['video_base_model']}@{active_profile.get('video_base_revision') or 'main'}"
    return ",".join(f"{path.name}:{file_sha256(path)}" for path in unet_files if path.is_file())


def drop_stale_checkpoints(checkpoints: Path, config: TrainConfig, fingerprint: str) -> None:
    """Keep checkpoints only if they were written with these settings on this base UNet.

    A changed learning rate, or a retrained base model, makes DVC re-run the stage; resuming motion
    layers trained with other settings or against another base would be wrong, so training starts
    over. ``fingerprint`` (:func:`base_fingerprint`) is recorded beside the checkpoints.
    """
    marker = checkpoints / "base_model.fingerprint"
    latest = latest_checkpoint(checkpoints)
    same_base = marker.is_file() and marker.read_text() == fingerprint
    if latest and not (same_base and resumable(latest, config)):
        logger.warning("checkpoints in %s come from other settings or another base model: starting over", checkpoints)
        shutil.rmtree(checkpoints)
    with atomic_path(marker) as temporary:
        temporary.write_text(fingerprint)
