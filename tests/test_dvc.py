"""The DVC pipeline's structure: per-motion stages go stale alone; a resize parameter stales them all."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

DVC = str(Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / "dvc")


def dvc(project: Path, *args: str) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    result = subprocess.run([DVC, *args], cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def _placeholder(path: Path) -> None:
    """A stand-in for a stage's dependency or output: a folder with one file, or a file."""
    if path.suffix:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{path.name}\n")
    else:
        path.mkdir(parents=True, exist_ok=True)
        (path / "placeholder.txt").write_text(f"{path}\n")


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Path:
    """The repo's dvc.yaml and params.yaml in a fresh git + DVC repo, every stage committed as run."""
    from dvc.repo import Repo

    project = tmp_path_factory.mktemp("dvc")
    shutil.copy(REPO / "dvc.yaml", project)
    shutil.copy(REPO / "params.yaml", project)
    shutil.copytree(REPO / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    dvc(project, "init", "-q")
    with contextlib.chdir(project):
        repo = Repo(str(project))
        for stage in repo.index.stages:
            for item in (*stage.deps, *stage.outs):
                if item.def_path != "params.yaml" and not (project / item.def_path).exists():
                    _placeholder(project / item.def_path)
        repo.commit(force=True)
    return project


def stale_stages(project: Path) -> set[str]:
    return set(json.loads(dvc(project, "status", "--json")))


def per_motion(stages: set[str]) -> set[str]:
    return {s for s in stages if "@" in s}


def test_everything_is_up_to_date_after_commit(committed):
    assert stale_stages(committed) == set()


def test_touching_one_motion_stales_only_that_motions_stages(committed):
    video = committed / "data/01_raw/videos/rain/rain_new.mp4"
    video.write_bytes(b"a new video")
    try:
        stale = stale_stages(committed)
        assert per_motion(stale) == {"synthesize@rain", "prepare@rain"}
        # pretrain (mini profile only) learns from every mini video's frames, so it reads them all
        assert stale - per_motion(stale) <= {"pretrain"}
    finally:
        video.unlink()


@contextlib.contextmanager
def edited_params(project: Path, edit) -> Iterator[dict]:
    """``params.yaml`` with ``edit(values)`` applied for the duration of the block; yields the values."""
    params = project / "params.yaml"
    original = params.read_text()
    values = yaml.safe_load(original)
    edit(values)
    params.write_text(yaml.safe_dump(values, sort_keys=False))
    try:
        yield values
    finally:
        params.write_text(original)


def test_a_resize_parameter_stales_every_motion(committed):
    with edited_params(committed, lambda v: v["data"].update(resize_mode="stretch")) as values:
        assert per_motion(stale_stages(committed)) == {f"prepare@{m}" for m in values["motions"]}


def test_the_learning_rate_of_pretraining_stales_only_pretrain(committed):
    with edited_params(committed, lambda v: v["pretrain"]["vae"]["train"].update(learning_rate=1.0e-3)):
        assert stale_stages(committed) == {"pretrain"}


def test_the_training_learning_rate_stales_only_the_train_stages(committed):
    with edited_params(committed, lambda v: v["train"].update(learning_rate=3.0e-5)) as values:
        # the ablation trains its variants with the same settings, so it is stale too
        assert stale_stages(committed) == {f"train@{m}" for m in values["motions"]} | {"ablate"}


def test_a_sampling_parameter_stales_generation_not_training_or_first_frames(committed):
    with edited_params(committed, lambda v: v["generate"].update(guidance_scale=7.5)):
        assert stale_stages(committed) == {"generate", "ablate"}
