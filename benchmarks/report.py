"""How a benchmark reports its result: one JSON line, and optionally an MLflow run."""

from __future__ import annotations

import json
from typing import Any


def report(result: dict[str, Any], run_name: str, to_mlflow: bool) -> None:
    """Print ``result`` as JSON; with ``to_mlflow``, log it to experiment ``lamp-benchmarks``.

    Strings and booleans become parameters, numbers metrics.
    """
    print(json.dumps(result))
    if not to_mlflow:
        return
    import mlflow

    mlflow.set_experiment("lamp-benchmarks")
    with mlflow.start_run(run_name=run_name):
        mlflow.log_params({k: v for k, v in result.items() if isinstance(v, (str, bool))})
        mlflow.log_metrics({k: float(v) for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
