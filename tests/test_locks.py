"""Two trainings of one motion at once: the second is refused at once, naming the first (issue 14, finding 6).

Each training is a real process running the ``train`` node on a tiny base; the test holds the
first inside the node (its lock taken) until the second has been refused.
"""

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel

from lamp.models import tiny_unet_config
from tests.training.conftest import CROSS_DIM, SCALING_FACTOR, noise_scheduler

REPO = Path(__file__).resolve().parents[1]

# Runs the train node of motion "rain" under <work>; `role` decides what it does once inside the
# node, where the motion's lock is held: "first" waits for <work>/go, "killed" SIGKILLs itself.
TRAIN_RAIN = textwrap.dedent(
    """
    import json, os, signal, sys, time
    from pathlib import Path
    work, repo, role = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    sys.path[:0] = [os.path.join(repo, "src"), repo]
    import torch
    import lamp.pipelines.train.nodes as nodes
    from lamp.profiles import PretrainedModel
    from tests.training.conftest import moving_blob_latents, prompt_embeddings

    torch.set_num_threads(1)
    train_motion = nodes.train_motion

    def inside_the_node(*args, **kwargs):
        (work / f"{role}.inside").touch()
        if role == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        while role == "first" and not (work / "go").exists():
            time.sleep(0.05)
        return train_motion(*args, **kwargs)

    nodes.train_motion = inside_the_node
    profile = {"name": "mini", "height": 16, "width": 16, "n_frames": 4, "video_base_model": str(work / "base"),
               "video_base_revision": None, "first_frame_model": "drawer", "clip_model": "clip",
               "prompts_file": "prompts.csv", "stages": {"mini_world": [], "hub_models": []}, "motions": {"rain": "v"}}
    train = {"checkpoints_dir": str(work / "checkpoints"),
             "max_train_steps": 6, "checkpointing_steps": 2, "learning_rate": 1e-3, "seed": 0}
    started = time.perf_counter()
    try:
        _, summary = nodes.train_motion_model(moving_blob_latents(), prompt_embeddings(), {"motion": "rain", "prompt": "p"},
                                              PretrainedModel(str(work / "base")), profile, {},
                                              {"sample_frame_rate": 1, "flip": True}, train)
    except Exception as error:
        print(json.dumps({"error": str(error), "seconds": time.perf_counter() - started}))
        sys.exit(3)
    print(json.dumps({"steps": summary["steps"]}))
    """
)


def tiny_base(path: Path) -> Path:
    """The parts of a base model that the train node reads: UNet, noise schedule, VAE scaling factor."""
    torch.manual_seed(0)
    UNet2DConditionModel(**tiny_unet_config(cross_attention_dim=CROSS_DIM)).save_pretrained(path / "unet")
    noise_scheduler().save_pretrained(path / "scheduler")
    AutoencoderKL(block_out_channels=(8,), norm_num_groups=8, scaling_factor=SCALING_FACTOR).save_config(path / "vae")
    return path


def training(work: Path, role: str) -> subprocess.Popen:
    script = work / "train_rain.py"
    script.write_text(TRAIN_RAIN)
    return subprocess.Popen(
        [sys.executable, str(script), str(work), str(REPO), role], cwd=work, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, f"{path.name} not reached in {timeout} s"
        time.sleep(0.1)


def outcome(process: subprocess.Popen) -> dict:
    stdout, stderr = process.communicate(timeout=600)
    lines = stdout.strip().splitlines()
    assert lines, stderr[-3000:]
    return {"returncode": process.returncode, **json.loads(lines[-1])}


def test_a_second_training_of_the_motion_is_refused_and_the_first_finishes(tmp_path):
    tiny_base(tmp_path / "base")
    first = training(tmp_path, "first")
    wait_for(tmp_path / "first.inside", first)

    second = outcome(training(tmp_path, "second"))
    (tmp_path / "go").touch()
    finished = outcome(first)

    assert second["returncode"] == 3, second
    message = second["error"]
    assert message.startswith(f"training of motion 'rain' is already running in process {first.pid} on host "), message
    assert "`train_rain.py " in message and ", since 20" in message
    assert f"{tmp_path / 'checkpoints' / '.rain.lock'}" in message
    assert f"Wait for that run to finish, or stop it (kill {first.pid} on " in message
    assert second["seconds"] < 5, "refused only after loading or training"
    assert not (tmp_path / "second.inside").exists()

    assert finished == {"returncode": 0, "steps": 6}
    assert sorted(p.name for p in (tmp_path / "checkpoints" / "rain").glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-6"]
    assert (tmp_path / "checkpoints" / "rain" / "trained" / "motion_weights.safetensors").is_file()  # for the catalog


def test_the_lock_is_free_again_once_its_holder_is_killed(tmp_path):
    tiny_base(tmp_path / "base")
    killed = training(tmp_path, "killed")
    stdout, stderr = killed.communicate(timeout=600)
    assert killed.returncode == -signal.SIGKILL, stderr[-3000:]
    assert (tmp_path / "killed.inside").exists()
    # The lock file outlives its holder, naming it; the lock itself died with the process.
    assert json.loads((tmp_path / "checkpoints" / ".rain.lock").read_text())["pid"] == killed.pid

    assert outcome(training(tmp_path, "next")) == {"returncode": 0, "steps": 6}
