"""Nodes of the ``ablate`` pipeline: every variant of :mod:`lamp.ablation` trained, generated and scored."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable

import mlflow
import pandas as pd
import PIL.Image
from accelerate import PartialState

from lamp.ablation import Variant
from lamp.clip import OpenClip
from lamp.data import VideoClip
from lamp.hooks import process_tags
from lamp.lineage import commit_tags
from lamp.locks import store_lock
from lamp.metrics import FlowStatistics
from lamp.metrics.evaluation import METRICS, score_videos, summarize
from lamp.metrics.recognition import MotionClassifier
from lamp.models import LAMPConfig, LAMPVideoUNet
from lamp.profiles import PretrainedModel, Profile
from lamp.training.setup import base_noise_schedule, drop_stale_checkpoints, training_inputs
from lamp.reporting import video_sheet
from lamp.sampling import LAMPPipeline
from lamp.sampling.evaluation_set import (
    draw_first_frames,
    generate_video,
    load_first_frame_pipeline,
    video_seed,
)
from lamp.sampling.settings import FirstFrameSettings, GenerationSettings
from lamp.training import train_motion
from lamp.tracking import tag_model_version
from lamp.training.config import train_config

logger = logging.getLogger(__name__)


def ablation_prompts(prompts: pd.DataFrame, ablate: dict[str, Any]) -> pd.DataFrame:
    """The first ``prompts_per_motion`` prompts of each motion in ``ablate.motions`` (null: all)."""
    chosen = prompts if not ablate.get("motions") else prompts[prompts.motion.isin(ablate["motions"])]
    if chosen.empty:
        raise ValueError(f"ablate.motions {ablate.get('motions')} match no prompt of the evaluation set")
    return chosen.groupby("motion", sort=False).head(ablate["prompts_per_motion"]).reset_index(drop=True)


def ablate_variant(
    prompts: pd.DataFrame,
    first_frames: dict[str, Callable[[], PIL.Image.Image]],
    references: dict[str, dict],
    classifier: dict,
    thresholds: dict[str, dict[str, float]],
    video_base: PretrainedModel,
    clip_model: PretrainedModel,
    active_profile: dict[str, Any],
    model: dict[str, Any],
    data: dict[str, Any],
    train: dict[str, Any],
    generate: dict[str, Any],
    ablate: dict[str, Any],
    *,
    name: str,
    **motion_data: Any,
) -> tuple[dict[str, VideoClip], pd.DataFrame, pd.DataFrame]:
    """Variant ``name`` of ``ablate.variants``: its videos ``<motion>/<video_id>``, its row of the table and
    its rows of per-motion recognition and fidelity.

    An MLflow child run of the pipeline's run, with its overrides and metrics. Refused at once while
    another ablation runs (:func:`lamp.locks.store_lock` on ``<checkpoints_dir>/ablation``): both would
    train into the same per-variant checkpoints.
    """
    profile = Profile.from_active(active_profile)
    variant = Variant.from_params(name, ablate["variants"][name])
    logger.info("ablation %s: %s", name, variant.describe())
    with store_lock(Path(train["checkpoints_dir"]) / "ablation", "an ablation"), _child_run(variant):
        settings = GenerationSettings.for_profile(generate, profile, **variant.generate)
        frames_of = _variant_first_frames(variant, prompts, first_frames, video_base, profile, generate)
        videos, pipe = {}, None
        for motion, rows_of_motion in prompts.groupby("motion", sort=False):
            unet = _variant_unet(variant, motion, video_base, profile, model, data, train, ablate, motion_data)
            pipe = _pipeline_with(pipe, unet, video_base)
            for row in rows_of_motion.itertuples():
                frames = generate_video(pipe, row.prompt, frames_of(row.video_id), settings,
                                        video_seed(settings.seed, row.video_id))
                videos[f"{motion}/{row.video_id}"] = VideoClip(frames=frames, fps=settings.fps)
        scorer = OpenClip.from_pretrained(clip_model.location, clip_model.revision).to(PartialState().device)
        stats = {motion: FlowStatistics.from_dict(values) for motion, values in references.items()}
        index = prompts.assign(video=[f"{m}/{v}" for m, v in zip(prompts.motion, prompts.video_id)])
        per_video, embeddings = score_videos(index, {k: (lambda c=c: c.frames) for k, c in videos.items()}, scorer,
                                             stats, MotionClassifier.from_dict(classifier), thresholds)
        per_motion, metrics = summarize(per_video, embeddings)
        if mlflow.active_run():
            mlflow.log_metrics({k.replace(".", "/"): v for k, v in metrics.items() if pd.notna(v)})
    row = pd.DataFrame([{"variant": name, "changes": variant.describe(), **{m: metrics[m] for m in METRICS}}])
    per_motion_rows = pd.DataFrame([{"variant": name, "motion": r.motion, "motion_recognition": r.motion_recognition,
                                     "keeps_frame1": r.keeps_frame1, "motion_fidelity": r.motion_fidelity}
                                    for r in per_motion.itertuples()])
    return videos, row, per_motion_rows


def stacked(*tables: pd.DataFrame) -> pd.DataFrame:
    """The variants' tables one under the other, in the order of ``ablate.variants``."""
    return pd.concat(tables, ignore_index=True)


def _child_run(variant: Variant) -> Any:
    """An MLflow run nested in the pipeline's run (kedro-mlflow's), or nothing when tracking is off."""
    if not mlflow.active_run():
        return nullcontext()
    run = mlflow.start_run(run_name=variant.name, nested=True)
    # Tagged with this process like the pipeline's run, so that a kill leaves neither RUNNING (lamp.hooks),
    # and with its code.
    mlflow.set_tags(process_tags() | commit_tags())
    mlflow.log_params({"variant": variant.name, "changes": variant.describe()[:500]})
    return run


def _variant_first_frames(
    variant: Variant,
    prompts: pd.DataFrame,
    cached: dict[str, Callable[[], PIL.Image.Image]],
    video_base: PretrainedModel,
    profile: Profile,
    generate: dict[str, Any],
) -> Callable[[str], PIL.Image.Image]:
    """The cached first frames of ``generate``, or new ones drawn by the variant's first-frame model."""
    source = variant.first_frame_source(video_base)
    if source is None:
        return lambda video_id: cached[video_id]()
    settings = FirstFrameSettings.for_profile(generate, **variant.first_frame)
    drawer = load_first_frame_pipeline(source, PartialState().device)
    drawn = dict(draw_first_frames(drawer, prompts, settings, profile.height, profile.width, generate["seed"]))
    return drawn.__getitem__


def _variant_unet(
    variant: Variant,
    motion: str,
    video_base: PretrainedModel,
    profile: Profile,
    model: dict[str, Any],
    data: dict[str, Any],
    train: dict[str, Any],
    ablate: dict[str, Any],
    motion_data: dict[str, Any],
) -> LAMPVideoUNet:
    """The variant's video UNet for ``motion``: untrained, the full method's model, or trained anew."""
    base, revision = video_base.location, video_base.revision
    if variant.untrained:
        return LAMPVideoUNet.from_pretrained(base, LAMPConfig.from_dict(model), revision, seed=train["seed"]).eval()
    if not variant.trains:
        tag_model_version(motion, motion_data[f"{motion}__motion_model"])  # the child run names the model it scored
        return LAMPVideoUNet.from_motion(base, motion_data[f"{motion}__motion_model"].directory, revision)
    settings = {**train, **variant.train}
    config = train_config(profile, data, settings)
    unet = LAMPVideoUNet.from_pretrained(base, LAMPConfig.from_dict({**model, **variant.model}), revision, seed=config.seed)
    checkpoints = Path(train["checkpoints_dir"]) / "ablation" / variant.name / motion
    latents, text = motion_data[f"{motion}__latents"], motion_data[f"{motion}__text_embeddings"]
    drop_stale_checkpoints(checkpoints, config, training_inputs(video_base, {**model, **variant.model}, latents, text))
    scheduler, scaling = base_noise_schedule(video_base)
    output_dir = Path(ablate["output_dir"]) / variant.name / motion
    train_motion(unet, latents, text, scheduler, scaling, config, output_dir, checkpoints_dir=checkpoints)
    return unet.eval()


def _pipeline_with(pipe: LAMPPipeline | None, unet: LAMPVideoUNet, video_base: PretrainedModel) -> LAMPPipeline:
    """A sampling pipeline around ``unet``, reusing the VAE and text encoder of ``pipe`` once loaded."""
    if pipe is None:
        pipe = LAMPPipeline.around(unet, video_base.location, video_base.revision)
        return pipe.to(PartialState().device)
    return pipe.with_unet(unet)


def ablation_report(table: pd.DataFrame, per_motion: pd.DataFrame, active_profile: dict[str, Any]) -> str:
    """Markdown: the variants' metrics, each against the full method, and per-motion recognition and fidelity."""
    profile = Profile.from_active(active_profile)
    full = table.set_index("variant").loc["full"] if "full" in set(table.variant) else None
    shown = table.copy()
    if full is not None:
        for metric in ("motion_recognition", "keeps_frame1", "text_alignment", "motion_fidelity"):
            shown[f"{metric} vs full"] = shown[metric] - full[metric]
    recognition = per_motion.pivot(index="motion", columns="variant", values="motion_recognition")
    fidelity = per_motion.pivot(index="motion", columns="variant", values="motion_fidelity")
    lines = [
        f"# Ablations (paper Fig. 5; {profile.name} profile)",
        "",
        shown.to_markdown(index=False, floatfmt=".2f"),
        "",
        "Diversity is over the variant's videos (lower: more diverse). The paper shows each ablation as worse "
        "than the full method (Fig. 5); a positive difference here disagrees with it on that metric.",
        "",
        "## Motion recognition per motion (% of the videos recognised as their motion)",
        "",
        recognition.to_markdown(floatfmt=".0f"),
        "",
        "## Motion fidelity per motion",
        "",
        fidelity.to_markdown(floatfmt=".1f"),
        "",
    ]
    if "full" in fidelity:
        wins = {v: int((fidelity["full"] > fidelity[v]).sum()) for v in fidelity.columns if v != "full"}
        lines += [f"Motions where the full method's fidelity is higher: "
                  + ", ".join(f"{v} {n}/{len(fidelity)}" for v, n in wins.items()), ""]
    return "\n".join(lines)


def ablation_reports(table: pd.DataFrame, per_motion: pd.DataFrame, report: str, sheet: PIL.Image.Image) -> dict[str, Any]:
    """The ablation's report set, written as a whole."""
    return {"ablation.csv": table, "per_motion.csv": per_motion, "ablation.md": report, "variants.png": sheet}


def variant_sheet(table: pd.DataFrame, prompts: pd.DataFrame, **videos: dict[str, Callable[[], VideoClip]]) -> PIL.Image.Image:
    """The first prompt under every variant (``videos``: each variant's partitions), a row of frames each."""
    first = prompts.iloc[0]
    clips = [videos[v][f"{first.motion}/{first.video_id}"]().frames for v in table.variant]
    return video_sheet(clips, [f"{v}: {first.prompt}" for v in table.variant])
