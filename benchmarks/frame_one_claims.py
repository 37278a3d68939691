"""Does the frame-1 measure say what it claims? Its synthetic test set (issue 16's tenth round).

    python benchmarks/frame_one_claims.py                  # the project in the working directory
    python benchmarks/frame_one_claims.py --project DIR --levels 1 2 4 --mlflow

Before the measure of :mod:`lamp.metrics.frame_one` scores a generated video, it should pass a test
set whose answers are known. Built from each motion's training windows (those that set its
threshold) of a finished run, each window altered one way:

- ``as_is``: the window itself; must keep (at least 95 % with ``@mp4`` by construction);
- ``darker_<n>`` / ``brighter_<n>``: frames 2..l ``n`` levels of 255 darker / brighter (``--levels``,
  default 2), which nobody sees: must keep (the ninth round's ``frame_one_shift`` question);
- ``other_video``: frames 2..l taken from another training video of the same motion (same motion,
  other content): must fail;
- ``recoloured``: frames 2..l with their colour channels rotated: must fail.

Every window is scored as ``generate`` stores a video, as an MP4 at ``generate.fps``, against the
thresholds of :mod:`lamp.metrics.frame_one` (the windows under ``INVISIBLE_SHADES``, as MP4s); keys
ending ``@mp4`` against thresholds of the MP4 windows without shades, ``@raw`` of the raw windows (as
before the tenth round).

For each measure (``colour``: the measure as :mod:`lamp.metrics.frame_one` defines it, ``colour_hist8``:
8 bins per channel without the shade alignment, as before the tenth round; ``clip``; ``verdict``: colour
and CLIP together, what ``evaluate`` reports), the share of each set's windows at or above the motion's
threshold, averaged over the motions, as one JSON line ``<set>.<measure>`` (``--mlflow`` also logs it,
experiment ``lamp-benchmarks``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

import numpy as np
from safetensors.numpy import load_file

from lamp.clip import OpenClip
from lamp.config_loader import load_params_file
from lamp.data.video_io import as_stored_in_mp4
from lamp.metrics.frame_one import (
    INVISIBLE_SHADES,
    THRESHOLD_PERCENTILE,
    colour_histogram,
    frame_one_clip,
    frame_one_colour,
    reference_windows,
    shaded,
)
from lamp.profiles import Profile

from report import report  # benchmarks/report.py: this script's folder is on sys.path


def altered_sets(by_video: dict[str, list[np.ndarray]], levels: list[int]) -> dict[str, list[np.ndarray]]:
    """The test set's windows of one motion, by set (windows grouped by their video, in id order)."""
    videos = sorted(by_video)
    windows = [w for v in videos for w in by_video[v]]
    # The same window position in the next video: other content doing the same motion.
    others = [by_video[videos[(i + 1) % len(videos)]][min(j, len(by_video[videos[(i + 1) % len(videos)]]) - 1)]
              for i, v in enumerate(videos) for j in range(len(by_video[v]))]
    return {
        "as_is": windows,
        **{f"darker_{n}": [shaded(w, -n) for w in windows] for n in levels},
        **{f"brighter_{n}": [shaded(w, n) for w in windows] for n in levels},
        "other_video": [np.concatenate([w[:1], o[1:]]) for w, o in zip(windows, others)],
        "recoloured": [np.concatenate([w[:1], w[1:, ..., [1, 2, 0]]]) for w in windows],
    }


def frame_one_hist8(frames: np.ndarray) -> float:
    """The colour measure before the tenth round: 8-bin histogram intersection, no shade alignment."""
    first = colour_histogram(frames[0])
    return float(100 * np.mean([np.minimum(first, colour_histogram(f)).sum() for f in frames[1:]]))


COLOUR_MEASURES: dict[str, Callable[[np.ndarray], float]] = {"colour": frame_one_colour, "colour_hist8": frame_one_hist8}


def claims(project: Path, levels: list[int]) -> dict[str, float]:
    params = load_params_file(project / "params.yaml")
    profile = Profile.from_active(params["active_profile"])
    root = project / "data" / profile.name
    clip = OpenClip.from_pretrained(str(project / profile.clip_model) if profile.name == "mini" else profile.clip_model)
    stride, fps = params["data"]["sample_frame_rate"], params["generate"]["fps"]
    shares: dict[str, list[float]] = {}
    for motion in profile.motions:
        clips = load_file(root / "02_intermediate" / motion / "clips.safetensors")
        by_video = {v: reference_windows({v: frames}, profile.n_frames, stride) for v, frames in clips.items()}
        raw = reference_windows(clips, profile.n_frames, stride)  # the thresholds' windows, as evaluate's
        scores = {name: scored([as_stored_in_mp4(w, fps) for w in windows], clip, profile.n_frames)
                  for name, windows in altered_sets(by_video, levels).items()}
        references = {  # the windows each family of thresholds is set on
            "": [as_stored_in_mp4(shaded(w, n), fps) for w in raw for n in INVISIBLE_SHADES],  # lamp.metrics.frame_one
            "@mp4": [as_stored_in_mp4(w, fps) for w in raw],  # no shades
            "@raw": raw,  # before the tenth round
        }
        for family, windows in references.items():
            bars = {m: np.percentile(s, THRESHOLD_PERCENTILE) for m, s in scored(windows, clip, profile.n_frames).items()}
            for name, by_measure in scores.items():
                passing = {m: np.asarray(s) >= bars[m] for m, s in by_measure.items()}
                passing["verdict"] = passing["colour"] & passing["clip"]
                passing["verdict_hist8"] = passing["colour_hist8"] & passing["clip"]
                for m, p in passing.items():
                    shares.setdefault(f"{name}.{m}{family}", []).append(float(p.mean()))
    return {key: round(float(np.mean(v)), 3) for key, v in shares.items()}


def scored(windows: list[np.ndarray], clip: OpenClip, n_frames: int) -> dict[str, list[float]]:
    """Each measure's score of each window."""
    embeddings = clip.image_embeddings(np.concatenate(windows)).reshape(len(windows), n_frames, -1)
    scores: dict[str, list[float]] = {m: [score(w) for w in windows] for m, score in COLOUR_MEASURES.items()}
    scores["clip"] = [frame_one_clip(e) for e in embeddings]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--levels", type=int, nargs="+", default=[2], help="shades (levels of 255) that must keep")
    parser.add_argument("--mlflow", action="store_true", help="also log the result to experiment lamp-benchmarks")
    args = parser.parse_args()
    report(claims(args.project.resolve(), args.levels), "frame_one_claims", args.mlflow)


if __name__ == "__main__":
    main()
