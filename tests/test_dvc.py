"""The DVC pipeline's structure: which stages each profile has, what goes stale when, and that no
stage ever writes where a user keeps videos."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
import yaml

from lamp.config_loader import write_params_file

from .conftest import REPO, project_params

DVC = str(Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / "dvc")
#: A user's own motion next to the mini world's, in the folder the README tells users to fill.
USER_MOTION = {"people_move": "data/01_raw/videos/people_move"}
MINI_ONLY = ("synthesize@", "mini_world@", "pretrain@")


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


def scratch_repo(root: Path, values: dict) -> Path:
    """The repo's dvc.yaml, ``values`` as params.yaml, and src/ in a fresh git + DVC repo."""
    shutil.copy(REPO / "dvc.yaml", root)
    write_params_file(root / "params.yaml", values)
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "conf", root / "conf", ignore=lambda folder, names: names if Path(folder).name == "local" else [])
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    dvc(root, "init", "-q")
    return root


def stages_of(project: Path) -> list:
    from dvc.repo import Repo

    with contextlib.chdir(project):
        return list(Repo(str(project)).index.stages)


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Path:
    """The mini profile (with a user's motion added) in a scratch repo, every stage committed as run."""
    from dvc.repo import Repo

    values = project_params({"profiles": {"mini": {"motions": USER_MOTION}}})
    project = scratch_repo(tmp_path_factory.mktemp("dvc"), values)
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


@contextlib.contextmanager
def edited_params(project: Path, edit) -> Iterator[dict]:
    """``params.yaml`` with ``edit(values)`` applied for the duration of the block; yields the values.

    ``profile`` is the same object as the profile it selects (a YAML alias), so edits of
    ``values["profiles"][<selected>]`` reach it, as editing the file does.
    """
    params = project / "params.yaml"
    original = params.read_text()
    values = yaml.safe_load(original)
    edit(values)
    write_params_file(params, values)
    try:
        yield values
    finally:
        params.write_text(original)


def test_everything_is_up_to_date_after_commit(committed):
    assert stale_stages(committed) == set()


def test_touching_one_motion_stales_only_that_motions_stages(committed):
    video = committed / "data/mini/01_raw/videos/rain/rain_new.mp4"
    video.write_bytes(b"a new video")
    try:
        stale = stale_stages(committed)
        assert per_motion(stale) == {"synthesize@mini-rain", "prepare@rain", "pretrain@mini"}
    finally:
        video.unlink()


def test_a_users_videos_stale_only_their_own_motion(committed):
    """Pretraining reads the mini world's videos only: a user's motion is not part of it."""
    video = committed / "data/01_raw/videos/people_move/new.gif"
    video.write_bytes(b"a new video")
    try:
        assert stale_stages(committed) == {"prepare@people_move"}
    finally:
        video.unlink()


def test_a_resize_parameter_stales_every_motion(committed):
    with edited_params(committed, lambda v: v["data"].update(resize_mode="stretch")) as values:
        motions = values["profiles"]["mini"]["motions"]
        assert per_motion(stale_stages(committed)) == {f"prepare@{m}" for m in motions}


def test_the_learning_rate_of_pretraining_stales_only_pretrain(committed):
    with edited_params(committed, lambda v: v["pretrain"]["vae"]["train"].update(learning_rate=1.0e-3)):
        assert stale_stages(committed) == {"check", "pretrain@mini"}


def test_the_training_learning_rate_stales_only_the_train_stages(committed):
    with edited_params(committed, lambda v: v["profiles"]["mini"]["train"].update(learning_rate=3.0e-5)) as values:
        # the ablation trains its variants with the same settings, so it is stale too
        motions = values["profiles"]["mini"]["motions"]
        assert stale_stages(committed) == {"check", "ablate"} | {f"train@{m}" for m in motions}


def test_a_sampling_parameter_stales_generation_not_training_or_first_frames(committed):
    with edited_params(committed, lambda v: v["profiles"]["mini"]["generate"].update(guidance_scale=7.5)):
        assert stale_stages(committed) == {"check", "generate", "ablate"}


def test_the_other_profiles_values_stale_nothing(committed):
    def edit(values):
        values["profiles"]["full"]["train"]["learning_rate"] = 1.0e-5
        values["profiles"]["full"]["generate"]["guidance_scale"] = 9.0

    with edited_params(committed, edit):
        assert stale_stages(committed) == set()


@pytest.mark.parametrize("profile", ["mini", "full"])
def test_no_stage_writes_where_users_keep_videos(tmp_path, profile):
    """Outputs live under data/<profile>/ only: a user's folders (data/01_raw/...) are never an output."""
    values = project_params({"profiles": {profile: {"motions": USER_MOTION}}}, profile=profile)
    project = scratch_repo(tmp_path, values)
    stages = stages_of(project)
    outs = {PurePosixPath(out.def_path) for stage in stages for out in stage.outs}
    assert outs and all(out.is_relative_to(f"data/{profile}") for out in outs)
    for folder in values["profiles"][profile]["motions"].values():
        if not PurePosixPath(folder).is_relative_to(f"data/{profile}"):
            assert not any(PurePosixPath(folder).is_relative_to(out) or out.is_relative_to(folder) for out in outs)


def test_the_full_profile_has_no_mini_stage_and_no_mini_dependency(tmp_path):
    project = scratch_repo(tmp_path, project_params(profile="full"))
    stages = stages_of(project)
    names = {stage.name for stage in stages}
    assert not [name for name in names if name.startswith(MINI_ONLY)]
    assert {"check", "hub_models@full", "prepare@horse_run", "train@horse_run", "first_frames", "generate",
            "evaluate", "ablate", "model_card"} <= names
    paths = {PurePosixPath(item.def_path) for stage in stages for item in (*stage.deps, *stage.outs)}
    assert not [path for path in paths if path.is_relative_to("data/mini")]


def test_the_readme_draws_the_stages_as_dvc_runs_them():
    from lamp.readme import readme_with_block
    from lamp.stage_graph import README_BLOCK, stage_flowchart

    readme = (REPO / "README.md").read_text()
    assert readme_with_block(readme, README_BLOCK, stage_flowchart(REPO)) == readme, "run `lamp dag --readme README.md`"


def test_the_stage_flowchart_draws_each_motions_stages_once_with_only_the_arrows_no_path_implies(tmp_path):
    from lamp.stage_graph import stage_flowchart, stage_groups

    values = project_params(profile="full")
    project = scratch_repo(tmp_path, values)
    groups = stage_groups(project)
    motions = sorted(values["profiles"]["full"]["motions"])
    assert groups.nodes["train@"]["members"] == [f"train@{m}" for m in motions]
    assert {("prepare@", "train@"), ("train@", "generate"), ("generate", "evaluate")} <= set(groups.edges)
    assert ("check", "train@") not in groups.edges  # train reads check.json, but through prepare
    assert [name for name, degree in groups.in_degree if degree == 0] == ["check"]
    chart = stage_flowchart(project)
    assert f'train_["train@* ×{len(motions)}"]' in chart and "hub_models@full" in chart and "synthesize" not in chart
