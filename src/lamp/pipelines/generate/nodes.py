"""Nodes of the ``generate`` pipeline: first frames once per prompt, then one video per prompt."""

from __future__ import annotations

import logging
from typing import Any, Callable

import mlflow
import pandas as pd
import PIL.Image
from accelerate import PartialState
from tqdm.auto import tqdm

from lamp.data import VideoClip
from lamp.models.files import MotionModel
from lamp.profiles import PretrainedModel, Profile
from lamp.metrics.recognition import clip_windows
from lamp.reporting import video_sheet
from lamp.sampling.evaluation_set import DTYPES, draw_first_frames, evaluation_videos, load_first_frame_pipeline
from lamp.sampling.launch import videos_on_processes
from lamp.sampling.settings import FirstFrameSettings, GenerationSettings
from lamp.lineage import INDEX_TAG, table_sha256
from lamp.tracking import tag_model_version

logger = logging.getLogger(__name__)


def evaluation_prompts(
    prompts_file: pd.DataFrame, active_profile: dict[str, Any], generate: dict[str, Any]
) -> pd.DataFrame:
    """The profile's prompts file (checked as the catalog loads it) restricted to ``generate.motions``
    (default: every motion of the profile), with video ids.

    A motion without a prompt would silently drop out of the evaluation, so it is an error.
    """
    profile = Profile.from_active(active_profile)
    motions = generate.get("motions") or list(profile.motions)
    prompts = prompts_file[prompts_file.motion.isin(motions)].reset_index(drop=True)
    missing = sorted(set(motions) - set(prompts.motion))
    if missing:
        raise ValueError(
            f"{profile.prompts_file} has no evaluation prompt for {missing}: add rows `motion,prompt` "
            f"for them, or point profiles.{profile.name}.prompts_file at a file of your own"
        )
    return prompts


def make_first_frames(
    prompts: pd.DataFrame, first_frame_model: PretrainedModel, active_profile: dict[str, Any], generate: dict[str, Any]
) -> dict[str, PIL.Image.Image]:
    """Frame 1 of every video, drawn by the profile's text-to-image model (full: SD-XL), as PNG partitions."""
    profile = Profile.from_active(active_profile)
    device = PartialState().device
    pipe = load_first_frame_pipeline(first_frame_model, device, DTYPES[generate.get("mixed_precision", "no")])
    settings = FirstFrameSettings.for_profile(generate)
    frames = draw_first_frames(pipe, prompts, settings, profile.height, profile.width, generate["seed"])
    return dict(frames)


def generate_videos(
    prompts: pd.DataFrame,
    first_frames: dict[str, Callable[[], PIL.Image.Image]],
    video_base: PretrainedModel,
    active_profile: dict[str, Any],
    generate: dict[str, Any],
    **motion_models: MotionModel,
) -> tuple[dict[str, VideoClip], dict[str, VideoClip], pd.DataFrame]:
    """One video per prompt with its motion's model (``motion_models``, from the catalog): MP4 and GIF
    partitions ``<motion>/<video_id>``, an index.

    Each video's seed (in the index) draws its frame 1 and its noise: ``lamp generate --seed`` with it, the
    motion and the prompt makes the same video. The index holds only what the inputs determine (evaluate
    reads it: a re-run that makes the same videos must leave it byte-identical); each video's time goes to
    the log and MLflow, and the registered version (``lamp-<motion>``) of every motion model used tags the MLflow run.
    With ``generate.processes`` > 1 the videos are shared out among that many processes
    (:mod:`lamp.sampling.launch`), each made as here.
    """
    profile = Profile.from_active(active_profile)
    settings = GenerationSettings.for_profile(generate, profile)
    missing = sorted(set(prompts.video_id) - set(first_frames))
    if missing:
        raise KeyError(f"no first frame for {missing}: run `kedro run --pipelines=generate --nodes=make_first_frames`")
    models = {m: motion_models[m] for m in dict.fromkeys(prompts.motion)}
    for motion, model in models.items():
        tag_model_version(motion, model)
    precision, processes = generate.get("mixed_precision", "no"), generate.get("processes", 1)
    if processes > 1:
        made = videos_on_processes(processes, prompts, first_frames, models, video_base, settings, precision)
    else:
        made = evaluation_videos(prompts, first_frames, models, video_base, settings, PartialState().device, DTYPES[precision])
    videos, records = {}, []
    for row, frames, seed, seconds in tqdm(made, total=len(prompts), desc="videos"):
        key = f"{row.motion}/{row.video_id}"
        videos[key] = VideoClip(frames=frames, fps=settings.fps)
        records.append({"video_id": row.video_id, "motion": row.motion, "prompt": row.prompt, "seed": seed, "video": key})
        logger.info("%s: %s (%.1f s)", key, row.prompt, seconds)
        if mlflow.active_run():
            mlflow.log_metric("video_seconds", seconds, step=len(records))
    index = pd.DataFrame(records)
    if mlflow.active_run():  # evaluate finds this run by it (lamp.lineage.link_to_generation)
        mlflow.set_tag(INDEX_TAG, table_sha256(index))
    return videos, videos, index


def motion_sheets(
    videos: dict[str, Callable[[], VideoClip]],
    index: pd.DataFrame,
    active_profile: dict[str, Any],
    data: dict[str, Any],
    **clips: dict[str, Any],
) -> dict[str, PIL.Image.Image]:
    """A contact sheet per motion: a training clip's row on top (what the motion looks like), then a row of
    frames per generated video, each with its prompt, all at the profile's frame count."""
    profile = Profile.from_active(active_profile)
    sheets = {}
    for motion, rows in index.groupby("motion", sort=False):
        generated = [videos[key]().frames for key in rows.video]
        video_id, frames = next(iter(sorted(clips[motion].items())))
        training = clip_windows(frames, profile.n_frames, data["sample_frame_rate"], every=1)[0]
        sheets[motion] = video_sheet([training, *generated], [f"training clip {video_id}", *rows.prompt])
    return sheets

