"""Nodes of the ``edit`` pipeline: thin calls into :mod:`lamp.editing`, plus MLflow logging."""

from __future__ import annotations

import inspect
import time
from functools import wraps
from pathlib import Path
from typing import Any, Callable

import mlflow
import PIL.Image
import torch
from accelerate import PartialState

from lamp.data import VideoClip
from lamp.editing import (
    ControlNetSettings,
    Img2ImgSettings,
    SamplingSettings,
    SourceClip,
    encode_source,
    invert_source,
    load_first_frame_drawer,
    read_first_frame,
    read_source_clip,
    sample_edit,
    side_by_side,
    tune_config,
    tune_on_source,
)
from lamp.io import file_sha256
from lamp.lineage import commit_tags, model_version
from lamp.locks import store_lock
from lamp.models import LAMPConfig, LAMPVideoUNet
from lamp.models.files import CONFIG_NAME, WEIGHTS_NAME, MotionModel
from lamp.profiles import EditSpec, PretrainedModel, Profile
from lamp.sampling import LAMPPipeline
from lamp.tracking import MlflowStepLogger


def model_dir(edit: dict[str, Any], name: str) -> Path:
    """The folder of edit ``name``'s tuned model (the catalog's ``<name>.edit_motion_model``), whose lock
    every node that tunes or reads it holds; the tuning writes beside it before the catalog moves it in."""
    return Path(edit["output_dir"]) / name


def edit_spec(profile: Profile, name: str) -> EditSpec:
    """The profile's edit ``name``: its video, prompts and optional first frame."""
    return EditSpec(**profile.edits[name])


def holding_model_dir(node: Callable[..., Any]) -> Callable[..., Any]:
    """``node`` (with arguments ``edit`` and ``name``) run holding the lock of the edit's model folder.

    Every node that writes or reads the tuned model holds it, so a second run of the same edit is
    refused (:func:`lamp.locks.store_lock`) instead of retuning the model under a running inversion
    or sampling.
    """
    signature = inspect.signature(node)

    @wraps(node)
    def locked(*args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(*args, **kwargs).arguments
        with store_lock(model_dir(arguments["edit"], arguments["name"]), f"edit {arguments['name']!r}"):
            return node(*args, **kwargs)

    return locked


def source_clip(edit: dict[str, Any], active_profile: dict[str, Any], *, name: str) -> SourceClip:
    """The clip of the edit's video being edited, at the profile's size; clear errors for a bad video."""
    profile = Profile.from_active(active_profile)
    n_frames = edit.get("n_frames") or profile.n_frames
    video = edit_spec(profile, name).video
    return read_source_clip(video, n_frames, edit["stride"], profile.height, profile.width)


@holding_model_dir
def tune_motion(
    source: SourceClip,
    video_base: PretrainedModel,
    active_profile: dict[str, Any],
    model: dict[str, Any],
    edit: dict[str, Any],
    *,
    name: str,
) -> tuple[MotionModel, dict[str, Any]]:
    """Fresh motion layers on the profile's base, tuned on the clip (the catalog's ``<name>.edit_motion_model``)
    and a summary; logged to MLflow."""
    profile = Profile.from_active(active_profile)
    config = tune_config(edit["train"], len(source.frames))
    base, revision = video_base.location, video_base.revision
    unet = LAMPVideoUNet.from_pretrained(base, LAMPConfig.from_dict(model), revision, seed=config.seed)
    pipe = LAMPPipeline.around(unet, base, revision).to(PartialState().device)
    run = mlflow.active_run()
    callbacks = [MlflowStepLogger(run.info.run_id)] if run else []
    latents = encode_source(pipe.vae, source.frames)
    source_prompt = edit_spec(profile, name).source_prompt
    tuned = model_dir(edit, name).with_name(f".{name}.tuned")
    result = tune_on_source(pipe, latents, source_prompt, config, tuned, callbacks)
    summary = {
        "video": source.path.as_posix(),
        "source_sha256": source.sha256,
        "source_prompt": source_prompt,
        "steps": result.last_step,
        "first_loss": _mean(result.losses[:20]),
        "final_loss": _mean(result.losses[-20:]),
        "seconds": result.seconds,
        "peak_memory_bytes": result.peak_memory_bytes,
    }
    if run:
        for callback in callbacks:
            callback.flush()
        mlflow.log_metrics({k: float(v) for k, v in summary.items() if isinstance(v, (int, float))})
        for file in (WEIGHTS_NAME, CONFIG_NAME):
            mlflow.log_artifact(str(tuned / file), artifact_path="edit_model")
        mlflow.set_tags(_lineage(source, video_base, MotionModel(tuned)))
    return MotionModel(tuned), summary


@holding_model_dir
def invert_source_clip(
    source: SourceClip, tuned: MotionModel, video_base: PretrainedModel, edit: dict[str, Any], *, name: str
) -> dict[str, torch.Tensor]:
    """The clip's latents DDIM-inverted by the ``tuned`` model."""
    pipe = _tuned_pipeline(video_base, tuned)
    steps = SamplingSettings.from_dict(edit["sampling"]).num_inference_steps
    inverted = invert_source(pipe, encode_source(pipe.vae, source.frames), steps)
    return {"latents": inverted.float().cpu().contiguous()}


def edited_first_frame(
    source: SourceClip, first_frame_model: PretrainedModel, active_profile: dict[str, Any], edit: dict[str, Any], *,
    name: str
) -> PIL.Image.Image:
    """The edit's ``first_frame`` at the clip's size, or the source's first frame redrawn with its ``prompt``."""
    profile = Profile.from_active(active_profile)
    height, width = source.frames.shape[1:3]
    spec = edit_spec(profile, name)
    if spec.first_frame:
        return read_first_frame(spec.first_frame, height, width)
    draw = load_first_frame_drawer(
        first_frame_model,
        edit["first_frame_drawer"],
        Img2ImgSettings.from_dict(edit.get("img2img")),
        ControlNetSettings.from_dict(edit.get("controlnet")),
        PartialState().device,
    )
    return draw(source.frames[0], spec.prompt, SamplingSettings.from_dict(edit["sampling"]).generator())


@holding_model_dir
def sample_edited_video(
    source: SourceClip,
    first_frame: PIL.Image.Image,
    inverted_latents: dict[str, torch.Tensor],
    tuned: MotionModel,
    video_base: PretrainedModel,
    active_profile: dict[str, Any],
    edit: dict[str, Any],
    *,
    name: str,
) -> tuple[VideoClip, VideoClip, VideoClip, dict[str, Any]]:
    """The edit (as MP4 and GIF), source | edit side by side, and a report; lineage tags on the MLflow run."""
    profile = Profile.from_active(active_profile)
    spec = edit_spec(profile, name)
    pipe = _tuned_pipeline(video_base, tuned)
    started = time.perf_counter()
    out = sample_edit(pipe, spec.prompt, first_frame, inverted_latents["latents"], SamplingSettings.from_dict(edit["sampling"]))
    seconds = time.perf_counter() - started
    edited = VideoClip(out.frames, source.fps)
    frames, height, width = out.frames.shape[:3]
    report = {
        "video": source.path.as_posix(),
        "source_sha256": source.sha256,
        "prompt": spec.prompt,
        "first_frame": spec.first_frame or "drawn",
        "frames": frames,
        "height": height,
        "width": width,
        "fps": source.fps,
        "sampling_seconds": seconds,
    }
    if mlflow.active_run():
        mlflow.log_metric("sampling_seconds", seconds)
        mlflow.set_tags(_lineage(source, video_base, tuned))
        if spec.first_frame:
            mlflow.set_tag("lamp.first_frame_sha256", file_sha256(spec.first_frame))
    return edited, edited, VideoClip(side_by_side(source.frames, out.frames), source.fps), report


def _tuned_pipeline(video_base: PretrainedModel, tuned: MotionModel) -> LAMPPipeline:
    return LAMPPipeline.from_motion(video_base.location, tuned.directory, video_base.revision).to(PartialState().device)


def _lineage(source: SourceClip, video_base: PretrainedModel, tuned: MotionModel) -> dict[str, str]:
    """Tags that tie a run to its inputs: the source video's bytes, the code, the base and tuned models."""
    base = video_base.location
    return {
        "lamp.edit.video": source.path.as_posix(),
        "lamp.source_video_sha256": source.sha256,
        **commit_tags(),
        "lamp.base_model": base,
        "lamp.base_model_dvc_hash": model_version(video_base.location, video_base.revision),
        "lamp.weights_sha256": file_sha256(tuned.weights),
    }


def _mean(values: list[float]) -> float:
    return sum(values) / max(1, len(values))
