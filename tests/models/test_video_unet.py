import copy

import pytest
import torch
from diffusers import UNet2DConditionModel
from torch import nn

from lamp.models import SD14_UNET_CONFIG, LAMPConfig, LAMPVideoUNet, is_trainable
from lamp.models.frames import FrameContext
from lamp.models.motion_conv import MotionConv2d

from .conftest import FRAMES, randomise_trainable


def image_unet_per_frame(image_unet, sample, timestep, text):
    with torch.no_grad():
        frames = [image_unet(sample[:, :, f], timestep, text).sample for f in range(sample.shape[2])]
    return torch.stack(frames, dim=2)


def max_diff_per_frame(a, b):
    return (a - b).abs().amax(dim=(0, 1, 3, 4))


def test_untrained_video_unet_equals_image_unet_on_every_frame(image_unet, make_video_unet, video_inputs):
    video_unet = make_video_unet(first_frame_attention=False)
    with torch.no_grad():
        out = video_unet(*video_inputs)
    assert out.shape == video_inputs[0].shape
    assert max_diff_per_frame(out, image_unet_per_frame(image_unet, *video_inputs)).max() <= 1e-5


def test_first_frame_attention_keeps_frame_one_and_changes_the_rest(image_unet, make_video_unet, video_inputs):
    video_unet = make_video_unet(first_frame_attention=True)
    with torch.no_grad():
        out = video_unet(*video_inputs)
    diff = max_diff_per_frame(out, image_unet_per_frame(image_unet, *video_inputs))
    assert diff[0] <= 1e-5
    assert (diff[1:] > 1e-3).all(), "frames 2..l should attend to frame 1, not to themselves"


@pytest.mark.parametrize("frames", [1, 2, 3])
def test_any_frame_count(make_video_unet, frames):
    video_unet = make_video_unet()
    sample = torch.randn(1, 4, frames, 8, 8)
    with torch.no_grad():
        assert video_unet(sample, 5, torch.randn(1, 3, 32)).shape == sample.shape


def _motion_conv(mode: str) -> tuple[MotionConv2d, FrameContext]:
    torch.manual_seed(3)
    frames = FrameContext()
    layer = MotionConv2d(nn.Conv2d(3, 4, 3, padding=1), frames, mode=mode)
    nn.init.normal_(layer.conv1d.weight)
    nn.init.normal_(layer.conv_gate.weight)
    frames.num_frames = 6
    return layer, frames


def _changed_frames(layer: MotionConv2d, k: int) -> list[int]:
    x = torch.randn(2 * 6, 3, 5, 5)
    y = x.clone().view(2, 6, 3, 5, 5)
    y[:, k] += 1.0
    with torch.no_grad():
        diff = (layer(x) - layer(y.view(12, 3, 5, 5))).view(2, 6, 4, 5, 5).abs().amax(dim=(0, 2, 3, 4))
    return [f for f in range(6) if diff[f] > 1e-6]


@pytest.mark.parametrize("k", [0, 2, 5])
def test_prediction_conv_is_causal(k):
    layer, _ = _motion_conv("prediction")
    assert _changed_frames(layer, k) == [f for f in (k, k + 1, k + 2) if f < 6]


@pytest.mark.parametrize("k", [0, 2, 5])
def test_vanilla_conv_is_centred(k):
    layer, _ = _motion_conv("vanilla")
    assert _changed_frames(layer, k) == [f for f in (k - 1, k, k + 1) if 0 <= f < 6]


def test_video_unet_without_temporal_attention_is_causal(make_video_unet, video_inputs):
    """First-frame attention plus the causal conv: frame f's output depends on frames <= f only."""
    video_unet = make_video_unet(temporal_attention=False)
    randomise_trainable(video_unet)
    sample, timestep, text = video_inputs
    changed = sample.clone()
    changed[:, :, 3] += 1.0
    with torch.no_grad():
        diff = max_diff_per_frame(video_unet(sample, timestep, text), video_unet(changed, timestep, text))
    assert (diff[:3] == 0).all()
    assert (diff[3:] > 1e-4).all()


def test_temporal_attention_mixes_frames_once_trained(make_video_unet, video_inputs):
    video_unet = make_video_unet(motion_layers=False, first_frame_attention=False)
    randomise_trainable(video_unet)
    sample, timestep, text = video_inputs
    changed = sample.clone()
    changed[:, :, 4] += 1.0
    with torch.no_grad():
        diff = max_diff_per_frame(video_unet(sample, timestep, text), video_unet(changed, timestep, text))
    assert diff[0] > 1e-4


def _trainable_kind(name: str) -> str:
    for kind in ("conv1d", "conv_gate", "attn_temp", "norm_temp", "attn1.to_q"):
        if f".{kind}." in name:
            return kind
    raise AssertionError(f"unexpected trainable parameter {name}")


@pytest.mark.parametrize("train_temporal_norm", [True, False])
def test_backward_reaches_exactly_the_trainable_set(make_video_unet, video_inputs, train_temporal_norm):
    video_unet = make_video_unet(train_temporal_norm=train_temporal_norm)
    video_unet.train()
    video_unet(*video_inputs).square().mean().backward()
    with_grad = {name for name, p in video_unet.unet.named_parameters() if p.grad is not None}
    trainable = {name for name, _ in video_unet.trainable_named_parameters()}
    assert with_grad == trainable
    kinds = {_trainable_kind(name) for name in trainable}
    expected = {"conv1d", "conv_gate", "attn_temp", "attn1.to_q"} | ({"norm_temp"} if train_temporal_norm else set())
    assert kinds == expected
    n_blocks = sum(1 for n, _ in video_unet.unet.named_modules() if n.endswith("transformer_blocks.0"))
    assert sum(1 for n in trainable if n.endswith("attn1.to_q.weight")) == n_blocks
    # the 1D conv learns first; a zero-initialised gate starts with no gradient through y1d = 0
    assert any(p.grad.abs().sum() > 0 for n, p in video_unet.trainable_named_parameters() if ".conv1d." in n)


def test_switches_shape_the_model(make_video_unet):
    plain = make_video_unet(motion_layers=False, temporal_attention=False)
    assert not any(isinstance(m, MotionConv2d) for m in plain.modules())
    assert not any(".attn_temp." in n for n, _ in plain.named_parameters())

    only_resnets = make_video_unet(motion_targets=("resnet",))
    inflated = [n for n, m in only_resnets.unet.named_modules() if isinstance(m, MotionConv2d)]
    assert inflated and all(".resnets." in n and n.rsplit(".", 1)[-1] in ("conv1", "conv2") for n in inflated)

    everything = make_video_unet()
    roles = {n for n, m in everything.unet.named_modules() if isinstance(m, MotionConv2d)}
    assert {"conv_in", "conv_out"} <= roles
    assert any(n.endswith("downsamplers.0.conv") for n in roles)
    assert any(n.endswith("conv_shortcut") for n in roles)


def test_config_is_diffusers_and_the_switches_are_lamp_config(make_video_unet):
    """``pipe.unet.config`` means what it means in diffusers; LAMP's switches have their own name."""
    model = make_video_unet(conv_mode="vanilla")
    assert model.config is model.unet.config and model.config.block_out_channels == model.unet.config.block_out_channels
    assert isinstance(model.lamp_config, LAMPConfig) and model.lamp_config.conv_mode == "vanilla"


def test_base_parameter_names_are_kept(image_unet, make_video_unet):
    video_unet = make_video_unet()
    inflated = dict(video_unet.unet.named_parameters())
    assert set(dict(image_unet.named_parameters())) <= set(inflated)
    assert all(
        torch.equal(p, inflated[n]) for n, p in image_unet.named_parameters()
    ), "inflation must not change any base weight"


def test_code_init_differs_from_the_image_model(image_unet, make_video_unet, video_inputs):
    """The authors' code leaves the temporal attention's output bias random, so its untrained model is not the image model."""
    video_unet = make_video_unet(first_frame_attention=False, motion_init="code")
    with torch.no_grad():
        out = video_unet(*video_inputs)
    assert max_diff_per_frame(out, image_unet_per_frame(image_unet, *video_inputs)).max() > 1e-3


@pytest.mark.parametrize("motion_init", ["zero", "code"])
def test_motion_init_initialises_as_the_paper_or_the_authors_constructor(make_video_unet, motion_init):
    """Both zero conv1d and the gate; the temporal attention's output projection has a zero weight and,
    under ``code`` only, PyTorch's default bias: uniform in +-1/sqrt(fan_in), not zero."""
    model = make_video_unet(motion_init=motion_init)
    convs = [m for m in model.unet.modules() if isinstance(m, MotionConv2d)]
    assert convs and all(not p.any() for m in convs for p in (*m.conv1d.parameters(), *m.conv_gate.parameters()))
    blocks = [m for m in model.unet.modules() if hasattr(m, "attn_temp")]
    assert blocks
    for block in blocks:
        out = block.attn_temp.to_out[0]
        assert not out.weight.any()
        if motion_init == "zero":
            assert not out.bias.any()
        else:
            assert out.bias.all() and out.bias.abs().max() <= out.in_features**-0.5
        # the rest as PyTorch and diffusers make it, in both: LayerNorm at identity, no q/k/v bias
        assert block.norm_temp.weight.eq(1).all() and not block.norm_temp.bias.any()
        assert all(getattr(block.attn_temp, n).bias is None for n in ("to_q", "to_k", "to_v"))


def test_gradient_checkpointing_gives_the_same_gradients(make_video_unet, video_inputs):
    trained = make_video_unet()
    randomise_trainable(trained)
    grads = []
    for checkpointing in (False, True):
        video_unet = copy.deepcopy(trained).train()
        if checkpointing:
            video_unet.enable_gradient_checkpointing()
        video_unet(*video_inputs).square().mean().backward()
        grads.append({n: p.grad.clone() for n, p in video_unet.trainable_named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], rtol=1e-4, atol=1e-6)


def test_a_timestep_broadcasts_over_the_batch_as_in_diffusers(make_video_unet, video_inputs):
    sample, _, text = video_inputs  # a batch of 2
    video_unet = make_video_unet()
    with torch.no_grad():
        per_video = video_unet(sample, torch.tensor([10, 10]), text)
        for timestep in (10, torch.tensor(10), torch.tensor([10])):
            assert torch.equal(video_unet(sample, timestep, text), per_video)
    with pytest.raises(ValueError, match="one timestep or one per video"):
        video_unet(sample, torch.tensor([1, 2, 3]), text)


def test_rejects_wrong_input_rank(make_video_unet):
    with pytest.raises(ValueError, match="frames, height, width"):
        make_video_unet()(torch.randn(2, 4, 8, 8), 1, torch.randn(2, 3, 32))


def test_config_rejects_unknown_and_bad_values():
    with pytest.raises(ValueError, match="unknown LAMP model settings"):
        LAMPConfig.from_dict({"conv_mod": "vanilla"})
    with pytest.raises(ValueError, match="conv_mode"):
        LAMPConfig(conv_mode="centred")
    with pytest.raises(ValueError, match="motion_targets"):
        LAMPConfig(motion_targets=("attn",))
    assert LAMPConfig.from_dict(LAMPConfig(conv_mode="vanilla").to_dict()) == LAMPConfig(conv_mode="vanilla")


def test_sd14_configuration_inflates_and_runs_on_cpu():
    torch.manual_seed(0)
    video_unet = LAMPVideoUNet(UNet2DConditionModel(**SD14_UNET_CONFIG), base_model="sd14-config").eval()
    counts = video_unet.parameter_counts()
    image_params = 859_520_964  # SD v1.4's UNet
    assert counts.total > image_params
    assert counts.trainable == sum(
        p.numel() for n, p in video_unet.unet.named_parameters() if is_trainable(n, video_unet.lamp_config)
    )
    with torch.no_grad():
        out = video_unet(torch.randn(1, 4, 2, 8, 8), 500, torch.randn(1, 77, 768))
    assert out.shape == (1, 4, 2, 8, 8)
    assert torch.isfinite(out).all()
    print(f"SD v1.4 LAMP video UNet: trainable {counts.trainable:,} / total {counts.total:,}")
