"""Motion fidelity: does a generated video move like the motion's training videos?

The paper has no such metric (its CLIP scores do not see motion: a still video scores perfectly on
frame consistency). Dense optical flow (OpenCV Farneback) between consecutive frames is summarised
per video by (a) a histogram of flow directions weighted by flow magnitude, so that it says where
things move, not how much of the frame is textured, and (b) the mean flow magnitude in pixels per
frame. A generated video is compared with the mean statistics of the motion's training clips:

    fidelity = 100 x cos(direction histograms) x min(m, m_ref) / max(m, m_ref)

so it is 100 only for the same directions at the same speed, near 0 for a still video (m ~ 0) and
low for the opposite direction. Both videos must be sampled at the same size and frame stride.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

#: Farneback settings for small frames (OpenCV's tutorial values; 3 levels suit 64-512 px frames).
FARNEBACK = {"pyr_scale": 0.5, "levels": 3, "winsize": 9, "iterations": 3, "poly_n": 5, "poly_sigma": 1.1, "flags": 0}


@dataclass(frozen=True)
class FlowStatistics:
    """``directions``: magnitude-weighted histogram of flow angles (sums to 1, or all 0 when nothing moves);
    ``magnitude``: mean flow length in pixels per frame."""

    directions: np.ndarray
    magnitude: float

    def to_dict(self) -> dict[str, list[float] | float]:
        """12 significant digits: far finer than the metric needs, and the same bytes on every machine
        (the last digits of a float sum follow the CPU's vector width), so DVC sees no change."""
        return {"directions": [_stable(x) for x in self.directions], "magnitude": _stable(self.magnitude)}

    @classmethod
    def from_dict(cls, values: dict) -> FlowStatistics:
        return cls(np.asarray(values["directions"], dtype=np.float64), float(values["magnitude"]))


def _stable(value: float) -> float:
    return float(f"{value:.12g}")


def optical_flow(frames: np.ndarray) -> np.ndarray:
    """Farneback flow ``(F-1, H, W, 2)`` between consecutive uint8 RGB frames ``(F, H, W, 3)``."""
    gray = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in frames]
    return np.stack([cv2.calcOpticalFlowFarneback(a, b, None, **FARNEBACK) for a, b in zip(gray[:-1], gray[1:])])


def flow_statistics(frames: np.ndarray, bins: int = 16, flow: np.ndarray | None = None) -> FlowStatistics:
    """The direction histogram and mean magnitude of one video's flow (``flow``: its :func:`optical_flow`, if computed)."""
    flow = (optical_flow(frames) if flow is None else flow).reshape(-1, 2).astype(np.float64)
    magnitude = np.hypot(flow[:, 0], flow[:, 1])
    angle = np.arctan2(flow[:, 1], flow[:, 0])
    histogram, _ = np.histogram(angle, bins=bins, range=(-np.pi, np.pi), weights=magnitude)
    total = histogram.sum()
    return FlowStatistics(histogram / total if total > 0 else histogram, float(magnitude.mean()))


def reference_statistics(videos: Sequence[np.ndarray], bins: int = 16) -> FlowStatistics:
    """The mean statistics of a motion's training clips (each clip weighs the same)."""
    stats = [flow_statistics(video, bins) for video in videos]
    return FlowStatistics(np.mean([s.directions for s in stats], axis=0), float(np.mean([s.magnitude for s in stats])))


def motion_fidelity(video: FlowStatistics, reference: FlowStatistics) -> float:
    """100 x direction cosine x magnitude ratio (see the module docstring); 0 when either is still."""
    norms = np.linalg.norm(video.directions) * np.linalg.norm(reference.directions)
    if norms == 0 or max(video.magnitude, reference.magnitude) == 0:
        return 0.0
    direction = float(video.directions @ reference.directions / norms)
    speed = min(video.magnitude, reference.magnitude) / max(video.magnitude, reference.magnitude)
    return 100 * direction * speed
