"""How much do the evaluation set's scores move with the seed alone? (issue 16's twelfth round)

    python benchmarks/seed_spread.py --seeds 0 1 2 3 4        # the project in the working directory
    python benchmarks/seed_spread.py --project DIR --seeds 0 1 --mlflow

The bars of issue 16 are shares of 48 videos: one video is 2.1 points, and each video's frame 1
and noise come from ``generate.seed``. On a finished run this regenerates the evaluation set with
the same motion models at each seed (``kedro run --pipelines=generate`` then ``evaluate``, the
seed given as a runtime parameter, so ``params.yaml`` is untouched) and reports, for each score of
``evaluate``'s metrics file (the DVC metrics: each score's mean over the videos and per motion), each
seed's value and their mean, standard deviation, minimum and maximum. A change to the method is a change only where it moves the mean by more than
this spread.

The project's ``generate`` and ``evaluate`` outputs are left as the last seed made them (generated
outputs, not a user's files): ``dvc checkout`` or ``dvc repro`` puts back the default seed's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path
from typing import Mapping

import numpy as np

from lamp.config_loader import load_params_file

from report import report  # benchmarks/report.py: this script's folder is on sys.path

SCORES = ("motion_recognition", "keeps_frame1", "frame1_colour", "frame1_clip", "motion_fidelity")


def seed_scores(metrics: Mapping[str, float]) -> dict[str, float]:
    """One seed's scores from ``evaluate``'s metrics: each of :data:`SCORES` over all videos and per
    motion (``<score>.<motion>``); its other metrics left out."""
    return {key: float(value) for key, value in metrics.items() if key.split(".", 1)[0] in SCORES}


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


def evaluate_at_seed(project: Path, seed: int, metrics_file: Path) -> dict[str, float]:
    """The evaluation set regenerated and scored at ``seed``; ``evaluate``'s metrics of it."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    for pipeline in ("generate", "evaluate"):
        subprocess.run(["kedro", "run", f"--pipelines={pipeline}", "--params", f"generate.seed={seed}"],
                       cwd=project, env=env, check=True, stdout=subprocess.DEVNULL)
    return json.loads(metrics_file.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, default=Path("."), help="a project whose `dvc repro` has run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--mlflow", action="store_true")
    args = parser.parse_args()
    project = args.project.resolve()
    profile = load_params_file(project / "params.yaml")["active_profile"]["name"]
    metrics_file = project / "data" / profile / "08_reporting" / "metrics.json"  # the catalog's evaluation_metrics
    by_seed = {seed: seed_scores(evaluate_at_seed(project, seed, metrics_file)) for seed in args.seeds}
    report(spread(by_seed), "seed_spread", args.mlflow)


if __name__ == "__main__":
    main()
