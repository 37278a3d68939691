"""Wall time of a trivial stage, and of the parameter check every ``kedro run`` starts with.

    python benchmarks/stage_startup.py                                  # this checkout, motion rain
    python benchmarks/stage_startup.py --project /path/to/other/checkout --motion helicopter --repeats 3

Every stage of ``dvc repro`` is a ``kedro run``, and each one first checks all of params.yaml
(:mod:`lamp.parameters`). Times ``kedro run --pipelines=synthesize --namespaces=<motion>`` in
``--project`` (the stage ``synthesize@<motion>``: numpy renders one motion's mini videos and
rewrites the same files), after one run that is not timed; and, in fresh processes, importing the
config loader and checking the parameters of the profile params.yaml selects. The project's own
``src/`` is imported. Medians of ``--repeats``; prints one JSON line, ``--mlflow`` also logs it
(experiment ``lamp-benchmarks``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from report import report  # benchmarks/report.py: this script's folder is on sys.path

CHECK = """
import sys, time
started = time.perf_counter()
from lamp.config_loader import LAMPConfigLoader
LAMPConfigLoader(conf_source="conf")["parameters"]
print(time.perf_counter() - started, "torch" in sys.modules)
"""


def environment(project: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(project / "src"), "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}


def stage_seconds(project: Path, motion: str) -> float:
    command = [sys.executable, "-m", "kedro", "run", "--pipelines=synthesize", f"--namespaces={motion}"]
    started = time.perf_counter()
    subprocess.run(command, cwd=project, env=environment(project), check=True, capture_output=True)
    return time.perf_counter() - started


def check_seconds(project: Path) -> tuple[float, bool]:
    """Seconds to import the config loader and check the parameters; whether that imported torch."""
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=project, env=environment(project), check=True,
                            capture_output=True, text=True)
    seconds, torch_imported = result.stdout.split()[-2:]
    return float(seconds), torch_imported == "True"


def measure(project: Path, motion: str, repeats: int) -> dict:
    stage_seconds(project, motion)  # warms the file cache and MLflow's store
    stages = [stage_seconds(project, motion) for _ in range(repeats)]
    checks = [check_seconds(project) for _ in range(repeats)]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project, capture_output=True, text=True)
    return {
        "project": str(project),
        "commit": commit.stdout.strip(),
        "motion": motion,
        "repeats": repeats,
        "stage_seconds": round(statistics.median(stages), 2),
        "stage_seconds_min": round(min(stages), 2),
        "check_seconds": round(statistics.median(seconds for seconds, _ in checks), 2),
        "check_imports_torch": any(imported for _, imported in checks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--motion", default="rain", help="a motion of params.yaml: synthesize.motions")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mlflow", action="store_true")
    args = parser.parse_args()
    report(measure(args.project.resolve(), args.motion, args.repeats), "stage_startup", args.mlflow)


if __name__ == "__main__":
    main()
