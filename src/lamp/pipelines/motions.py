"""The motions a run processes: Kedro builds one namespaced copy of a per-motion pipeline for each."""

from __future__ import annotations

from pathlib import Path

import yaml
from kedro.pipeline import Pipeline

from lamp.config_loader import PARAMS_FILE


def project_motions() -> list[str]:
    """``motions`` from the project's params.yaml (pipelines are registered before parameters load)."""
    params_file = Path.cwd() / PARAMS_FILE
    if not params_file.is_file():
        return []
    return list(yaml.safe_load(params_file.read_text()).get("motions") or [])


def per_motion(template: Pipeline, shared_parameters: set[str]) -> Pipeline:
    """``template`` once per motion, namespaced by the motion name (``rain.clips``, ...)."""
    return sum(
        (Pipeline(template, namespace=motion, parameters=shared_parameters) for motion in project_motions()),
        Pipeline([]),
    )
