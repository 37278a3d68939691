"""Importing the LAMP authors' checkpoints: their forward pass reproduced, bad folders refused."""

import copy
import dataclasses
import json
import warnings
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from diffusers import UNet2DConditionModel
from safetensors.torch import load_file, save_file

from lamp.command_line import main
from lamp.models import (
    AUTHORS_SWITCHES,
    AuthorsCheckpointError,
    BaseWeightsDifferWarning,
    LAMPVideoUNet,
    import_authors_checkpoint,
    read_motion_config,
    save_motion_weights,
)
from lamp.models.motion_conv import MotionConv2d

from .conftest import randomise_trainable

# Written by the authors' own code (see its README): a copy of shared/reference/authors_unet3d_tiny, in the
# repository so that CI checks the import against it on every clone.
AUTHORS_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures/authors_unet3d_tiny"

_BLOCKS_3D = {"CrossAttnDownBlock2D": "CrossAttnDownBlock3D", "DownBlock2D": "DownBlock3D",
              "CrossAttnUpBlock2D": "CrossAttnUpBlock3D", "UpBlock2D": "UpBlock3D",
              "UNetMidBlock2DCrossAttn": "UNetMidBlock3DCrossAttn"}
_AUTHORS_CONFIG_KEYS = {"sample_size", "in_channels", "out_channels", "center_input_sample", "flip_sin_to_cos",
                        "freq_shift", "block_out_channels", "layers_per_block", "downsample_padding",
                        "mid_block_scale_factor", "act_fn", "norm_num_groups", "norm_eps", "cross_attention_dim",
                        "attention_head_dim", "use_linear_projection", "upcast_attention"}


def write_authors_layout(model: LAMPVideoUNet, folder: Path) -> Path:
    """``model`` saved as the authors' train_lamp.py saves a UNet: 3-D block names, ``<conv>.conv2d.*``, a pickle."""
    folder.mkdir(parents=True)
    config = {k: v for k, v in model.unet.config.items() if k in _AUTHORS_CONFIG_KEYS}
    config |= {"_class_name": "UNet3DConditionModel", "_diffusers_version": "0.11.1", "use_temp": True,
               "mid_block_type": _BLOCKS_3D[model.unet.config.mid_block_type],
               "down_block_types": [_BLOCKS_3D[b] for b in model.unet.config.down_block_types],
               "up_block_types": [_BLOCKS_3D[b] for b in model.unet.config.up_block_types]}
    (folder / "config.json").write_text(json.dumps(config))
    inflated = {n for n, m in model.unet.named_modules() if isinstance(m, MotionConv2d)}
    state = {}
    for name, tensor in model.unet.state_dict().items():
        owner, leaf = name.rsplit(".", 1)
        state[f"{owner}.conv2d.{leaf}" if owner in inflated and leaf in ("weight", "bias") else name] = tensor
    torch.save(state, folder / "diffusion_pytorch_model.bin")
    return folder


@pytest.fixture
def authors_model(image_unet) -> LAMPVideoUNet:
    model = LAMPVideoUNet(copy.deepcopy(image_unet), AUTHORS_SWITCHES).eval()
    randomise_trainable(model)
    return model


@pytest.fixture
def checkpoint(tmp_path, authors_model) -> Path:
    return write_authors_layout(authors_model, tmp_path / "unet")


def _forward_inputs() -> dict[str, torch.Tensor]:
    return load_file(AUTHORS_FIXTURE / "forward.safetensors")


def test_imported_checkpoint_reproduces_the_authors_forward_pass():
    model = import_authors_checkpoint(AUTHORS_FIXTURE / "unet")
    f = _forward_inputs()
    with torch.no_grad():
        out = model(f["sample"], f["timestep"], f["encoder_hidden_states"])
    error = float((out - f["expected"]).abs().max())
    print(f"authors' forward reproduced to max abs {error:.3g}")
    assert error < 1e-4
    assert model.lamp_config == AUTHORS_SWITCHES


def test_the_authors_model_needs_frame_pooled_group_norm():
    """The one setting their checkpoints hinge on: per-frame GroupNorm misses by far."""
    model = import_authors_checkpoint(AUTHORS_FIXTURE / "unet")
    per_frame = LAMPVideoUNet(model.image_unet(), dataclasses.replace(AUTHORS_SWITCHES, group_norm="frame")).eval()
    per_frame.unet.load_state_dict(model.unet.state_dict())
    f = _forward_inputs()
    with torch.no_grad():
        out = per_frame(f["sample"], f["timestep"], f["encoder_hidden_states"])
    assert (out - f["expected"]).abs().max() > 0.05


def test_command_writes_a_motion_model_that_loads_back_bit_for_bit(tmp_path):
    result = CliRunner().invoke(main, ["import-authors-checkpoint", str(AUTHORS_FIXTURE / "unet"),
                                       "--out", str(tmp_path / "motion"), "--base-out", str(tmp_path / "base")])
    assert result.exit_code == 0, result.output
    assert read_motion_config(tmp_path / "motion")["lamp"] == AUTHORS_SWITCHES.to_dict()
    imported = import_authors_checkpoint(AUTHORS_FIXTURE / "unet")
    restored = LAMPVideoUNet.from_motion(UNet2DConditionModel.from_pretrained(tmp_path / "base"), tmp_path / "motion").eval()
    f = _forward_inputs()
    with torch.no_grad():
        assert torch.equal(restored(f["sample"], f["timestep"], f["encoder_hidden_states"]),
                           imported(f["sample"], f["timestep"], f["encoder_hidden_states"]))


def test_the_name_mapping_is_the_conv2d_level_only(checkpoint, authors_model, video_inputs, tmp_path):
    """A checkpoint in the authors' layout comes back as the model it was written from, bit for bit."""
    imported = import_authors_checkpoint(checkpoint)
    with torch.no_grad():
        assert torch.equal(imported(*video_inputs), authors_model(*video_inputs))
    save_motion_weights(imported, tmp_path / "motion")
    restored = LAMPVideoUNet.from_motion(imported.image_unet(), tmp_path / "motion").eval()
    with torch.no_grad():
        assert torch.equal(restored(*video_inputs), imported(*video_inputs))


def test_safetensors_is_read_when_present(checkpoint, authors_model, video_inputs):
    state = torch.load(checkpoint / "diffusion_pytorch_model.bin", weights_only=True)
    save_file(state, checkpoint / "diffusion_pytorch_model.safetensors")
    (checkpoint / "diffusion_pytorch_model.bin").write_bytes(b"not read")
    with torch.no_grad():
        assert torch.equal(import_authors_checkpoint(checkpoint)(*video_inputs), authors_model(*video_inputs))


def _edit_state(checkpoint: Path, edit) -> None:
    path = checkpoint / "diffusion_pytorch_model.bin"
    state = torch.load(path, weights_only=True)
    edit(state)
    torch.save(state, path)


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.update({"mid_block.extra.weight": torch.zeros(1)}), r"not in the authors' model: mid_block\.extra\.weight"),
    (lambda s: s.pop("conv_in.conv1d.weight"), r"missing in the checkpoint: conv_in\.conv1d\.weight"),
    (lambda s: s.update({"conv_in.conv2d.bias": torch.zeros(3)}), r"shape of conv_in\.bias: the checkpoint \(3,\), the authors' model \(32,\)"),
    (lambda s: s.update({"conv_in.conv3d.weight": s.pop("conv_in.conv2d.weight")}),
     r"missing in the checkpoint: conv_in\.weight\n  not in the authors' model: conv_in\.conv3d\.weight"),
])
def test_keys_that_do_not_fit_are_named(checkpoint, edit, message):
    _edit_state(checkpoint, edit)
    with pytest.raises(AuthorsCheckpointError, match=message):
        import_authors_checkpoint(checkpoint)


@pytest.mark.parametrize("config_edit, message", [
    ({"_class_name": "UNet2DConditionModel"}, "not the authors' UNet3DConditionModel"),
    ({"num_attention_heads": 8}, r"keys the authors' UNet3DConditionModel does not: \['num_attention_heads'\]"),
    ({"mid_block_type": "UNetMidBlockSpatioTemporal"}, "blocks the authors' model does not have"),
])
def test_another_architecture_is_refused(checkpoint, config_edit, message):
    path = checkpoint / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **config_edit}))
    with pytest.raises(AuthorsCheckpointError, match=message):
        import_authors_checkpoint(checkpoint)


class Payload:
    """Any object but a tensor: torch.load(weights_only=True) must refuse to rebuild it."""


def test_a_pickle_with_other_objects_is_not_unpickled(checkpoint):
    torch.save({"conv_in.conv2d.weight": Payload()}, checkpoint / "diffusion_pytorch_model.bin")
    with pytest.raises(AuthorsCheckpointError, match="weights_only"):
        import_authors_checkpoint(checkpoint)


def test_a_trained_norm_temp_is_refused(checkpoint):
    key = next(k for k in torch.load(checkpoint / "diffusion_pytorch_model.bin", weights_only=True) if "norm_temp.bias" in k)
    _edit_state(checkpoint, lambda s: s[key].add_(0.1))
    with pytest.raises(AuthorsCheckpointError, match="norm_temp differs from its initial value"):
        import_authors_checkpoint(checkpoint)


def test_frozen_weights_are_compared_with_the_named_base(checkpoint, image_unet):
    with warnings.catch_warnings():  # the same base: randomise_trainable moved only the trained set
        warnings.simplefilter("error", BaseWeightsDifferWarning)
        import_authors_checkpoint(checkpoint, copy.deepcopy(image_unet))
    other = copy.deepcopy(image_unet)
    with torch.no_grad():
        other.conv_out.bias.add_(1.0)
    with pytest.warns(BaseWeightsDifferWarning, match=r"1 of the checkpoint's \d+ frozen tensors differ .*conv_out\.bias"):
        import_authors_checkpoint(checkpoint, other)
    smaller = UNet2DConditionModel.from_config({**image_unet.config, "block_out_channels": (16, 32)})
    with pytest.raises(AuthorsCheckpointError, match=r"(?s)base UNet is not the one .*shape of conv_in\.weight: the base \(16, 4, 3, 3\), the checkpoint \(32, 4, 3, 3\)"):
        import_authors_checkpoint(checkpoint, smaller)


def test_command_writes_nothing_for_a_bad_checkpoint(checkpoint, tmp_path):
    _edit_state(checkpoint, lambda s: s.pop("conv_out.conv_gate.bias"))
    result = CliRunner().invoke(main, ["import-authors-checkpoint", str(checkpoint), "--out", str(tmp_path / "motion"),
                                       "--base-out", str(tmp_path / "base")])
    assert result.exit_code == 1 and "missing in the checkpoint: conv_out.conv_gate.bias" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unet"]


def test_command_reports_a_base_that_differs(checkpoint, image_unet, tmp_path):
    other = copy.deepcopy(image_unet)
    with torch.no_grad():
        other.conv_out.bias.add_(1.0)
    other.save_pretrained(tmp_path / "sd" / "unet")
    result = CliRunner().invoke(main, ["import-authors-checkpoint", str(checkpoint), "--out", str(tmp_path / "motion"),
                                       "--base-model", str(tmp_path / "sd")])
    assert result.exit_code == 0, result.output
    assert "warning: 1 of the checkpoint's" in result.output
    assert read_motion_config(tmp_path / "motion")["base_model"] == str(tmp_path / "sd")
    again = CliRunner().invoke(main, ["import-authors-checkpoint", str(checkpoint), "--out", str(tmp_path / "motion")])
    assert again.exit_code == 2 and "exists" in again.output
