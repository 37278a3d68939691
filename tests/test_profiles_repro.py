"""`dvc repro` of both profiles in one project, as a user runs it: the mini profile with a motion of
the user's own beside the mini world's, then the full profile rehearsed on tiny models in the hub's
layouts (conf/rehearsal.yaml), then the mini profile again. The user's files never change, every
full-only branch runs, and switching back re-runs nothing.

Slow (several minutes: about 35 `kedro run`s); scripts/test.sh runs it with LAMP_SLOW_TESTS=1, as CI does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from lamp.config_loader import write_params_file
from lamp.rehearsal import OVERLAY, make_rehearsal_models, prepare_rehearsal, project_files, rehearsal_params

from .conftest import REPO, project_params
from .data.conftest import encode, moving_square, save_gif

pytestmark = pytest.mark.slow

VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin"
# The user's own motions: GIFs, and MP4s of another aspect ratio (ingest centre-crops them), a
# name the mini world does not know, and an edit of one of the MP4s.
USER_MOTIONS = {"people_move": "data/01_raw/videos/people_move", "waves": "data/01_raw/videos/waves"}
USER_EDIT = {"wave_edit": {"video": "data/01_raw/videos/waves/wave_0.mp4", "source_prompt": "a white square",
                           "prompt": "a yellow square", "first_frame": None}}
PROMPTS = "data/01_raw/my_prompts.csv"
MINI = {
    "synthesize": {"motions": ["rain"], "videos_per_motion": 3, "n_frames": 12, "n_stills": 48,
                   "eval_prompts_per_motion": 1},
    "data": {"min_videos": 2},
    "pretrain": {
        "frame_stride": 6,
        "base": {"vae_channels": [16, 16], "unet_channels": [32, 32], "text_width": 16, "text_heads": 2, "max_tokens": 8},
        "vae": {"crop_size": 16, "train": {"steps": 2, "batch_size": 4, "learning_rate": 1.0e-3, "warmup_steps": 0},
                "decoder": {"noise": 0.4, "crop_size": 16, "train": {"steps": 2, "batch_size": 4, "learning_rate": 1.0e-3}}},
        "text_to_image": {"steps": 2, "batch_size": 4, "learning_rate": 1.0e-3},
        "clip": {"model": {"image_size": 32, "patch_size": 8, "embed_dim": 16, "vision_width": 32, "vision_layers": 1,
                           "text_width": 32, "text_layers": 1, "heads": 2, "context_length": 8},
                 "train": {"steps": 2, "batch_size": 4, "learning_rate": 1.0e-3}},
        "check": {"num_inference_steps": 2, "guidance_scale": 2.0},
    },
    "profiles": {
        "mini": {
            "height": 32, "width": 32, "n_frames": 4,
            "train": {"max_train_steps": 2, "checkpointing_steps": 2},
            "generate": {"num_inference_steps": 2, "first_frame": {"num_inference_steps": 2}},
            "edit": {"n_frames": 4, "train": {"max_train_steps": 2}, "sampling": {"num_inference_steps": 2},
                     "first_frame_drawer": "img2img"},
            "ablate": {"motions": ["rain"], "prompts_per_motion": 1},
        },
        "full": {"prompts_file": PROMPTS},
    },
    "edit": {"img2img": {"num_inference_steps": 2}},
}


def user_files(project: Path) -> dict[str, str]:
    """SHA-256 of every file under data/01_raw/ that is not the mini world's: what the user put there."""
    raw = project / "data/01_raw"
    return {p.relative_to(raw).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(raw.rglob("*")) if p.is_file()}


def add_user_files(project: Path) -> None:
    """Three GIFs (40 x 60) and three MP4s (96 x 64, portrait), 10 frames each, and the user's prompts."""
    people, waves = project / USER_MOTIONS["people_move"], project / USER_MOTIONS["waves"]
    people.mkdir(parents=True)
    waves.mkdir(parents=True)
    for k in range(3):
        frames = np.roll(moving_square(10, 40, 60), 7 * k, axis=2)
        save_gif(people / f"walk_{k}.gif", [Image.fromarray(f) for f in frames])
        encode(waves / f"wave_{k}.mp4", np.roll(moving_square(10, 96, 64), 5 * k, axis=1), "libx264", "yuv420p")
    (project / PROMPTS).write_text("motion,prompt\npeople_move,a red circle on a sand background\n"
                                   "waves,a green square on a sky background\n")


def environment(project: Path, **changes: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
            "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(project / "hf-cache"),
            "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}", "OMP_NUM_THREADS": "2", **changes}


def dvc(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "dvc"), *args], cwd=project, env=environment(project, **env),
                          capture_output=True, text=True)


def status(project: Path) -> dict:
    return json.loads(dvc(project, "status", "--json").stdout)


def repro(project: Path, *args: str) -> str:
    result = dvc(project, "repro", *args)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]
    assert status(project) == {}
    return result.stdout


def ran(log: str) -> set[str]:
    return {line.split("'")[1] for line in log.splitlines() if line.startswith("Running stage")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The project copy after mini, full (rehearsal) and mini again, with each repro's log and the user's files."""
    project = tmp_path_factory.mktemp("repro")
    for name in project_files(REPO):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, project / name)
    shutil.rmtree(project / "data/mini", ignore_errors=True)  # outputs of the repo's own runs: none here
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    add_user_files(project)
    before = user_files(project)

    mini = project_params(MINI, motions=["rain"])
    mini["profiles"]["mini"]["motions"] |= {"people_move": USER_MOTIONS["people_move"]}
    mini["profiles"]["mini"]["edits"] = {}
    write_params_file(project / "params.yaml", mini)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "the project as cloned, the user's motion added"], cwd=project, check=True)
    logs = {"mini": repro(project)}
    files = {"mini": user_files(project)}

    models = make_rehearsal_models(project / "rehearsal_models")
    full = rehearsal_params(mini, (REPO / OVERLAY).read_text(), models["video_base"].parent)
    full["profiles"]["full"]["motions"] = dict(USER_MOTIONS)
    full["profiles"]["full"]["edits"] = USER_EDIT
    write_params_file(project / "params.yaml", full)
    logs["full"] = repro(project)
    files["full"] = user_files(project)

    write_params_file(project / "params.yaml", {**mini, "profile": mini["profiles"]["mini"]})
    logs["back"] = repro(project)
    files["back"] = user_files(project)
    return project, before, files, logs


def test_the_users_files_are_byte_identical_after_each_profile(runs):
    project, before, files, _ = runs
    assert before and all(after == before for after in files.values())
    assert not [p for p in (project / "data/01_raw").rglob("*") if p.name.startswith(".")]


def test_the_mini_profile_trains_the_users_motion_beside_the_mini_worlds(runs):
    project, _, _, logs = runs
    assert {"synthesize@mini-rain", "pretrain@mini", "train@rain", "train@people_move"} <= ran(logs["mini"])
    assert not [s for s in ran(logs["mini"]) if "waves" in s]  # not a motion of the mini profile
    summary = json.loads((project / "data/mini/08_reporting/train/people_move.json").read_text())
    assert summary["prompt"] == "people move" and summary["steps"] == 2


def test_the_full_profile_runs_every_full_only_branch_and_no_mini_stage(runs):
    project, _, _, logs = runs
    stages = ran(logs["full"])
    assert {"check", "hub_models@full", "prepare@waves", "train@people_move", "first_frames", "generate",
            "evaluate", "ablate", "edit_model@wave_edit", "edit@wave_edit"} <= stages
    assert not [s for s in stages if s.startswith(("synthesize@", "mini_world@", "pretrain@"))]
    full = project / "data/full"
    # SD-XL drew each first frame at its own scale (64 x 96), resized to the video size
    frames = sorted((full / "04_feature/first_frames").glob("*.png"))
    assert [f.stem for f in frames] == ["people_move_00", "waves_00"]
    assert all(Image.open(f).size == (48, 32) for f in frames)
    # the ControlNet redrew the edit's first frame; the edit is the source's length at stride 2
    edit = full / "07_model_output/edit/wave_edit"
    assert Image.open(edit / "first_frame.png").size == (48, 32) and (edit / "edit.mp4").stat().st_size > 0
    # open_clip's ViT (hub layout) scored the videos; the record names every model the run used
    report = (full / "08_reporting/evaluation/report.md").read_text()
    assert "open-clip-vit" in report
    base = json.loads((full / "06_models/base/models.json").read_text())
    assert {Path(r["model"]).name for r in base} == {"sd-v1", "sd-xl", "sd-xl-controlnet-canny"}
    assert all(r["found"] == "local folder" and r["files"] for r in base)
    assert (full / "08_reporting/ablation/ablation.csv").is_file()


def test_switching_back_reruns_nothing_and_deletes_nothing(runs):
    project, _, _, logs = runs
    assert ran(logs["back"]) == set(), logs["back"]
    assert (project / "data/full/06_models/motions/waves").is_dir()
    assert (project / "data/mini/06_models/motions/people_move").is_dir()


def test_a_rehearsal_copy_leaves_the_project_alone(tmp_path):
    """`lamp rehearse` prepares a copy: the project's params.yaml and files stay as they were."""
    source = tmp_path / "project"
    for name in project_files(REPO):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    subprocess.run(["git", "init", "-q"], cwd=source, check=True)
    add_user_files(source)
    params_before, files_before = (source / "params.yaml").read_bytes(), user_files(source)
    copy = prepare_rehearsal(source, tmp_path / "copy")
    assert (source / "params.yaml").read_bytes() == params_before and user_files(source) == files_before
    values = yaml.safe_load((copy / "params.yaml").read_text())
    assert values["profile"]["name"] == "full" and values["profile"]["video_base_model"].endswith("sd-v1")
    assert user_files(copy) == files_before


def test_rerunning_a_stage_that_makes_the_same_outputs_stales_nothing(runs):
    """Finding 5 of issue 14: wall-clock seconds in index.csv staled evaluate after a re-run of generate."""
    project = runs[0]
    for stage in ("generate", "evaluate"):
        log = repro(project, "--force", "--single-item", stage)
        assert ran(log) == {stage}


def reports(project: Path) -> dict[str, bytes]:
    folder = project / "data/mini/08_reporting"
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in [folder / "metrics.json", *sorted((folder / "evaluation").iterdir())]}


def test_a_failed_stage_is_restored_whole_by_one_command(runs):
    """Finding 3 of issue 14: DVC deletes a stage's outputs before it runs, and a failure left them deleted."""
    project = runs[0]
    before = reports(project)
    failed = dvc(project, "repro", "--force", "--single-item", "evaluate", MLFLOW_TRACKING_URI="nosuchscheme://x")
    assert failed.returncode != 0 and not (project / "data/mini/08_reporting/metrics.json").exists()
    restored = subprocess.run([str(VENV_BIN / "lamp"), "restore", "evaluate"], cwd=project,
                              env=environment(project), capture_output=True, text=True)
    assert restored.returncode == 0, restored.stderr
    assert reports(project) == before and status(project) == {}


def test_a_registered_model_version_leads_to_the_cached_data_params_and_commit_that_made_it(runs):
    """The lineage walk: ``lamp-rain@newest`` -> its weights -> the ``train@rain`` entry of dvc.lock that
    made them -> the latents it read (in the DVC cache, the hash the version names), its parameters, and
    the commit (clean: the repro rewrote only pipeline outputs)."""
    from mlflow.tracking import MlflowClient

    project = runs[0]
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    version = client.get_model_version_by_alias("lamp-rain", "newest")
    assert "'rain'" in version.description and "steps" in version.description
    weights = project / "data/mini/06_models/motions/rain/motion_weights.safetensors"
    assert version.tags["lamp.weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()

    lock = yaml.safe_load((project / "dvc.lock").read_text())["stages"]
    train = lock["train@rain"]
    made = {out["path"]: out["md5"] for out in train["outs"]}
    listed = json.loads(cache_file(project, made["data/mini/06_models/motions/rain"]).read_text())
    assert {"relpath": "motion_weights.safetensors", "md5": hashlib.md5(weights.read_bytes()).hexdigest()} in [
        {k: e[k] for k in ("relpath", "md5")} for e in listed]

    read = {dep["path"]: dep["md5"] for dep in train["deps"] if "md5" in dep}
    latents = read["data/mini/03_primary/rain"]
    assert version.tags["lamp.latents_dvc_hash"] == latents
    assert {out["path"]: out["md5"] for out in lock["prepare@rain"]["outs"]}["data/mini/03_primary/rain"] == latents
    for entry in json.loads(cache_file(project, latents).read_text()):  # the exact latents, restorable by dvc checkout
        assert cache_file(project, entry["md5"]).is_file(), entry["relpath"]
    manifest = project / "data/mini/02_intermediate/rain/manifest.parquet"
    assert version.tags["lamp.ingest_manifest_sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()

    used = train["params"]["params.yaml"]
    assert used["profile.train"]["max_train_steps"] == 2 == version_run_steps(client, version.run_id)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout.strip()
    assert version.tags["lamp.git_commit"] == head and version.tags["lamp.git_uncommitted"] == "none"
    assert client.get_run(version.run_id).data.tags["mlflow.source.git.commit"] == head


def cache_file(project: Path, md5: str) -> Path:
    """Where DVC keeps the object with this hash (a folder's listing: ``<md5>.dir``)."""
    return project / ".dvc/cache/files/md5" / md5[:2] / md5[2:]


def version_run_steps(client, run_id: str) -> int:
    """The training steps the version's MLflow run logged."""
    return int(client.get_run(run_id).data.metrics["steps"])
