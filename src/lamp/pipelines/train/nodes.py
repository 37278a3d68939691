"""Nodes of the ``train`` pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import torch
from accelerate import PartialState

from lamp.data.latents import cached_videos, latent_key
from lamp.lineage import commit_tags, dvc_hash, model_version
from lamp.io import file_sha256
from lamp.locks import store_lock
from lamp.models import LAMPConfig, LAMPVideoUNet, ParameterCounts
from lamp.models.files import CONFIG_NAME, WEIGHTS_NAME, MotionModel
from lamp.profiles import PretrainedModel, Profile
from lamp.sampling.validation import ValidationSampler
from lamp.tracking import MlflowStepLogger, register_model_version
from lamp.training import TrainResult, train_motion
from lamp.training.config import TrainConfig, train_config
from lamp.training.launch import train_on_processes
from lamp.training.setup import base_noise_schedule, drop_stale_checkpoints, training_inputs


#: The folder, beside a motion's checkpoints, that a training writes its final weights into.
TRAINED = "trained"


def train_motion_model(
    latents: dict[str, torch.Tensor],
    text_embeddings: dict[str, torch.Tensor],
    ingest_summary: dict[str, Any],
    video_base: PretrainedModel,
    active_profile: dict[str, Any],
    model: dict[str, Any],
    data: dict[str, Any],
    train: dict[str, Any],
) -> tuple[MotionModel, dict[str, Any]]:
    """One motion's trained layers (the catalog's ``<motion>.motion_model``) and a summary; logged and
    registered in MLflow.

    The weights are written beside the motion's checkpoints and handed to the catalog, which swaps
    them into place whole.

    Refused at once while another run trains the same motion (:func:`lamp.locks.store_lock` on its
    checkpoints): both would write, and delete, the same checkpoints and weights.
    """
    profile = Profile.from_active(active_profile)
    motion = ingest_summary["motion"]
    with store_lock(Path(train["checkpoints_dir"]) / motion, f"training of motion {motion!r}"):
        config = train_config(profile, data, train)
        checkpoints = Path(train["checkpoints_dir"]) / motion
        output_dir = checkpoints / TRAINED
        processes = train.get("processes", 1)
        started_over = drop_stale_checkpoints(
            checkpoints, config, training_inputs(video_base, model, latents, text_embeddings, processes)
        )

        # Under `accelerate launch` every process runs this node; only the main one logs and registers.
        run = mlflow.active_run() if PartialState().is_main_process else None
        if processes > 1:
            result, counts = train_on_processes(processes, video_base, model, latents, text_embeddings, config,
                                                output_dir, checkpoints, run.info.run_id if run else None)
            counts = ParameterCounts(**counts)
        else:
            result, counts = _train_in_this_process(latents, text_embeddings, video_base, profile, model, train, config,
                                                    output_dir, checkpoints, motion, run)
        summary = {
            "motion": motion,
            "prompt": ingest_summary["prompt"],
            "steps": result.last_step,
            "resumed_from_step": result.first_step,
            "started_over_because": started_over,
            "final_loss": _mean(result.losses[-20:]),
            "first_loss": _mean(result.losses[:20]),
            "seconds": result.seconds,
            "peak_memory_bytes": result.peak_memory_bytes,
            "peak_memory_source": result.peak_memory_source,
            "trainable_parameters": counts.trainable,
            "total_parameters": counts.total,
        }
        if run:
            summary["registered_version"] = _log_to_mlflow(run.info.run_id, motion, output_dir, video_base, profile, summary)
        return MotionModel(output_dir), summary


def _train_in_this_process(
    latents: dict[str, torch.Tensor],
    text_embeddings: dict[str, torch.Tensor],
    video_base: PretrainedModel,
    profile: Profile,
    model: dict[str, Any],
    train: dict[str, Any],
    config: TrainConfig,
    output_dir: Path,
    checkpoints: Path,
    motion: str,
    run: Any,
) -> tuple[TrainResult, ParameterCounts]:
    """:func:`train_motion` here, with MLflow step metrics and the validation GIFs."""
    scheduler, scaling_factor = base_noise_schedule(video_base)
    video_unet = LAMPVideoUNet.from_pretrained(video_base.location, LAMPConfig.from_dict(model), video_base.revision,
                                               seed=config.seed)
    step_logger = MlflowStepLogger(run.info.run_id) if run else None
    callbacks = [step_logger] if step_logger else []
    validation = train.get("validation") or {}
    if validation.get("prompt"):
        callbacks.append(_validation_sampler(video_unet, latents, scaling_factor, video_base, profile.n_frames,
                                             validation, motion, run))
    result = train_motion(
        video_unet, latents, text_embeddings, scheduler, scaling_factor, config, output_dir, callbacks, checkpoints
    )
    if step_logger:
        step_logger.flush()
    return result, video_unet.parameter_counts()


def _validation_sampler(
    video_unet: LAMPVideoUNet,
    latents: dict[str, torch.Tensor],
    scaling_factor: float,
    video_base: PretrainedModel,
    n_frames: int,
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
        video_base.location,
        validation["prompt"],
        first_latent,
        Path(validation["dir"]) / motion,
        every=validation["every"],
        num_frames=n_frames,
        num_inference_steps=validation["num_inference_steps"],
        guidance_scale=validation["guidance_scale"],
        on_video=log,
        revision=video_base.revision,
    )


def resume_note(summary: dict[str, Any]) -> str:
    """How the training began: fresh, resumed from a checkpoint, or started over (and why)."""
    if summary["started_over_because"]:
        return f"started over: {summary['started_over_because']}"
    if summary["resumed_from_step"]:
        return f"resumed from step {summary['resumed_from_step']}"
    return "fresh start"


def _log_to_mlflow(
    run_id: str, motion: str, output_dir: Path, video_base: PretrainedModel, profile: Profile, summary: dict[str, Any]
) -> str:
    """Metrics, the weights as artifacts, lineage tags, and a new registered version ``lamp-<motion>``."""
    mlflow.log_metrics({k: float(v) for k, v in summary.items() if isinstance(v, (int, float))})
    for name in (WEIGHTS_NAME, CONFIG_NAME):
        mlflow.log_artifact(str(output_dir / name), artifact_path="motion_model")
    base = video_base.location
    lineage = {
        "lamp.motion": motion,
        "lamp.resume": resume_note(summary),
        **commit_tags(),
        "lamp.latents_dvc_hash": dvc_hash(f"data/{profile.name}/03_primary/{motion}"),
        "lamp.base_model": base,
        "lamp.base_model_dvc_hash": model_version(video_base.location, video_base.revision),
        "lamp.ingest_manifest_sha256": file_sha256(f"data/{profile.name}/02_intermediate/{motion}/manifest.parquet"),
        "lamp.weights_sha256": file_sha256(output_dir / WEIGHTS_NAME),
    }
    mlflow.set_tags(lineage)
    loss = "no step run" if summary["final_loss"] is None else f"final loss {summary['final_loss']:.4f}"
    description = (f"Motion layers of {motion!r} (prompt {summary['prompt']!r}): {summary['steps']} steps, {loss}, "
                   f"{lineage['lamp.resume']}; base {base}, commit {lineage['lamp.git_commit']}")
    return register_model_version(run_id, "motion_model", f"lamp-{motion}", lineage, description)


def _mean(losses: list[float]) -> float | None:
    """The mean of some step losses; None when no step ran (a finished training resumed), not a loss of 0."""
    return sum(losses) / len(losses) if losses else None
