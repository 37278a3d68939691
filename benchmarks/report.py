"""How a benchmark reports its result: one JSON line, and optionally an MLflow run."""

from __future__ import annotations

import json
import os
from typing import Any


def report(result: dict[str, Any], run_name: str, to_mlflow: bool) -> None:
    """Print ``result`` as JSON; with ``to_mlflow``, log it to experiment ``lamp-benchmarks``.

    Strings and booleans become parameters, numbers metrics.
    """
    print(json.dumps(result))
    if not to_mlflow:
        return
    use_benchmark_experiment()
    log_run(result, run_name)


def log_run(result: dict[str, Any], run_name: str) -> None:
    """One MLflow run of ``result`` in the active experiment: strings and booleans as parameters,
    numbers as metrics."""
    import mlflow

    with mlflow.start_run(run_name=run_name):
        mlflow.log_params({k: v for k, v in result.items() if isinstance(v, (str, bool))})
        mlflow.log_metrics({k: float(v) for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})


def use_benchmark_experiment() -> None:
    """MLflow's experiment ``lamp-benchmarks`` in the project's store (``mlflow.db``, as the stages'
    runs; ``MLFLOW_TRACKING_URI`` names another)."""
    import mlflow

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))
    mlflow.set_experiment("lamp-benchmarks")
