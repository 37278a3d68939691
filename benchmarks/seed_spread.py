"""How much do the evaluation set's scores move with the seed alone? (issue 16's twelfth round)

    python benchmarks/seed_spread.py --seeds 0 1 2 3 4        # the project in the working directory
    python benchmarks/seed_spread.py --project DIR --seeds 0 1 --mlflow

The bars of issue 16 are shares of 48 videos: one video is 2.1 points, and each video's frame 1
and noise come from ``generate.seed``. On a finished run this regenerates the evaluation set with
the same motion models at each seed (``kedro run --pipelines=generate`` then ``evaluate``, the
seed given as a runtime parameter, so ``params.yaml`` is untouched) and reports, per score, each
seed's value and their mean, standard deviation, minimum and maximum; per motion, the recognised
videos at each seed. A change to the method is a change only where it moves the mean by more than
this spread.

The project's ``generate`` and ``evaluate`` outputs are left as the last seed made them (generated
outputs, not a user's files): ``dvc checkout`` or ``dvc repro`` puts back the default seed's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from lamp.config_loader import load_params_file

from report import report  # benchmarks/report.py: this script's folder is on sys.path

SCORES = ("motion_recognition", "keeps_frame1", "frame1_colour", "frame1_clip", "motion_fidelity")


def seed_scores(per_video: pd.DataFrame) -> dict[str, float]:
    """One seed's scores: the mean of each score over the videos, and each motion's recognised videos."""
    scores = {score: float(per_video[score].mean()) for score in SCORES if score in per_video}
    recognised = per_video.groupby("motion", sort=False).motion_recognition.apply(lambda s: int((s > 0).sum()))
    return scores | {f"recognised.{motion}": float(count) for motion, count in recognised.items()}


def spread(by_seed: dict[int, dict[str, float]]) -> dict[str, float]:
    """Each seed's value of each score (``<score>@seed<n>``) and their mean, std (ddof 1), min and max."""
    result: dict[str, float] = {}
    for score in next(iter(by_seed.values())):
        values = np.array([scores[score] for scores in by_seed.values()])
        result |= {f"{score}@seed{seed}": round(float(v), 2) for seed, v in zip(by_seed, values)}
        std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        result |= {f"{score}.mean": round(float(values.mean()), 2), f"{score}.std": round(std, 2),
                   f"{score}.min": round(float(values.min()), 2), f"{score}.max": round(float(values.max()), 2)}
    return result


def evaluate_at_seed(project: Path, seed: int) -> pd.DataFrame:
    """The evaluation set regenerated and scored at ``seed``; its per-video table."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    for pipeline in ("generate", "evaluate"):
        subprocess.run(["kedro", "run", f"--pipelines={pipeline}", "--params", f"generate.seed={seed}"],
                       cwd=project, env=env, check=True, stdout=subprocess.DEVNULL)
    profile = load_params_file(project / "params.yaml")["active_profile"]["name"]
    return pd.read_csv(project / "data" / profile / "08_reporting" / "evaluation" / "per_video.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, default=Path("."), help="a project whose `dvc repro` has run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--mlflow", action="store_true")
    args = parser.parse_args()
    by_seed = {seed: seed_scores(evaluate_at_seed(args.project.resolve(), seed)) for seed in args.seeds}
    report(spread(by_seed), "seed_spread", args.mlflow)


if __name__ == "__main__":
    main()
