import json
import os
import pickle

import pytest
import torch
from diffusers import UNet2DConditionModel

from lamp.io import CorruptFileError
from lamp.models import LAMPVideoUNet, tiny_unet_config
from lamp.training import (
    CHECKPOINTS_DIR,
    CheckpointMismatchError,
    latest_checkpoint,
    list_checkpoints,
    prune_checkpoints,
    train_motion,
)
from tests.training.conftest import CROSS_DIM, SCALING_FACTOR, build_model, small_config


def run(output_dir, latents, text_embeddings, scheduler, model=None, **overrides):
    model = model or build_model()
    train_motion(model, latents, text_embeddings, scheduler, SCALING_FACTOR, small_config(**overrides), output_dir)
    return model


def test_checkpoints_hold_only_safetensors_and_json(tmp_path, latents, text_embeddings, scheduler, monkeypatch):
    def no_pickle(*args, **kwargs):
        raise AssertionError("training must not pickle")

    for target, name in [(torch, "save"), (torch, "load"), (pickle, "dump"), (pickle, "dumps"), (pickle, "load")]:
        monkeypatch.setattr(target, name, no_pickle)
    run(tmp_path, latents, text_embeddings, scheduler, max_train_steps=2)
    run(tmp_path, latents, text_embeddings, scheduler, max_train_steps=4)  # resumes: loads without pickle
    checkpoints = list_checkpoints(tmp_path / CHECKPOINTS_DIR)
    assert [c.name for c in checkpoints] == ["checkpoint-2", "checkpoint-4"]
    for checkpoint in checkpoints:
        files = sorted(p.name for p in checkpoint.iterdir())
        assert files == [
            "lamp_config.json",
            "motion_weights.safetensors",
            "optimizer.safetensors",
            "random_states.safetensors",
            "training_state.json",
        ]
    state = json.loads((checkpoints[-1] / "training_state.json").read_text())
    assert state["step"] == 4 and state["lr_scheduler"]["last_epoch"] == 4


def test_a_checkpoint_loads_as_motion_weights(tmp_path, latents, text_embeddings, scheduler):
    model = run(tmp_path, latents, text_embeddings, scheduler, max_train_steps=2)
    torch.manual_seed(0)
    base = UNet2DConditionModel(**tiny_unet_config(cross_attention_dim=CROSS_DIM))
    loaded = LAMPVideoUNet.from_motion(base, latest_checkpoint(tmp_path / CHECKPOINTS_DIR))
    restored = dict(loaded.trainable_named_parameters())
    for name, trained in model.trainable_named_parameters():
        assert torch.equal(trained, restored[name]), name


def test_only_the_newest_checkpoints_are_kept(tmp_path, latents, text_embeddings, scheduler):
    run(tmp_path, latents, text_embeddings, scheduler, max_train_steps=5, checkpointing_steps=1)
    assert [c.name for c in list_checkpoints(tmp_path / CHECKPOINTS_DIR)] == ["checkpoint-4", "checkpoint-5"]


def test_latest_checkpoint_orders_by_step_and_skips_unfinished_writes(tmp_path):
    assert latest_checkpoint(tmp_path) is None
    for name in ["checkpoint-9", "checkpoint-10", ".checkpoint-11.ab12cd34.tmp", "checkpoint-x"]:
        (tmp_path / name).mkdir()
    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoint-10"
    removed = prune_checkpoints(tmp_path, keep=1)
    assert removed == [tmp_path / "checkpoint-9"]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint-10", "checkpoint-x"]


def test_resuming_with_other_settings_is_refused(tmp_path, latents, text_embeddings, scheduler):
    run(tmp_path, latents, text_embeddings, scheduler, max_train_steps=2)
    with pytest.raises(CheckpointMismatchError, match=r"learning_rate: 0.001 -> 0.002"):
        run(tmp_path, latents, text_embeddings, scheduler, max_train_steps=4, learning_rate=2e-3)
    run(tmp_path, latents, text_embeddings, scheduler, max_train_steps=4, checkpointing_steps=4)  # more steps: fine
    assert latest_checkpoint(tmp_path / CHECKPOINTS_DIR).name == "checkpoint-4"


def test_train_stage_drops_checkpoints_of_other_inputs_or_other_settings_and_says_why(tmp_path):
    from lamp.training import TrainConfig
    from lamp.training.setup import drop_stale_checkpoints

    checkpoints = tmp_path / "checkpoints"
    config = TrainConfig(max_train_steps=4, checkpointing_steps=2, n_sample_frames=3)
    inputs = {"model": {"conv_mode": "prediction"}, "latents_sha256": "a", "text_embeddings_sha256": "t", "base_model": "b"}

    def checkpoint():
        step = checkpoints / "checkpoint-2"
        step.mkdir(parents=True)
        (step / "training_state.json").write_text(__import__("json").dumps({"step": 2, "config": config.to_dict()}))
        return step

    assert drop_stale_checkpoints(checkpoints, config, inputs) is None
    step = checkpoint()
    assert drop_stale_checkpoints(checkpoints, config, inputs) is None and step.is_dir(), "the same inputs resume"
    more_steps = TrainConfig(max_train_steps=8, checkpointing_steps=2, n_sample_frames=3)
    assert drop_stale_checkpoints(checkpoints, more_steps, inputs) is None and step.is_dir(), "more steps may resume"
    for key, value in [("latents_sha256", "fewer videos"), ("base_model", "another base"),
                       ("model", {"conv_mode": "vanilla"})]:
        reason = drop_stale_checkpoints(checkpoints, config, {**inputs, key: value})
        assert reason.startswith(key) and not step.exists(), key
        drop_stale_checkpoints(checkpoints, config, inputs)
        step = checkpoint()
    reason = drop_stale_checkpoints(checkpoints, TrainConfig(max_train_steps=4, checkpointing_steps=2,
                                                             n_sample_frames=3, learning_rate=1e-3), inputs)
    assert "training settings changed" in reason and not step.exists()


def test_a_changed_training_set_starts_over_instead_of_returning_the_old_model(tmp_path, latents, text_embeddings, scheduler):
    """Finding 1 of issue 14: four videos moved away, and the finished run came back byte-identical."""
    from lamp.training.setup import drop_stale_checkpoints, tensors_sha256

    config = small_config(max_train_steps=2)
    inputs = {"latents_sha256": tensors_sha256(latents)}
    checkpoints = tmp_path / CHECKPOINTS_DIR
    assert drop_stale_checkpoints(checkpoints, config, inputs) is None  # as the train node does, before training
    run(tmp_path, latents, text_embeddings, scheduler, max_train_steps=2)
    assert drop_stale_checkpoints(checkpoints, config, inputs) is None and latest_checkpoint(checkpoints)
    fewer = {k: v for k, v in latents.items() if not k.startswith(sorted(latents)[0].split(".")[0])}
    assert tensors_sha256(fewer) != inputs["latents_sha256"]
    assert drop_stale_checkpoints(checkpoints, config, {"latents_sha256": tensors_sha256(fewer)})
    assert latest_checkpoint(checkpoints) is None


def test_a_tampered_checkpoint_file_is_named_with_the_fix(tmp_path, latents, text_embeddings, scheduler):
    run(tmp_path, latents, text_embeddings, scheduler, max_train_steps=2)
    checkpoint = latest_checkpoint(tmp_path / CHECKPOINTS_DIR)
    path = checkpoint / "optimizer.safetensors"
    data = bytearray(path.read_bytes())
    data[8] = ord("[")  # the header's opening '{': no longer JSON
    path.write_bytes(bytes(data))
    # The fix deletes the whole checkpoint: its files are only usable together.
    with pytest.raises(CorruptFileError, match=rf"^{path.as_posix()} is corrupt or not a lamp file .*Fix: delete {checkpoint.as_posix()} "):
        run(tmp_path, latents, text_embeddings, scheduler, max_train_steps=4)
