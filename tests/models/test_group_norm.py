import pytest
import torch
from einops import rearrange
from torch import nn

from lamp.models import LAMPConfig
from lamp.models.checks import inflation_report
from lamp.models.frames import FrameContext
from lamp.models.group_norm import VideoGroupNorm

from .conftest import FRAMES


def test_video_group_norm_is_group_norm_on_the_5d_video():
    """What the authors' resnets compute: nn.GroupNorm on (b, c, f, h, w)."""
    torch.manual_seed(0)
    norm = nn.GroupNorm(4, 8)
    nn.init.normal_(norm.weight)
    nn.init.normal_(norm.bias)
    frames = FrameContext()
    frames.num_frames = 3
    video = torch.randn(2, 8, 3, 5, 5) * torch.arange(1.0, 4.0).view(1, 1, 3, 1, 1)  # frames differ in scale
    folded = rearrange(video, "b c f h w -> (b f) c h w")
    pooled = VideoGroupNorm(norm, frames)(folded)
    torch.testing.assert_close(pooled, rearrange(norm(video), "b c f h w -> (b f) c h w"))
    assert (pooled - norm(folded)).abs().max() > 0.1, "per-frame statistics would differ"
    assert VideoGroupNorm(norm, frames).weight is norm.weight


def _norms(model) -> dict[str, type]:
    return {n: type(m) for n, m in model.unet.named_modules() if isinstance(m, nn.GroupNorm)}


def test_video_scope_pools_the_resnets_and_the_output_norm_only(make_video_unet):
    norms = _norms(make_video_unet(group_norm="video"))
    pooled = {n for n, kind in norms.items() if kind is VideoGroupNorm}
    assert pooled == {n for n in norms if ".resnets." in n or n == "conv_norm_out"}
    assert any(n.endswith("attentions.0.norm") for n in norms), "the attention blocks' GroupNorm stays per frame"
    assert set(_norms(make_video_unet()).values()) == {nn.GroupNorm}, "frame is the default"


def test_video_scope_lets_every_frame_see_every_other_frame(make_video_unet, video_inputs):
    sample, timestep, text = video_inputs
    changed = sample.clone()
    changed[:, :, FRAMES - 1] *= 3.0
    plain = {"motion_layers": False, "temporal_attention": False, "first_frame_attention": False}
    for scope, frame_0_changes in (("frame", False), ("video", True)):
        model = make_video_unet(group_norm=scope, **plain)
        with torch.no_grad():
            diff = (model(sample, timestep, text) - model(changed, timestep, text))[:, :, 0].abs().max()
        assert bool(diff > 1e-4) is frame_0_changes, scope


def test_video_scope_on_one_frame_is_the_frame_scope(make_video_unet, video_inputs):
    sample, timestep, text = video_inputs
    one = sample[:, :, :1]
    with torch.no_grad():
        torch.testing.assert_close(make_video_unet(group_norm="video")(one, timestep, text),
                                   make_video_unet(group_norm="frame")(one, timestep, text))


def test_untrained_video_scope_is_the_image_model_on_a_still_video(image_unet):
    report = inflation_report(image_unet, LAMPConfig(group_norm="video"))
    assert report["identical_frames"] and report["untrained_equals_image_model"]
    assert not inflation_report(image_unet, LAMPConfig(group_norm="video", motion_init="code"))["untrained_equals_image_model"]


def test_group_norm_setting_is_checked():
    assert LAMPConfig.from_dict({"group_norm": "video"}).group_norm == "video"
    with pytest.raises(ValueError, match="group_norm"):
        LAMPConfig(group_norm="clip")
