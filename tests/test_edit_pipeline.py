"""The ``edit`` pipeline, its two DVC stages and ``lamp edit`` end to end, on a tiny base model and a tiny video."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch
import yaml
from click.testing import CliRunner
from safetensors.torch import load_file

from lamp.data import read_video, write_video
from lamp.editing import EditInputError
from lamp.io import file_sha256
from lamp.mini.base_models import build_text_encoder, build_tokenizer, build_unet, build_vae, text_to_image_pipeline
from lamp.mini.settings import MiniBaseConfig

from .conftest import make_kedro_project, run_kedro
from .test_dvc import committed, edited_params, stale_stages  # noqa: F401  (committed: a fixture)

SOURCE = "data/01_raw/videos/clip/source.mp4"
EDITS = {"clip": {"video": SOURCE, "source_prompt": "a blue triangle on a sky background",
                  "prompt": "a red triangle on a sky background", "first_frame": None}}
TINY = {
    "profiles": {"mini": {
        "height": 32, "width": 32, "n_frames": 4,
        "edit": {"train": {"max_train_steps": 2, "learning_rate": 1.0e-3}, "sampling": {"num_inference_steps": 2}},
    }},
    "edit": {"img2img": {"num_inference_steps": 2}},
}
OUT, MODEL, REPORTS = "data/mini/07_model_output/edit/clip", "data/mini/06_models/edit/clip", "data/mini/08_reporting/edit"
OUTPUTS = ["edit.mp4", "edit.gif", "side_by_side.mp4", "first_frame.png"]


def save_tiny_base(path: Path) -> None:
    """A mini base of tiny random models in the SD v1 layout the pipelines load."""
    torch.manual_seed(0)
    config = MiniBaseConfig(image_size=32, vae_channels=(16, 16), unet_channels=(32, 32), text_width=16,
                            text_heads=2, text_layers=1, max_tokens=8)
    tokenizer = build_tokenizer(config)
    pipe = text_to_image_pipeline(build_vae(config), build_unet(config), build_text_encoder(config, tokenizer), tokenizer)
    pipe.save_pretrained(path)


def moving_square_video(path: Path, n_frames: int, height: int = 40, width: int = 64) -> Path:
    """A white square moving right on blue; 40 x 64, so the 32 x 32 edit centre-crops it."""
    frames = np.zeros((n_frames, height, width, 3), np.uint8)
    frames[..., 2] = 160
    for f in range(n_frames):
        frames[f, 12:24, 12 + 3 * f : 24 + 3 * f] = 255
    return write_video(path, frames, fps=8)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project copy with a tiny base and source video, the whole ``edit`` pipeline run once."""
    monkeypatch = pytest.MonkeyPatch()
    root = make_kedro_project(tmp_path_factory.mktemp("edit"), monkeypatch, params=TINY, edits=EDITS)
    save_tiny_base(root / "data/mini/06_models/base")
    moving_square_video(root / SOURCE, n_frames=9)
    run_kedro(root, "edit")
    yield root
    monkeypatch.undo()


def run_nodes(project: Path, nodes: str, params: dict) -> None:
    """``kedro run --pipelines=edit --nodes=...``, as a DVC stage runs it."""
    import mlflow
    from kedro.framework.session import KedroSession

    try:
        with KedroSession.create(project_path=project, runtime_params=params) as session:
            session.run(pipeline_names=["edit"], node_names=[f"clip.{node}" for node in nodes.split(",")])
    finally:
        while mlflow.active_run():
            mlflow.end_run()


def edit_runs(sha256: str):
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    experiment = client.get_experiment_by_name("lamp").experiment_id
    return client, client.search_runs([experiment], f"tags.`lamp.source_video_sha256` = '{sha256}'",
                                      order_by=["attributes.start_time ASC"])


def test_the_pipeline_writes_the_edit_side_by_side_first_frame_and_cached_latents(project):
    out = project / OUT
    edit = read_video(out / "edit.mp4").frames
    assert edit.shape == (4, 32, 32, 3)
    assert read_video(out / "edit.gif").frames.shape[1:] == (32, 32, 3)
    assert read_video(out / "side_by_side.mp4").frames.shape == (4, 32, 64, 3)
    assert PIL.Image.open(out / "first_frame.png").size == (32, 32)
    latents = load_file(project / MODEL / "inverted_latents.safetensors")["latents"]
    assert latents.shape == (1, 4, 4, 16, 16)
    assert (project / MODEL / "motion_weights.safetensors").is_file()
    report = json.loads((project / REPORTS / "clip.json").read_text())
    assert (report["frames"], report["height"], report["width"], report["fps"]) == (4, 32, 32, 4.0)
    assert json.loads((project / REPORTS / "clip_train.json").read_text())["steps"] == 2


def test_the_run_is_in_mlflow_with_params_videos_and_lineage(project):
    sha256 = file_sha256(project / SOURCE)
    client, runs = edit_runs(sha256)
    run = runs[0]
    assert run.data.params["active_profile.edits.clip.prompt"] == "a red triangle on a sky background"
    assert run.data.params["edit.train.max_train_steps"] == "2"
    tags = run.data.tags
    assert tags["lamp.edit.video"] == SOURCE and len(tags["lamp.weights_sha256"]) == 64
    assert len(tags["lamp.git_commit"]) >= 7 or tags["lamp.git_commit"] == "untracked"
    assert {"lamp.base_model_dvc_hash", "lamp.base_model"} <= set(tags)
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [1, 2]
    logged = {a.path for a in client.list_artifacts(run.info.run_id, "edit")}
    assert logged == {f"edit/{name}" for name in OUTPUTS}
    model = {a.path for a in client.list_artifacts(run.info.run_id, "edit_model")}
    assert model == {"edit_model/motion_weights.safetensors", "edit_model/lamp_config.json"}


def test_a_new_prompt_and_first_frame_reuse_the_tuned_model_and_the_cached_inversion(project, tmp_path):
    """The nodes of DVC stage ``edit`` alone: the weights and inverted latents stay as they were."""
    model = project / MODEL
    before = [(model / name).read_bytes() for name in ("inverted_latents.safetensors", "motion_weights.safetensors")]
    old = read_video(project / OUT / "edit.mp4").frames
    given = tmp_path / "given.png"
    PIL.Image.fromarray(np.full((64, 96, 3), (250, 200, 0), np.uint8)).save(given)
    run_nodes(project, "source_clip,edited_first_frame,sample_edited_video",
              {"profiles": {"mini": {"edits": {"clip": {"prompt": "a yellow star on a sand background",
                                                        "first_frame": str(given)}}}}})
    assert [(model / name).read_bytes() for name in ("inverted_latents.safetensors", "motion_weights.safetensors")] == before
    assert not np.array_equal(read_video(project / OUT / "edit.mp4").frames, old)
    first = np.asarray(PIL.Image.open(project / OUT / "first_frame.png"))
    assert first.shape == (32, 32, 3) and (first == (250, 200, 0)).all()
    report = json.loads((project / REPORTS / "clip.json").read_text())
    assert report["prompt"] == "a yellow star on a sand background" and report["first_frame"] == str(given)
    _, runs = edit_runs(file_sha256(project / SOURCE))
    assert runs[-1].data.tags["lamp.first_frame_sha256"] == file_sha256(given)


@pytest.mark.parametrize(
    "video, message",
    [
        ("data/01_raw/videos/clip/missing.mp4", r"missing\.mp4 does not exist"),
        ("data/01_raw/videos/clip/short.mp4", r"short\.mp4 has 5 frames.*needs 7"),
    ],
)
def test_a_bad_source_video_stops_the_pipeline_with_the_file_and_the_fix(project, video, message):
    moving_square_video(project / "data/01_raw/videos/clip/short.mp4", n_frames=5)
    with pytest.raises(EditInputError, match=message):
        run_nodes(project, "source_clip,tune_motion,invert_source_clip",
                  {"profiles": {"mini": {"edits": {"clip": {"video": video}}}}})


def invoke_edit(project: Path, *args: str):
    from lamp.command_line import main

    return CliRunner().invoke(main, ["edit", "--project", str(project), *args], catch_exceptions=False)


def test_lamp_edit_writes_the_edit_and_its_side_by_side(project, tmp_path):
    first = tmp_path / "edited.png"
    PIL.Image.fromarray(np.full((48, 48, 3), (220, 30, 30), np.uint8)).save(first)
    out = tmp_path / "out.mp4"
    result = invoke_edit(project, "--video", str(project / SOURCE), "--prompt", "a red star on a sand background",
                         "--first-frame", str(first), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert read_video(out).frames.shape == (4, 32, 32, 3)
    assert read_video(tmp_path / "out_side_by_side.mp4").frames.shape == (4, 32, 64, 3)
    assert str(out) in result.output


def bad_input(kind: str, folder: Path) -> Path:
    """A missing video, a 5-frame video (the clip needs 7) or a file that is not an image."""
    if kind == "short":
        return moving_square_video(folder / "short.mp4", n_frames=5)
    if kind == "not an image":
        (folder / "bad.png").write_bytes(b"no image")
        return folder / "bad.png"
    return folder / "nothing.mp4"


@pytest.mark.parametrize(
    "kind, option, message",
    [
        ("missing", "--video", r"nothing\.mp4 does not exist"),
        ("short", "--video", r"short\.mp4 has 5 frames, but an edit of 4 frames at stride 2 needs 7"),
        ("not an image", "--first-frame", r"cannot read the first-frame image .*bad\.png"),
    ],
)
def test_lamp_edit_names_a_bad_input_and_the_fix(project, tmp_path, kind, option, message):
    options = {"--video": str(project / SOURCE), "--prompt": "a red star on a sand background",
               "--out": str(tmp_path / "o.mp4"), option: str(bad_input(kind, tmp_path))}
    result = invoke_edit(project, *[item for pair in options.items() for item in pair])
    assert result.exit_code == 2
    assert f"Invalid value for {option}" in result.output
    assert re.search(message, " ".join(result.output.split())), result.output
    assert not (tmp_path / "o.mp4").exists()


def test_a_new_prompt_stales_only_the_edit_stage_and_a_new_source_both(committed):  # noqa: F811
    edit = lambda v: v["profiles"]["mini"]["edits"]["horse_run_11"]  # noqa: E731
    with edited_params(committed, lambda v: edit(v).update(prompt="a white star on a black background")):
        assert stale_stages(committed) == {"check", "edit@horse_run_11", "report"}  # the gallery shows the prompts
    with edited_params(committed, lambda v: v["profiles"]["mini"]["edit"]["train"].update(max_train_steps=50)):
        assert stale_stages(committed) == {"check", "edit_model@horse_run_11", "edit@horse_run_11"}
    source = committed / edit(yaml.safe_load((committed / "params.yaml").read_text()))["video"]
    original = source.read_bytes()
    source.write_bytes(original + b"another video")
    try:
        assert {"edit_model@horse_run_11", "edit@horse_run_11"} <= stale_stages(committed)
    finally:
        source.write_bytes(original)
