"""Frame-1 consistency: how much of frame 1's content do frames 2..l keep?

LAMP animates a given first frame; a video that moves by turning into something else has not
animated it. Two views of the same question, each a mean over frames 2..l:

- colour: 100 x the intersection of the frame's colour histogram (8 x 8 x 8 RGB bins) with frame 1's;
  100 when the same colours cover the same share of the frame, wherever they moved. A uniform shade of
  up to ``MAX_SHADE`` levels, which nobody sees, is taken out first (:func:`shade_aligned`): with hard
  bins it would carry a whole flat background into the next bin;
- CLIP: 100 x the cosine of the frame's CLIP image embedding with frame 1's (what is shown).

A video *keeps frame 1's content* when both reach its motion's threshold: the 5th percentile of the
same scores on the motion's own training windows, which keep their content by construction, written as
MP4s as the generated videos are and also with frames 2..l a shade (``INVISIBLE_SHADES``) darker or brighter
(fireworks change colour more than a waterfall does, so each motion sets its own bar).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from lamp.data.video_io import as_stored_in_mp4
from lamp.metrics.recognition import clip_windows

BINS = 8
#: The largest uniform shade change (levels of 255, per channel) the colour measure forgives.
MAX_SHADE = 4
#: Shades of frames 2..l (levels of 255) under which the training windows set the thresholds: changes
#: nobody sees, which a video that keeps frame 1 may show.
INVISIBLE_SHADES = (-2, 0, 2)
#: The most training windows a motion's threshold is set on (the mini motions have 24 each).
MAX_REFERENCE_WINDOWS = 64
#: The share of a motion's training windows that may score below its threshold.
THRESHOLD_PERCENTILE = 5


def colour_histogram(frame: np.ndarray) -> np.ndarray:
    """The normalised ``BINS^3`` RGB histogram of a uint8 frame ``(H, W, 3)``."""
    indices = (frame.reshape(-1, 3).astype(np.int64) * BINS) // 256
    flat = (indices[:, 0] * BINS + indices[:, 1]) * BINS + indices[:, 2]
    counts = np.bincount(flat, minlength=BINS**3).astype(np.float64)
    return counts / counts.sum()


def shade_aligned(frame: np.ndarray, first: np.ndarray) -> np.ndarray:
    """``frame`` shifted per channel by the shade, at most ``MAX_SHADE`` levels, that best lines its values'
    histogram up with ``first``'s (the smaller shift on a tie).

    Histograms, not pixels, so that a move of the content is no shade; a larger change is a change of
    colour a viewer sees, and stays.
    """
    shifts = sorted(range(-MAX_SHADE, MAX_SHADE + 1), key=abs)
    aligned = frame.astype(np.int16)
    for channel in range(3):
        target = np.bincount(first[..., channel].ravel(), minlength=256)
        counts = np.pad(np.bincount(frame[..., channel].ravel(), minlength=256), MAX_SHADE)
        overlap = [np.minimum(target, counts[MAX_SHADE - s : MAX_SHADE - s + 256]).sum() for s in shifts]
        aligned[..., channel] += shifts[int(np.argmax(overlap))]
    return np.clip(aligned, 0, 255).astype(np.uint8)


def frame_one_colour(frames: np.ndarray) -> float:
    """100 x mean histogram intersection of frames 2..l, each :func:`shade_aligned` to frame 1, with frame 1."""
    first = colour_histogram(frames[0])
    aligned = [shade_aligned(f, frames[0]) for f in frames[1:]]
    return float(100 * np.mean([np.minimum(first, colour_histogram(f)).sum() for f in aligned]))


def frame_one_clip(image_embeddings: torch.Tensor) -> float:
    """100 x mean cosine of frames 2..l's normalised CLIP embeddings ``(F, D)`` with frame 1's."""
    return float(100 * (image_embeddings[1:] @ image_embeddings[0]).mean())


def reference_windows(by_video: Mapping[str, np.ndarray], n_frames: int, stride: int, every: int = 2) -> list[np.ndarray]:
    """One motion's training windows that set its threshold (:func:`~lamp.metrics.recognition.clip_windows`),
    videos in the order of their ids; at most ``MAX_REFERENCE_WINDOWS`` of them, evenly spread.

    Each is scored three times, and as an MP4 (:func:`training_scores`), about a second a window at the
    full profile's size on one core; neighbouring windows of a video share most of their frames, and a
    5th percentile needs a few hundred scores, not the thousands that 16 long videos give.
    """
    windows = [w for _, frames in sorted(by_video.items()) for w in clip_windows(frames, n_frames, stride, every)]
    if len(windows) <= MAX_REFERENCE_WINDOWS:
        return windows
    return [windows[i] for i in np.linspace(0, len(windows) - 1, MAX_REFERENCE_WINDOWS).round().astype(int)]


def shaded(window: np.ndarray, levels: int) -> np.ndarray:
    """``window`` with frames 2..l ``levels`` of 255 brighter (negative: darker); frame 1 as it is."""
    out = window.astype(np.int16)
    out[1:] += levels
    return np.clip(out, 0, 255).astype(np.uint8)


def training_scores(clips: Mapping[str, Mapping[str, np.ndarray]], clip_model: Any, n_frames: int, stride: int,
                    fps: float, every: int = 2) -> dict[str, list[tuple[float, float]]]:
    """Per motion, the (colour, CLIP) scores of its :func:`reference_windows`, each under every shade of
    ``INVISIBLE_SHADES`` and as an MP4 at ``fps`` stores it.

    The generated videos are scored as ``generate`` wrote them, MP4s; scored raw, the training windows
    would keep frame 1 better than the same windows written as the videos are. And H.264 codes a shade
    of frames 2..l nobody sees in some blocks and not in others, which the shade alignment cannot take
    out; windows that keep their content under such a shade keep it (README: Measured, tenth round).
    """
    scores: dict[str, list[tuple[float, float]]] = {}
    for motion, by_video in clips.items():
        windows = [as_stored_in_mp4(shaded(w, levels), fps)
                   for w in reference_windows(by_video, n_frames, stride, every) for levels in INVISIBLE_SHADES]
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
