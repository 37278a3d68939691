"""Shared fixtures: a throwaway copy of the Kedro project so runs never write into the repo."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = deep_merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def make_kedro_project(root: Path, monkeypatch: pytest.MonkeyPatch, params: dict[str, Any] | None = None) -> Path:
    """The project's conf/, params.yaml (with ``params`` merged in) and pyproject.toml under ``root``.

    MLflow tracks into a SQLite file inside the copy, and the working directory moves there.
    """
    root = root / "project"
    root.mkdir()
    for name in ("conf", "pyproject.toml", ".telemetry"):
        source = REPO / name
        if source.is_dir():  # not a developer's conf/local overrides
            shutil.copytree(source, root / name, ignore=lambda folder, names: names if Path(folder).name == "local" else [])
        else:
            shutil.copy(source, root / name)
    values = deep_merge(yaml.safe_load((REPO / "params.yaml").read_text()), params or {})
    (root / "params.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
    (root / "src").mkdir()
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def kedro_project(tmp_path, monkeypatch) -> Path:
    return make_kedro_project(tmp_path, monkeypatch)


def run_kedro(project: Path, pipeline: str, params: dict | None = None, namespaces: list[str] | None = None) -> None:
    """Run one registered pipeline of the project copy in-process, as `kedro run --pipeline` would.

    Each CLI run is its own process with its own MLflow run; in one test process the MLflow run a
    session leaves active (kedro-mlflow does not end runs of failed pipelines) is ended here.
    """
    import mlflow
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    try:
        with KedroSession.create(project_path=project, runtime_params=params or {}) as session:
            session.run(pipeline_names=[pipeline], namespaces=namespaces)
    finally:
        while mlflow.active_run():
            mlflow.end_run()
