"""Frame-1 consistency: how much of frame 1's content do frames 2..l keep?

LAMP animates a given first frame; a video that moves by turning into something else has not
animated it. Two views of the same question, each a mean over frames 2..l:

- colour: 100 x the intersection of the frame's colour histogram (8 x 8 x 8 RGB bins) with frame 1's;
  100 when the same colours cover the same share of the frame, wherever they moved;
- CLIP: 100 x the cosine of the frame's CLIP image embedding with frame 1's (what is shown).

A video *keeps frame 1's content* when both reach its motion's threshold: the 5th percentile of the
same scores on the motion's own training windows, which keep their content by construction
(fireworks change colour more than a waterfall does, so each motion sets its own bar).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from lamp.metrics.recognition import clip_windows

BINS = 8
#: The share of a motion's training windows that may score below its threshold.
THRESHOLD_PERCENTILE = 5


def colour_histogram(frame: np.ndarray) -> np.ndarray:
    """The normalised ``BINS^3`` RGB histogram of a uint8 frame ``(H, W, 3)``."""
    indices = (frame.reshape(-1, 3).astype(np.int64) * BINS) // 256
    flat = (indices[:, 0] * BINS + indices[:, 1]) * BINS + indices[:, 2]
    counts = np.bincount(flat, minlength=BINS**3).astype(np.float64)
    return counts / counts.sum()


def frame_one_colour(frames: np.ndarray) -> float:
    """100 x mean histogram intersection of frames 2..l with frame 1."""
    first = colour_histogram(frames[0])
    return float(100 * np.mean([np.minimum(first, colour_histogram(f)).sum() for f in frames[1:]]))


def frame_one_clip(image_embeddings: torch.Tensor) -> float:
    """100 x mean cosine of frames 2..l's normalised CLIP embeddings ``(F, D)`` with frame 1's."""
    return float(100 * (image_embeddings[1:] @ image_embeddings[0]).mean())


def reference_windows(by_video: Mapping[str, np.ndarray], n_frames: int, stride: int, every: int = 2) -> list[np.ndarray]:
    """One motion's training windows that set its threshold (:func:`~lamp.metrics.recognition.clip_windows`),
    videos in the order of their ids."""
    return [w for _, frames in sorted(by_video.items()) for w in clip_windows(frames, n_frames, stride, every)]


def training_scores(clips: Mapping[str, Mapping[str, np.ndarray]], clip_model: Any, n_frames: int, stride: int,
                    every: int = 2) -> dict[str, list[tuple[float, float]]]:
    """Per motion, the (colour, CLIP) scores of its :func:`reference_windows`."""
    scores: dict[str, list[tuple[float, float]]] = {}
    for motion, by_video in clips.items():
        windows = reference_windows(by_video, n_frames, stride, every)
        embeddings = clip_model.image_embeddings(np.concatenate(windows)).reshape(len(windows), n_frames, -1)
        scores[motion] = [(frame_one_colour(w), frame_one_clip(e)) for w, e in zip(windows, embeddings)]
    return scores


def frame_one_thresholds(scores: Mapping[str, Sequence[tuple[float, float]]]) -> dict[str, dict[str, float]]:
    """Per motion, the ``THRESHOLD_PERCENTILE``-th percentile of its training windows' (colour, CLIP) scores."""
    return {
        motion: {"colour": float(np.percentile([c for c, _ in pairs], THRESHOLD_PERCENTILE)),
                 "clip": float(np.percentile([k for _, k in pairs], THRESHOLD_PERCENTILE))}
        for motion, pairs in scores.items()
    }


def keeps_frame_one(colour: float, clip_score: float, threshold: Mapping[str, float]) -> bool:
    """Whether a video's two scores (colour, CLIP similarity to frame 1) both reach its motion's threshold."""
    return colour >= threshold["colour"] and clip_score >= threshold["clip"]
