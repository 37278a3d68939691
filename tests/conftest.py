"""Shared fixtures: a throwaway copy of the Kedro project so runs never write into the repo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def kedro_project(tmp_path, monkeypatch) -> Path:
    """The project's conf/, params.yaml and pyproject.toml in a temp folder, MLflow tracking inside it."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("conf", "params.yaml", "pyproject.toml", ".telemetry"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    (root / "src").mkdir()
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    monkeypatch.chdir(root)
    return root


def run_kedro(project: Path, pipeline: str, params: dict | None = None) -> None:
    """Run one registered pipeline of the project copy in-process, as `kedro run --pipeline` would."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    with KedroSession.create(project_path=project, runtime_params=params or {}) as session:
        session.run(pipeline_names=[pipeline])
