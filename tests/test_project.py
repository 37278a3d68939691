"""The Kedro project itself: parameters from params.yaml, profiles, and a pipeline run with MLflow."""

from __future__ import annotations

import json

import mlflow
import pytest
import yaml
from diffusers import UNet2DConditionModel

from lamp.models import tiny_unet_config
from lamp.profiles import Profile, profile_name

from .conftest import REPO, run_kedro


def test_params_yaml_defines_both_profiles_and_selects_mini_through_an_alias():
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    assert params["profile"] is params["profiles"]["mini"]  # `profile: *mini`: DVC reads the profile through it
    assert set(params["profiles"]) == {"mini", "full"}
    full = Profile.from_params("full", params["profiles"]["full"])
    assert (full.height, full.width, full.n_frames) == (320, 512, 16)
    assert full.video_base_model == "CompVis/stable-diffusion-v1-4"
    assert "xl" in full.first_frame_model


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match=r"profile is 'large'.*set `profile:` to one of \['\*full', '\*mini'\]"):
        profile_name({"profile": "large", "profiles": {"mini": {}, "full": {}}})


def test_model_card_pipeline_runs_and_is_tracked(kedro_project):
    base = kedro_project / "tiny_base"
    UNet2DConditionModel(**tiny_unet_config()).save_pretrained(base / "unet")
    run_kedro(kedro_project, "model_card", {"profiles": {"mini": {"video_base_model": str(base)}}})

    card = json.loads((kedro_project / "data/mini/08_reporting/model_card.json").read_text())
    assert card["profile"] == "mini" and card["base_model"] == str(base)
    assert card["untrained_equals_image_model"] is True
    assert card["max_abs_diff_per_frame"][0] <= 1e-5
    assert 0 < card["trainable_parameters"] < card["total_parameters"]

    runs = mlflow.search_runs(experiment_names=["lamp"], output_format="list")
    assert len(runs) == 1
    assert runs[0].data.params["model.conv_mode"] == "prediction"


def test_kedro_viz_builds_the_projects_pipelines_offline(kedro_project):
    """`kedro viz build` (kedro-viz, a dependency) renders the project: every registered pipeline, and the
    catalog edges that order the chain (train's motion model into generate)."""
    import os
    import subprocess
    from pathlib import Path

    venv_bin = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin"
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}", "KEDRO_DISABLE_TELEMETRY": "1",
           "DO_NOT_TRACK": "1", "MLFLOW_TRACKING_URI": f"sqlite:///{kedro_project / 'mlflow.db'}"}
    result = subprocess.run([str(venv_bin / "kedro"), "viz", "build"], cwd=kedro_project, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    graph = json.loads((kedro_project / "build/api/main").read_text())
    assert {"__default__", "train", "generate", "evaluate", "ablate", "edit"} <= {p["id"] for p in graph["pipelines"]}
    names = {node["id"]: node["name"] for node in graph["nodes"]}
    edges = {(names[e["source"]], names[e["target"]]) for e in graph["edges"]}
    assert ("rain.motion_model", "generate_videos") in edges
