"""`lamp check`: a run that cannot get through stops in seconds, naming each problem and its fix."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from lamp.checks import process_problems
from lamp.command_line import main

from .conftest import REPO, make_kedro_project

VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin"


def check(project: Path, *args: str):
    return CliRunner().invoke(main, ["check", "--project", str(project), *args])


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No hub, and an empty Hugging Face cache."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))


def test_without_the_models_each_is_named_and_the_command_fails(tmp_path, monkeypatch):
    """As a user runs it, in a process of its own (its time is in the README: seconds, the hub not waited for)."""
    project = make_kedro_project(tmp_path, monkeypatch, profile="full")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "empty-cache"),
           "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([str(VENV_BIN / "lamp"), "check"], cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("  !!")]
    for model in ("CompVis/stable-diffusion-v1-4", "stabilityai/stable-diffusion-xl-base-1.0",
                  "timm/vit_large_patch14_clip_224.openai"):
        named = [line for line in problems if model in line]
        assert named and "HF_HUB_OFFLINE is set" in named[0] and f"hf download {model}" in named[0]
    assert "nothing was run" in result.stderr


def test_a_ready_project_passes_and_writes_a_report_that_only_parameters_change(tmp_path, monkeypatch, offline):
    project = make_kedro_project(tmp_path, monkeypatch)
    reports = []
    for _ in range(2):
        result = check(project, "--report", "report.json")
        assert result.exit_code == 0, result.output
        reports.append((project / "report.json").read_bytes())
    assert reports[0] == reports[1]
    report = json.loads(reports[0])
    assert report["profile"] == "mini" and "rain" in report["motions"]
    assert "is made by the run" in result.output  # the mini models come from stage pretrain@mini


def test_a_users_motion_folder_is_checked_for_videos(tmp_path, monkeypatch, offline):
    folder = "data/01_raw/videos/people_move"
    project = make_kedro_project(tmp_path, monkeypatch, {"profiles": {"mini": {"motions": {"people_move": folder}}}})
    result = check(project)
    assert result.exit_code == 1 and f"{folder} does not exist" in result.output
    (project / folder).mkdir(parents=True)
    for name in ("a.mp4", "b.gif", "notes.txt"):
        (project / folder / name).write_bytes(b"x")
    result = check(project)
    assert "holds 2 videos and data.min_videos is 8" in " ".join(result.output.split())


def test_a_motion_inside_the_runs_own_outputs_that_nothing_makes_is_refused(tmp_path, monkeypatch, offline):
    folder = "data/mini/01_raw/videos/dance"
    project = make_kedro_project(tmp_path, monkeypatch, {"profiles": {"mini": {"motions": {"dance": folder}}}})
    result = check(project)
    assert result.exit_code == 1 and "nothing makes this folder" in " ".join(result.output.split())


@pytest.mark.parametrize(
    "override, message",
    [
        ({"profiles": {"mini": {"train": {"learning_rat": 1.0}}}}, "unknown training settings ['learning_rat']"),
        ({"model": {"conv_mode": "sideways"}}, "params.yaml model (profile mini)"),
        ({"profiles": {"mini": {"edit": {"first_frame_drawer": "crayons"}}}}, "first_frame_drawer is 'crayons'; expected one of ['controlnet', 'img2img']"),
        ({"synthesize": {"motions": ["rain", "volcano"]}}, "['volcano']: the mini world renders only"),
        ({"ablate": {"variants": {"odd": {"generate": {"guidance": 2}}}}}, "ablate.variants.odd"),
    ],
)
def test_a_bad_setting_is_named_before_anything_runs(tmp_path, monkeypatch, offline, override, message):
    project = make_kedro_project(tmp_path, monkeypatch, override)
    result = check(project)
    assert result.exit_code == 1 and message in result.output, result.output


def test_fp16_without_a_gpu_is_refused_with_the_setting_to_change(tmp_path, monkeypatch, offline):
    project = make_kedro_project(tmp_path, monkeypatch, {"profiles": {"mini": {"train": {"mixed_precision": "fp16"}}}})
    result = check(project)
    assert result.exit_code == 1
    assert "train.mixed_precision is fp16 (profile mini), which needs a CUDA GPU" in " ".join(result.output.split())


@pytest.mark.parametrize("gpus, named", [(1, ["generate.processes"]), (2, []), (None, [])])
def test_more_processes_than_gpus_are_refused_before_anything_runs(gpus, named):
    params = {"train": {"processes": 1}, "generate": {"processes": 2}}
    problems = process_problems(params, gpus)
    assert [problem.split(" is ")[0] for problem in problems] == named
    assert all("set generate.processes to 1 or less" in problem for problem in problems)


def test_a_motion_without_evaluation_prompts_is_named(tmp_path, monkeypatch, offline):
    prompts = "data/01_raw/prompts.csv"
    folder = "data/01_raw/videos/people_move"
    override = {"profiles": {"full": {"motions": {"people_move": folder}, "prompts_file": prompts}}}
    project = make_kedro_project(tmp_path, monkeypatch, override, profile="full", motions=[])
    (project / folder).mkdir(parents=True)
    (project / prompts).write_text("motion,prompt\nrain,rain falls\n")
    result = check(project)
    assert "has no evaluation prompt for ['people_move']" in " ".join(result.output.split())


def test_a_plain_profile_name_is_explained(tmp_path, monkeypatch):
    project = make_kedro_project(tmp_path, monkeypatch)
    text = (project / "params.yaml").read_text()
    anchor = text.split("profile: ")[1].split("\n")[0]  # PyYAML's alias of the mini profile, e.g. *id001
    (project / "params.yaml").write_text(text.replace(f"profile: {anchor}", "profile: mini"))
    result = check(project)
    assert result.exit_code == 2 and "write `profile: *mini`" in result.output
