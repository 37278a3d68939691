"""How much does the frame-1 colour measure punish a shift no viewer sees? (issue 16's ninth round)

    python benchmarks/frame_one_shift.py                   # the project in the working directory
    python benchmarks/frame_one_shift.py --project DIR --levels 1 2 4

For each motion of a finished run, the training windows that set its ``keeps frame 1`` threshold
(:mod:`lamp.metrics.frame_one`) are scored as they are and again with frames 2..l brightened by a
few of 255 levels, which no viewer sees. A measure of "keeps frame 1's content" should barely move;
the 5th percentile that becomes the threshold is printed for each shift, beside the threshold the
run's ``evaluate`` wrote, as one JSON line of ``<motion>.<score>`` keys (``--mlflow`` also logs it,
experiment ``lamp-benchmarks``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from lamp.config_loader import load_params_file
from lamp.metrics.frame_one import THRESHOLD_PERCENTILE, frame_one_colour, reference_windows
from lamp.profiles import Profile

from report import report  # benchmarks/report.py: this script's folder is on sys.path


def brightened(window: np.ndarray, levels: int) -> np.ndarray:
    """``window`` with frames 2..l ``levels`` of 255 brighter (frame 1 as it is)."""
    shifted = window.astype(np.int16)
    shifted[1:] += levels
    return np.clip(shifted, 0, 255).astype(np.uint8)


def colour_thresholds_under_shift(project: Path, levels: list[int]) -> dict:
    params = load_params_file(project / "params.yaml")
    profile = Profile.from_active(params["active_profile"])
    root = project / "data" / profile.name
    written = json.loads((root / "04_feature" / "frame_one_thresholds.json").read_text())
    result: dict[str, float] = {}
    for motion in written:
        clips = load_file(root / "02_intermediate" / motion / "clips.safetensors")
        windows = reference_windows(clips, profile.n_frames, params["data"]["sample_frame_rate"])
        result[f"{motion}.threshold_written"] = written[motion]["colour"]
        for level in [0, *levels]:
            scores = [frame_one_colour(brightened(w, level)) for w in windows]
            result[f"{motion}.colour_p{THRESHOLD_PERCENTILE}_shift_{level}"] = float(np.percentile(scores, THRESHOLD_PERCENTILE))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--mlflow", action="store_true", help="also log the result to experiment lamp-benchmarks")
    args = parser.parse_args()
    report(colour_thresholds_under_shift(args.project.resolve(), args.levels), "frame_one_shift", args.mlflow)


if __name__ == "__main__":
    main()
