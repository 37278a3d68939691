import copy
import json

import pytest
import torch
from diffusers import UNet2DConditionModel

from lamp.models import (
    LAMPVideoUNet,
    MotionWeightsMismatchError,
    load_motion_weights,
    save_motion_weights,
    tiny_unet_config,
)
from lamp.io import CorruptFileError
from lamp.models.files import CONFIG_NAME, WEIGHTS_NAME

from .conftest import CROSS_DIM, randomise_trainable


@pytest.fixture
def trained(make_video_unet):
    model = make_video_unet(conv_mode="vanilla")
    randomise_trainable(model)
    return model


def test_save_then_load_reproduces_outputs_bit_for_bit(tmp_path, trained, image_unet, video_inputs):
    save_motion_weights(trained, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([CONFIG_NAME, WEIGHTS_NAME])
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert config["lamp"]["conv_mode"] == "vanilla"
    assert set(config["parameters"]) == {n for n, _ in trained.trainable_named_parameters()}

    restored = LAMPVideoUNet.from_motion(copy.deepcopy(image_unet), tmp_path).eval()
    assert restored.lamp_config == trained.lamp_config
    with torch.no_grad():
        assert torch.equal(restored(*video_inputs), trained(*video_inputs))


def test_group_norm_scope_is_saved_and_restored(tmp_path, make_video_unet, image_unet, video_inputs):
    model = make_video_unet(group_norm="video")
    randomise_trainable(model)
    save_motion_weights(model, tmp_path)
    restored = LAMPVideoUNet.from_motion(copy.deepcopy(image_unet), tmp_path).eval()
    assert restored.lamp_config.group_norm == "video"
    with torch.no_grad():
        assert torch.equal(restored(*video_inputs), model(*video_inputs))


def test_saved_file_holds_only_the_trainable_parameters(tmp_path, trained):
    from safetensors.torch import load_file

    save_motion_weights(trained, tmp_path)
    saved = load_file(tmp_path / WEIGHTS_NAME)
    counts = trained.parameter_counts()
    assert sum(t.numel() for t in saved.values()) == counts.trainable < counts.total


def test_loading_onto_a_mismatched_base_names_the_mismatch(tmp_path, trained):
    save_motion_weights(trained, tmp_path)
    other = UNet2DConditionModel(**tiny_unet_config(channels=(16, 32), cross_attention_dim=CROSS_DIM))
    with pytest.raises(MotionWeightsMismatchError, match=r"shape of conv_in\.conv1d\.weight: file \(32, 32, 3\), model \(16, 16, 3\)"):
        LAMPVideoUNet.from_motion(other, tmp_path)


def test_loading_with_other_switches_is_refused(tmp_path, trained, make_video_unet):
    save_motion_weights(trained, tmp_path)
    with pytest.raises(MotionWeightsMismatchError, match="trained with"):
        load_motion_weights(make_video_unet(conv_mode="prediction"), tmp_path)


def test_weights_from_another_save_are_detected(tmp_path, trained, make_video_unet):
    save_motion_weights(trained, tmp_path / "a")
    randomise_trainable(trained, seed=9)
    save_motion_weights(trained, tmp_path / "b")
    (tmp_path / "b" / WEIGHTS_NAME).replace(tmp_path / "a" / WEIGHTS_NAME)
    with pytest.raises(MotionWeightsMismatchError, match="different saves"):
        load_motion_weights(make_video_unet(conv_mode="vanilla"), tmp_path / "a")


def test_missing_folder_gives_a_clear_error(tmp_path, make_video_unet):
    with pytest.raises(FileNotFoundError, match="holds no LAMP motion weights"):
        load_motion_weights(make_video_unet(), tmp_path)


def test_save_leaves_no_temporary_files(tmp_path, trained):
    save_motion_weights(trained, tmp_path)
    save_motion_weights(trained, tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_tampered_weights_file_is_named_with_the_fix(tmp_path, trained, image_unet):
    save_motion_weights(trained, tmp_path)
    path = tmp_path / WEIGHTS_NAME
    data = bytearray(path.read_bytes())
    data[8] = ord("[")  # the header's opening '{': no longer JSON
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=rf"^{path.as_posix()} is corrupt or not a lamp file .*Fix: delete {tmp_path.as_posix()} "):
        LAMPVideoUNet.from_motion(copy.deepcopy(image_unet), tmp_path)
