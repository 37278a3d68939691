"""The commit a run is tagged with: clean when only pipeline outputs changed, dirty (saying what) otherwise."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from lamp.lineage import UNTRACKED, dvc_hash, git_commit, pipeline_outputs, uncommitted_changes, uncommitted_summary

LOCK = {"schema": "2.0", "stages": {
    "evaluate": {"cmd": "kedro run", "outs": [{"path": "data/mini/08_reporting/metrics.json", "md5": "1"}]},
    "train@rain": {"cmd": "kedro run", "outs": [{"path": "data/mini/08_reporting/train/rain.json", "md5": "2"},
                                                {"path": "data/mini/06_models/motions/rain", "md5": "3.dir"}]},
}}


def git(cwd: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments], cwd=cwd,
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository whose project lives in a subfolder (paths in git differ from paths in dvc.lock)."""
    root = tmp_path / "repo"
    project = root / "lamp"
    for path, text in {"src/model.py": "x = 1\n", "params.yaml": "train: {steps: 2}\n",
                       "dvc.lock": yaml.safe_dump(LOCK), "data/mini/08_reporting/metrics.json": "{}\n",
                       "data/mini/08_reporting/train/rain.json": "{}\n"}.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "start")
    return project


def test_a_repro_that_rewrote_only_pipeline_outputs_leaves_the_commit_clean(project):
    head = git(project, "rev-parse", "HEAD")
    (project / "dvc.lock").write_text(yaml.safe_dump({**LOCK, "schema": "2.0"}) + "# rewritten\n")
    (project / "data/mini/08_reporting/metrics.json").write_text('{"motion_recognition": 72.9}\n')
    (project / "data/mini/08_reporting/train/rain.json").write_text('{"steps": 200}\n')
    assert uncommitted_changes(project) == [] and uncommitted_summary(uncommitted_changes(project)) == "none"
    assert git_commit(project) == head


def test_changed_code_or_parameters_make_it_dirty_and_are_named(project):
    head = git(project, "rev-parse", "HEAD")
    (project / "src/model.py").write_text("x = 2\n")
    (project / "params.yaml").write_text("train: {steps: 3}\n")
    (project / "data/mini/08_reporting/metrics.json").write_text('{"motion_recognition": 72.9}\n')
    assert uncommitted_changes(project) == ["lamp/params.yaml", "lamp/src/model.py"]
    assert git_commit(project) == f"{head}-dirty"
    assert uncommitted_summary(uncommitted_changes(project)) == "lamp/params.yaml, lamp/src/model.py"
    assert uncommitted_summary(uncommitted_changes(project), limit=10) == "lamp/pa..."


def test_outputs_are_what_the_lock_lists_and_outside_git_there_is_no_commit(project, tmp_path):
    assert pipeline_outputs(project / "dvc.lock") == ["data/mini/08_reporting/metrics.json",
                                                      "data/mini/08_reporting/train/rain.json",
                                                      "data/mini/06_models/motions/rain"]
    elsewhere = tmp_path / "not_a_repository"
    elsewhere.mkdir()
    assert git_commit(elsewhere) == UNTRACKED and uncommitted_changes(elsewhere) == []


def test_a_stale_lock_entry_of_a_stage_dvc_yaml_no_longer_defines_cannot_name_the_data(tmp_path):
    """DVC keeps ``encode@rain``'s entry after encode was merged into ``prepare@rain``: its old hash of the
    latents comes first in the lock, and the lineage must give the hash of the stage that made them."""
    latents = "data/mini/03_primary/rain"
    lock = {"schema": "2.0", "stages": {
        "encode@rain": {"cmd": "kedro run", "outs": [{"path": latents, "md5": "stale.dir"}]},
        "prepare@rain": {"cmd": "kedro run", "outs": [{"path": latents, "md5": "made.dir"}]},
    }}
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    assert dvc_hash(latents, tmp_path / "dvc.lock") == "stale.dir"  # no dvc.yaml: nothing says it is stale
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"prepare": {"foreach": ["rain"], "do": {"cmd": "x"}}}}))
    assert dvc_hash(latents, tmp_path / "dvc.lock") == "made.dir"
    assert pipeline_outputs(tmp_path / "dvc.lock") == [latents]
