"""Nodes of the ``train`` pipeline."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import mlflow
import torch
from accelerate import PartialState
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel

from lamp.data.latents import cached_videos, latent_key
from lamp.lineage import dvc_hash, git_commit
from lamp.io import atomic_path, file_sha256
from lamp.models import LAMPConfig, LAMPVideoUNet
from lamp.models.serialization import CONFIG_NAME, WEIGHTS_NAME
from lamp.profiles import load_base_component
from lamp.sampling.validation import ValidationSampler
from lamp.tracking import MlflowStepLogger, register_model_version
from lamp.training import TrainConfig, latest_checkpoint, resumable, train_motion

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


def train_motion_model(
    latents: dict[str, torch.Tensor],
    text_embeddings: dict[str, torch.Tensor],
    ingest_summary: dict[str, Any],
    active_profile: dict[str, Any],
    model: dict[str, Any],
    data: dict[str, Any],
    train: dict[str, Any],
) -> dict[str, Any]:
    """Train one motion's layers into ``train.output_dir/<motion>``; log and register it in MLflow."""
    motion = ingest_summary["motion"]
    config = train_config(active_profile, data, train)
    output_dir = Path(train["output_dir"]) / motion
    checkpoints = Path(train["checkpoints_dir"]) / motion
    drop_stale_checkpoints(checkpoints, config, base_fingerprint(active_profile))

    base = active_profile["video_base_model"]
    revision = active_profile.get("video_base_revision")
    scheduler = load_base_component(active_profile, DDPMScheduler, "scheduler")
    scaling_factor = AutoencoderKL.load_config(base, subfolder="vae", revision=revision)["scaling_factor"]
    video_unet = base_video_unet(active_profile, model, config.seed)

    # Under `accelerate launch` every process runs this node; only the main one logs and registers.
    run = mlflow.active_run() if PartialState().is_main_process else None
    step_logger = MlflowStepLogger(run.info.run_id) if run else None
    callbacks = [step_logger] if step_logger else []
    validation = train.get("validation") or {}
    if validation.get("prompt"):
        callbacks.append(_validation_sampler(video_unet, latents, scaling_factor, active_profile, validation, motion, run))
    result = train_motion(
        video_unet, latents, text_embeddings, scheduler, scaling_factor, config, output_dir, callbacks, checkpoints
    )
    if step_logger:
        step_logger.flush()
    counts = video_unet.parameter_counts()
    summary = {
        "motion": motion,
        "prompt": ingest_summary["prompt"],
        "steps": result.last_step,
        "resumed_from_step": result.first_step,
        "final_loss": sum(result.losses[-20:]) / max(1, len(result.losses[-20:])),
        "first_loss": sum(result.losses[:20]) / max(1, len(result.losses[:20])),
        "seconds": result.seconds,
        "peak_memory_bytes": result.peak_memory_bytes,
        "peak_memory_source": result.peak_memory_source,
        "trainable_parameters": counts.trainable,
        "total_parameters": counts.total,
    }
    if run:
        summary["registered_version"] = _log_to_mlflow(run.info.run_id, motion, output_dir, active_profile, summary)
    return summary


def _validation_sampler(
    video_unet: LAMPVideoUNet,
    latents: dict[str, torch.Tensor],
    scaling_factor: float,
    active_profile: dict[str, Any],
    validation: dict[str, Any],
    motion: str,
    run: Any,
) -> ValidationSampler:
    """GIFs of ``validation.prompt`` animating the first frame of the first training video."""
    first_video = cached_videos(latents)[0]
    first_latent = latents[latent_key(first_video, False, "mean")][0] * scaling_factor
    log = (lambda path, step: mlflow.log_artifact(str(path), artifact_path="validation")) if run else None
    return ValidationSampler(
        video_unet,
        active_profile["video_base_model"],
        validation["prompt"],
        first_latent,
        Path(validation["dir"]) / motion,
        every=validation["every"],
        num_frames=active_profile["n_frames"],
        num_inference_steps=validation["num_inference_steps"],
        guidance_scale=validation["guidance_scale"],
        on_video=log,
        revision=active_profile.get("video_base_revision"),
    )


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


def _log_to_mlflow(
    run_id: str, motion: str, output_dir: Path, active_profile: dict[str, Any], summary: dict[str, Any]
) -> str:
    """Metrics, the weights as artifacts, lineage tags, and a new registered version ``lamp-<motion>``."""
    mlflow.log_metrics({k: float(v) for k, v in summary.items() if isinstance(v, (int, float))})
    for name in (WEIGHTS_NAME, CONFIG_NAME):
        mlflow.log_artifact(str(output_dir / name), artifact_path="motion_model")
    base = active_profile["video_base_model"]
    lineage = {
        "lamp.motion": motion,
        "lamp.git_commit": git_commit(),
        "lamp.latents_dvc_hash": dvc_hash(f"data/03_primary/{motion}"),
        "lamp.base_model": base,
        "lamp.base_model_dvc_hash": dvc_hash(base) if Path(base).exists() else str(active_profile.get("video_base_revision") or "main"),
        "lamp.ingest_manifest_sha256": file_sha256(f"data/02_intermediate/{motion}/manifest.parquet"),
        "lamp.weights_sha256": file_sha256(output_dir / WEIGHTS_NAME),
    }
    mlflow.set_tags(lineage)
    return register_model_version(run_id, "motion_model", f"lamp-{motion}", lineage)
