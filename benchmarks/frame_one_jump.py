"""Where do the generated videos lose frame 1: one jump at frame 2, or a drift? (issue 16's eleventh round)

    python benchmarks/frame_one_jump.py                  # the project in the working directory
    python benchmarks/frame_one_jump.py --project DIR --mlflow

The frame-1 measure of :mod:`lamp.metrics.frame_one` scores frames 2..l against frame 1 as a whole.
This splits the colour half of it over a finished run's evaluation set (the MP4s of ``generate``), per
motion, and sets beside each number the same statistic of the motion's training windows (those that
set its threshold, written as MP4s at ``generate.fps``, as ``evaluate`` stores them):

- ``jump``: frame 2 against frame 1;
- ``steps``: each later frame against the one before it (frames 3..l), the mean;
- ``after_jump``: frames 3..l against frame 2, as the measure scores frames 2..l against frame 1;
- ``whole``: frames 2..l against frame 1, what ``evaluate`` reports as ``frame1_colour``.

A video that pops keeps ``steps`` and ``after_jump`` near the training windows' and loses ``jump``;
one that drifts loses ``after_jump`` and ``steps`` too. One JSON line of ``<motion>.<statistic>``
(``all.`` the mean over the motions) and ``<motion>.<statistic>@training``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from safetensors.numpy import load_file

from lamp.config_loader import load_params_file
from lamp.data.video_io import as_stored_in_mp4, read_video
from lamp.metrics.frame_one import frame_one_colour, reference_windows
from lamp.profiles import Profile

from report import report  # benchmarks/report.py: this script's folder is on sys.path


def jump_statistics(frames: np.ndarray) -> dict[str, float]:
    """The colour measure of one video ``(f, h, w, 3)`` split at frame 2 (module docstring)."""
    return {
        "jump": frame_one_colour(frames[:2]),
        "steps": float(np.mean([frame_one_colour(frames[f - 1 : f + 1]) for f in range(2, len(frames))])),
        "after_jump": frame_one_colour(frames[1:]),
        "whole": frame_one_colour(frames),
    }


def mean_statistics(videos: list[np.ndarray]) -> dict[str, float]:
    rows = [jump_statistics(v) for v in videos]
    return {key: round(float(np.mean([r[key] for r in rows])), 2) for key in rows[0]}


def frame_one_jump(project: Path) -> dict[str, float]:
    params = load_params_file(project / "params.yaml")
    profile = Profile.from_active(params["active_profile"])
    root = project / "data" / profile.name
    stride, fps = params["data"]["sample_frame_rate"], params["generate"]["fps"]
    index = pd.read_csv(root / "07_model_output" / "generate" / "index.csv")
    result: dict[str, float] = {}
    for motion, rows in index.groupby("motion", sort=False):
        videos = [read_video(root / "07_model_output" / "generate" / "mp4" / f"{key}.mp4").frames for key in rows.video]
        clips = load_file(root / "02_intermediate" / motion / "clips.safetensors")
        windows = [as_stored_in_mp4(w, fps) for w in reference_windows(clips, profile.n_frames, stride)]
        for key, value in mean_statistics(videos).items():
            result[f"{motion}.{key}"] = value
        for key, value in mean_statistics(windows).items():
            result[f"{motion}.{key}@training"] = value
    motions = list(dict.fromkeys(index.motion))
    for key in dict.fromkeys(k.split(".", 1)[1] for k in result):
        result[f"all.{key}"] = round(float(np.mean([result[f"{m}.{key}"] for m in motions])), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--mlflow", action="store_true", help="also log the result to experiment lamp-benchmarks")
    args = parser.parse_args()
    report(frame_one_jump(args.project.resolve()), "frame_one_jump", args.mlflow)


if __name__ == "__main__":
    main()
