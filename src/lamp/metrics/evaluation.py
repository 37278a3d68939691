"""Scoring a set of generated videos: per video, per motion and overall."""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from lamp.clip import OpenClip
from lamp.metrics.clip_scores import diversity, diversity_cosine, frame_consistency, mean_frame_embedding, text_alignment
from lamp.metrics.frame_one import frame_one_clip, frame_one_colour, keeps_frame_one
from lamp.metrics.motion import FlowStatistics, flow_statistics, motion_fidelity, optical_flow
from lamp.metrics.recognition import MotionClassifier

METRICS = ["motion_recognition", "keeps_frame1", "frame1_colour", "frame1_clip", "text_alignment",
           "frame_consistency", "diversity", "diversity_cosine", "motion_fidelity", "flow_magnitude"]
#: Per-video scores averaged per motion and overall (the rest of METRICS are over pairs of videos).
MEANS = ["motion_recognition", "keeps_frame1", "frame1_colour", "frame1_clip", "text_alignment", "frame_consistency",
         "motion_fidelity", "flow_magnitude"]

#: The paper's Table 1 (its 48 videos; the paper does not name its CLIP): text alignment, frame consistency, diversity.
PAPER_TABLE_1 = pd.DataFrame(
    [
        ("LAMP (paper)", 31.3547, 98.3085, 71.6535),
        ("AnimateDiff (paper)", 28.8779, 97.8131, 73.4723),
        ("Tune-A-Video (paper)", 27.2227, 94.8742, 84.7186),
        ("Text2Video-Zero (paper)", 26.9424, 91.4713, 73.0136),
    ],
    columns=["method", "text_alignment", "frame_consistency", "diversity"],
)


def score_videos(
    index: pd.DataFrame,
    load_frames: Mapping[str, Callable[[], np.ndarray]],
    clip_model: OpenClip,
    references: Mapping[str, FlowStatistics],
    classifier: MotionClassifier,
    thresholds: Mapping[str, Mapping[str, float]],
) -> tuple[pd.DataFrame, dict[str, torch.Tensor]]:
    """Per-video scores and each video's mean-frame embedding (for diversity).

    ``index`` has ``video_id``, ``motion``, ``prompt`` and ``video`` (the key of ``load_frames``);
    CLIP embeddings are computed in one batched pass per video, prompts in one batch. ``classifier``
    names the motion a video moves like (:mod:`lamp.metrics.recognition`), ``thresholds`` say
    whether it keeps frame 1's content (:mod:`lamp.metrics.frame_one`).
    """
    texts = dict(zip(index.prompt.unique(), clip_model.text_embeddings(list(index.prompt.unique()))))
    rows, embeddings = [], {}
    for row in tqdm(index.itertuples(), total=len(index), desc="scoring videos"):
        frames = load_frames[row.video]()
        image = clip_model.image_embeddings(frames)
        flow_field = optical_flow(frames)  # once: motion fidelity and recognition both read it
        flow = flow_statistics(frames, flow=flow_field)
        embeddings[row.video_id] = mean_frame_embedding(image)
        recognised_as = classifier.predict(frames, flow_field)
        colour, content = frame_one_colour(frames), frame_one_clip(image)
        rows.append({
            "video_id": row.video_id,
            "motion": row.motion,
            "prompt": row.prompt,
            "recognised_as": recognised_as,
            "motion_recognition": 100.0 * (recognised_as == row.motion),
            "keeps_frame1": 100.0 * keeps_frame_one(colour, content, thresholds[row.motion]),
            "frame1_colour": colour,
            "frame1_clip": content,
            "text_alignment": text_alignment(image, texts[row.prompt]),
            "frame_consistency": frame_consistency(image),
            "motion_fidelity": motion_fidelity(flow, references[row.motion]),
            "flow_magnitude": flow.magnitude,
        })
    return pd.DataFrame(rows), embeddings


def summarize(per_video: pd.DataFrame, embeddings: Mapping[str, torch.Tensor]) -> tuple[pd.DataFrame, dict[str, float]]:
    """A per-motion table (means; diversity over the motion's videos) and the overall metrics.

    Overall text alignment, consistency and fidelity are means over all videos; overall diversity
    (the paper's, and its cosine variant) is over every pair of all videos, as the paper's 48-video figure.
    """
    def table_row(name: str, videos: pd.DataFrame) -> dict[str, float | str]:
        stacked = torch.stack([embeddings[v] for v in videos.video_id])
        means = videos[MEANS].mean()
        pairs = len(videos) > 1
        return {"motion": name, "videos": len(videos), **means.to_dict(),
                "diversity": diversity(stacked) if pairs else float("nan"),
                "diversity_cosine": diversity_cosine(stacked) if pairs else float("nan")}

    per_motion = pd.DataFrame([table_row(m, v) for m, v in per_video.groupby("motion", sort=False)])
    overall = table_row("all", per_video)
    per_motion = per_motion[["motion", "videos", *METRICS]]
    metrics = {name: float(overall[name]) for name in METRICS}
    metrics |= {f"{name}.{row.motion}": float(getattr(row, name)) for row in per_motion.itertuples() for name in METRICS}
    return per_motion, metrics
