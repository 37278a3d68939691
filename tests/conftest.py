"""Shared fixtures: a throwaway copy of the Kedro project so runs never write into the repo."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from lamp.config_loader import write_params_file
from lamp.profiles import Profile, deep_merge

REPO = Path(__file__).resolve().parents[1]


def import_benchmark(name: str) -> ModuleType:
    """A script of ``benchmarks/`` as a module; the folder is on ``sys.path`` while it imports, as when
    the script runs (its ``from report import report``)."""
    folder = str(REPO / "benchmarks")
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)


def make_profile(**fields: Any) -> Profile:
    """A typed profile of made-up models at tiny sizes, ``fields`` replacing its values."""
    values = {"height": 32, "width": 32, "n_frames": 6, "video_base_model": "base", "first_frame_model": "drawer",
              "clip_model": "clip", "prompts_file": "prompts.csv", "stages": {"mini_world": [], "hub_models": []},
              "motions": {"rain": "videos/rain"}}
    return Profile.from_params(fields.pop("name", "mini"), {**values, **fields})


def project_params(
    overrides: dict[str, Any] | None = None,
    profile: str | None = None,
    motions: list[str] | None = None,
    edits: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The repo's params.yaml with ``overrides`` deep-merged in, ``profile`` (default: the file's) selected.

    ``motions``: keep only these of every profile's motions (and of the mini world's); ``edits``:
    the selected profile's edits instead of the file's. ``profile``
    stays what the file makes it, the selected profile itself (a YAML alias when dumped), so that a
    dumped copy reads as params.yaml does, by Kedro and DVC alike.
    """
    values = yaml.safe_load((REPO / "params.yaml").read_text())
    name = profile or values["profile"]["name"]
    if motions is not None:
        values["synthesize"]["motions"] = list(motions)
        for settings in values["profiles"].values():
            settings["motions"] = {m: f for m, f in settings["motions"].items() if m in motions}
    values = deep_merge(values, overrides or {})
    if edits is not None:
        values["profiles"][name]["edits"] = edits
    values["profile"] = values["profiles"][name]
    return values


def make_kedro_project(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    params: dict[str, Any] | None = None,
    profile: str | None = None,
    motions: list[str] | None = None,
    edits: dict[str, dict[str, Any]] | None = None,
) -> Path:
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
    write_params_file(root / "params.yaml", project_params(params, profile, motions, edits))
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
