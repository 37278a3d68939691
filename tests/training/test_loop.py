import hashlib
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import load_file

from lamp.data.latents import latent_key
from lamp.models import LAMPVideoUNet, tiny_unet_config
from lamp.training import (
    CHECKPOINTS_DIR,
    NonFiniteLossError,
    TrainingCallback,
    example_loss,
    latest_checkpoint,
    sample_example,
    train_motion,
    trainable_videos,
)
from tests.training.conftest import CROSS_DIM, SCALING_FACTOR, build_model, moving_blob_latents, small_config

REPO = Path(__file__).resolve().parents[2]


class Recorder(TrainingCallback):
    def __init__(self, stop_after: int | None = None) -> None:
        self.steps, self.checkpoints, self.stop_after = [], [], stop_after

    def on_step(self, step, loss, lr, seconds):
        self.steps.append((step, loss, lr, seconds))
        if step == self.stop_after:
            raise KeyboardInterrupt(f"killed after step {step}")

    def on_checkpoint(self, path, step):
        self.checkpoints.append((step, path))


def trainable_state(model):
    return {name: p.detach().clone() for name, p in model.trainable_named_parameters()}


def assert_identical(a, b):
    assert a.keys() == b.keys()
    different = [name for name in a if not torch.equal(a[name], b[name])]
    assert not different, f"weights differ: {different[:5]}"


def train(output_dir, latents, text_embeddings, scheduler, callbacks=None, **overrides):
    model = build_model()
    result = train_motion(
        model, latents, text_embeddings, scheduler, SCALING_FACTOR, small_config(**overrides), output_dir, callbacks
    )
    return model, result


def moving_average(values, window):
    return sum(values[:window]) / window, sum(values[-window:]) / window


def test_the_loss_falls_on_a_learnable_motion(tmp_path, latents, text_embeddings, scheduler):
    _, result = train(tmp_path, latents, text_embeddings, scheduler, max_train_steps=40, checkpointing_steps=40)
    first, last = moving_average(result.losses, 10)
    assert last < 0.85 * first, f"loss did not fall: {first:.3f} -> {last:.3f}"


def test_the_run_reports_steps_checkpoints_and_memory(tmp_path, latents, text_embeddings, scheduler):
    recorder = Recorder()
    model, result = train(tmp_path, latents, text_embeddings, scheduler, [recorder])
    assert [s[0] for s in recorder.steps] == [1, 2, 3, 4, 5, 6]
    assert [s[1] for s in recorder.steps] == result.losses
    assert all(lr == 1e-3 and seconds > 0 for _, _, lr, seconds in recorder.steps)
    assert recorder.checkpoints == [(s, tmp_path / CHECKPOINTS_DIR / f"checkpoint-{s}") for s in (2, 4, 6)]
    assert (result.first_step, result.last_step, result.resumed_from) == (0, 6, None)
    assert result.peak_memory_source == "max_rss" and result.peak_memory_bytes > 2**20
    saved = load_file(tmp_path / "motion_weights.safetensors")
    assert_identical(saved, trainable_state(model))


def test_gradient_checkpointing_trains_the_same(tmp_path, latents, text_embeddings, scheduler):
    plain, plain_result = train(tmp_path / "plain", latents, text_embeddings, scheduler, max_train_steps=2)
    checkpointed, result = train(
        tmp_path / "ckpt", latents, text_embeddings, scheduler, max_train_steps=2, gradient_checkpointing=True
    )
    assert checkpointed.unet.is_gradient_checkpointing
    assert result.losses == pytest.approx(plain_result.losses, abs=1e-6)
    for name, p in plain.trainable_named_parameters():
        torch.testing.assert_close(dict(checkpointed.trainable_named_parameters())[name], p, atol=1e-6, rtol=0)


def test_a_run_stopped_anywhere_resumes_bit_identically(tmp_path, latents, text_embeddings, scheduler):
    reference, reference_result = train(tmp_path / "whole", latents, text_embeddings, scheduler)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "split", latents, text_embeddings, scheduler, [Recorder(stop_after=3)])
    assert latest_checkpoint(tmp_path / "split" / CHECKPOINTS_DIR).name == "checkpoint-2"
    resumed, result = train(tmp_path / "split", latents, text_embeddings, scheduler)
    assert result.first_step == 2 and result.resumed_from.name == "checkpoint-2"
    assert result.losses == reference_result.losses[2:]
    assert_identical(trainable_state(resumed), trainable_state(reference))


KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    import torch
    sys.path.insert(0, sys.argv[2])
    from lamp.training import TrainingCallback, train_motion
    from tests.training.conftest import *

    class KillAfterCheckpoint(TrainingCallback):
        def on_checkpoint(self, path, step):
            if step == 4:
                os.kill(os.getpid(), signal.SIGKILL)

    torch.set_num_threads(1)
    train_motion(build_model(), moving_blob_latents(), prompt_embeddings(), noise_scheduler(), SCALING_FACTOR,
                 small_config(), sys.argv[1], [KillAfterCheckpoint()])
    """
)


def test_a_run_killed_with_sigkill_resumes_bit_identically(tmp_path, latents, text_embeddings, scheduler):
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(tmp_path / "killed"), str(REPO)], capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert latest_checkpoint(tmp_path / "killed" / CHECKPOINTS_DIR).name == "checkpoint-4"
    resumed, result = train(tmp_path / "killed", latents, text_embeddings, scheduler)
    assert result.first_step == 4
    reference, _ = train(tmp_path / "whole", latents, text_embeddings, scheduler)
    assert_identical(trainable_state(resumed), trainable_state(reference))


def folder_digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_a_nan_in_the_latents_stops_training_and_keeps_the_last_checkpoint(tmp_path, text_embeddings, scheduler):
    latents = moving_blob_latents(n_videos=1)
    trained, _ = train(tmp_path, latents, text_embeddings, scheduler, max_train_steps=2, n_sample_frames=6)
    checkpoint = latest_checkpoint(tmp_path / CHECKPOINTS_DIR)
    before = folder_digest(checkpoint)
    for flipped in (False, True):
        latents[latent_key("v0", flipped, "mean")][3] = float("nan")
    # Clips of 6 frames from 8 all include frame 3.
    with pytest.raises(NonFiniteLossError, match=r"at step 3, on video 'v0' .*timestep \d+.*checkpoint-2") as error:
        train(tmp_path, latents, text_embeddings, scheduler, max_train_steps=6, n_sample_frames=6)
    assert (error.value.step, error.value.video, error.value.last_checkpoint) == (3, "v0", checkpoint)
    assert latest_checkpoint(tmp_path / CHECKPOINTS_DIR) == checkpoint
    assert folder_digest(checkpoint) == before
    torch.manual_seed(0)
    loaded = LAMPVideoUNet.from_motion(UNet2DConditionModel(**tiny_unet_config(cross_attention_dim=CROSS_DIM)), checkpoint)
    assert_identical(trainable_state(loaded), trainable_state(trained))


def test_a_step_over_several_clips_follows_their_mean_gradient(tmp_path, latents, text_embeddings, scheduler):
    """gradient_accumulation_steps=2: one AdamW step on the mean of two clips' gradients (clipped),
    the clips drawn in the order a batch-1 run draws them."""
    trained, result = train(tmp_path, latents, text_embeddings, scheduler, max_train_steps=1, gradient_accumulation_steps=2)
    config = small_config(max_train_steps=1, gradient_accumulation_steps=2)
    model = build_model()
    model.train()
    parameters = [p for _, p in model.trainable_named_parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, betas=(config.adam_beta1, config.adam_beta2),
                                  weight_decay=config.adam_weight_decay, eps=config.adam_epsilon)
    generator = torch.Generator().manual_seed(config.seed)
    videos = trainable_videos(latents, config)
    losses = []
    for _ in range(2):
        example = sample_example(latents, videos, config, scheduler, SCALING_FACTOR, generator)
        loss = example_loss(model, example, text_embeddings["prompt"], scheduler)
        (loss / 2).backward()
        losses.append(float(loss.detach()))
    torch.nn.utils.clip_grad_norm_(parameters, config.max_grad_norm)
    optimizer.step()
    assert result.losses == pytest.approx([sum(losses) / 2])
    expected, got = trainable_state(model), trainable_state(trained)
    assert all(torch.allclose(expected[name], got[name], atol=1e-6) for name in expected)
    assert not all(torch.equal(p, q) for p, q in zip(trainable_state(build_model()).values(), got.values()))
