"""Nodes of the ``evaluate`` pipeline."""

from __future__ import annotations

from typing import Any, Callable

import mlflow
import numpy as np
import pandas as pd
from accelerate import PartialState

from lamp.clip import OpenClip
from lamp.data import VideoClip
from lamp.metrics import FlowStatistics, reference_statistics
from lamp.metrics.evaluation import METRICS, PAPER_TABLE_1, score_videos, summarize
from lamp.metrics.frame_one import frame_one_thresholds, training_scores
from lamp.metrics.recognition import STILL, UNRECOGNISED, MotionClassifier, accuracy
from lamp.profiles import PretrainedModel, Profile
from lamp.lineage import CLASSIFIER_TAG, link_to_generation, values_sha256
from lamp.reporting import confusion_figure


def motion_references(data: dict[str, Any], **clips: dict[str, np.ndarray]) -> dict[str, dict]:
    """Optical-flow statistics of each motion's training clips (frames at the training stride).

    Videos in the order of their ids: a loaded file's key order varies between runs, and a mean's
    last digits follow the order of its terms.
    """
    stride = data["sample_frame_rate"]
    return {
        motion: reference_statistics([frames[::stride] for _, frames in sorted(videos.items())]).to_dict()
        for motion, videos in clips.items()
    }


def motion_classifier(data: dict[str, Any], active_profile: dict[str, Any], **clips: dict[str, np.ndarray]) -> dict:
    """The motion classifier fitted on every motion's training windows (the profile's clip length, the training stride)."""
    return MotionClassifier.fit(clips, Profile.from_active(active_profile).n_frames, data["sample_frame_rate"]).to_dict()


def frame_one_references(
    data: dict[str, Any], fps: float, clip_model: PretrainedModel, active_profile: dict[str, Any],
    **clips: dict[str, np.ndarray],
) -> dict:
    """Per motion, how much of frame 1 its own training windows keep, written at the generated videos' ``fps``:
    the bar generated videos must reach."""
    profile = Profile.from_active(active_profile)
    scores = training_scores(clips, _clip(clip_model), profile.n_frames, data["sample_frame_rate"], fps)
    return frame_one_thresholds(scores)


def _clip(clip_model: PretrainedModel) -> OpenClip:
    """The profile's CLIP: open_clip weights by name in full (e.g. ViT-L-14/openai), the mini CLIP's folder in mini."""
    return OpenClip.from_pretrained(clip_model.location, clip_model.revision).to(PartialState().device)


def evaluate_videos(
    videos: dict[str, Callable[[], VideoClip]],
    index: pd.DataFrame,
    references: dict[str, dict],
    classifier: dict,
    thresholds: dict[str, dict[str, float]],
    clip_model: PretrainedModel,
    active_profile: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Per-video and per-motion tables and the metrics (also logged to the MLflow run).

    Beside each motion's recognition, its ceiling: the classifier's accuracy on the motion's training
    windows, each with its own video held out.
    """
    frames = {key: (lambda load=load: load().frames) for key, load in videos.items()}
    stats = {motion: FlowStatistics.from_dict(values) for motion, values in references.items()}
    recogniser = MotionClassifier.from_dict(classifier)
    profile = Profile.from_active(active_profile)
    per_video, embeddings = score_videos(index, frames, _clip(clip_model), stats, recogniser, thresholds)
    per_motion, metrics = summarize(per_video, embeddings)
    ceiling = recognition_ceiling(recogniser)
    per_motion.insert(3, "recognition_ceiling", per_motion.motion.map(ceiling))
    metrics |= {"recognition_ceiling": ceiling["all"], **{f"recognition_ceiling.{m}": ceiling[m] for m in per_motion.motion}}
    if mlflow.active_run():
        mlflow.log_metrics({k.replace(".", "/"): v for k, v in metrics.items() if np.isfinite(v)})
        mlflow.set_tags({"lamp.clip_model": _clip_name(profile), CLASSIFIER_TAG: values_sha256(classifier)})
        link_to_generation(index)
    return per_video, per_motion, metrics


def recognition_ceiling(classifier: MotionClassifier) -> dict[str, float]:
    """100 x the classifier's accuracy on held-out training windows, per motion and ``all``."""
    held_out = classifier.held_out()
    motions = dict.fromkeys(motion for motion, _ in held_out)
    return {"all": 100 * accuracy(held_out), **{m: 100 * accuracy([p for p in held_out if p[0] == m]) for m in motions}}


def evaluation_reports(
    per_video: pd.DataFrame, per_motion: pd.DataFrame, metrics: dict[str, float], active_profile: dict[str, Any]
) -> dict[str, Any]:
    """The report set, written as a whole: both tables, the confusion matrix (CSV and PNG), :func:`evaluation_report`."""
    confusion = confusion_matrix(per_video)
    return {"per_video.csv": per_video, "per_motion.csv": per_motion, "confusion.csv": confusion.reset_index(),
            "confusion.png": confusion_figure(confusion), "report.md": evaluation_report(per_motion, metrics, Profile.from_active(active_profile))}


def confusion_matrix(per_video: pd.DataFrame) -> pd.DataFrame:
    """Videos per (motion, recognised as): a row per motion, a column per motion then still and unrecognised."""
    motions = list(dict.fromkeys(per_video.motion))
    columns = motions + [c for c in (STILL, UNRECOGNISED) if c not in motions]
    table = pd.crosstab(per_video.motion, per_video.recognised_as).reindex(index=motions, columns=columns, fill_value=0)
    return table.rename_axis(index="motion", columns="recognised_as")


def evaluation_report(per_motion: pd.DataFrame, metrics: dict[str, float], profile: Profile) -> str:
    """Markdown: the per-motion table, the overall row, and the paper's Table 1 beside ours."""
    overall = pd.DataFrame([{"motion": "all", "videos": int(per_motion.videos.sum()), **{m: metrics[m] for m in METRICS}}])
    ours = pd.DataFrame([{"method": f"lamp ({profile.name} profile)",
                          **{m: metrics[m] for m in ("text_alignment", "frame_consistency", "diversity")}}])
    note = (
        "The metrics of the paper's Table 1 (48 prompts), computed as the authors' code computes them; the "
        "paper does not name its CLIP (we use OpenAI's ViT-L/14), and our first frames, seeds and training "
        "differ, so expect differences of a few points."
        if profile.scores_like_the_paper
        else f"The {profile.name} profile scores with {_clip_name(profile)} at {profile.height}x{profile.width}, not the "
        "paper's CLIP: its numbers are on another scale and not comparable with the paper's; they are for comparing "
        "runs and ablations of this project."
    )
    return "\n".join([
        f"# Evaluation ({profile.name} profile, CLIP: {_clip_name(profile)})",
        "",
        "## Per motion",
        "",
        pd.concat([per_motion, overall]).to_markdown(index=False, floatfmt=".2f"),
        "",
        "Motion fidelity: 100 x cosine of magnitude-weighted flow-direction histograms x speed ratio against "
        "the motion's training clips (Farneback optical flow; see lamp.metrics.motion).",
        "",
        "## Against the paper's Table 1",
        "",
        pd.concat([PAPER_TABLE_1, ours]).to_markdown(index=False, floatfmt=".4f"),
        "",
        note,
        "",
    ])


def _clip_name(profile: Profile) -> str:
    return f"{profile.clip_model}/{profile.clip_pretrained}" if profile.clip_pretrained else profile.clip_model
