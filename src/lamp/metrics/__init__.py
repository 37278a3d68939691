"""Evaluation metrics: the paper's CLIP scores and a motion-fidelity score from optical flow."""

from lamp.metrics.clip_scores import (
    diversity,
    diversity_cosine,
    frame_consistency,
    mean_frame_embedding,
    text_alignment,
)
from lamp.metrics.motion import FlowStatistics, flow_statistics, motion_fidelity, optical_flow, reference_statistics

__all__ = [
    "FlowStatistics",
    "diversity",
    "diversity_cosine",
    "flow_statistics",
    "frame_consistency",
    "mean_frame_embedding",
    "motion_fidelity",
    "optical_flow",
    "reference_statistics",
    "text_alignment",
]
