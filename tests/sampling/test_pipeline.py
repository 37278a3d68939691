from types import SimpleNamespace

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, UNet2DConditionModel

from lamp.mini.base_models import build_text_encoder, build_tokenizer, build_vae, sd_scheduler
from lamp.mini.settings import MiniBaseConfig
from lamp.models import LAMPVideoUNet, tiny_unet_config
from lamp.sampling import LAMPPipeline, match_histograms, shared_noise
from lamp.sampling.postprocess import adain_step

CONFIG = MiniBaseConfig(image_size=32, vae_channels=(16, 16), latent_channels=4, text_width=32, text_layers=1,
                        text_heads=2, max_tokens=8)


@pytest.fixture(scope="module")
def pipeline() -> LAMPPipeline:
    torch.manual_seed(0)
    tokenizer = build_tokenizer(CONFIG)
    unet = UNet2DConditionModel(**tiny_unet_config(cross_attention_dim=32, sample_size=16))
    video_unet = LAMPVideoUNet(unet).eval()
    with torch.no_grad():  # trained-looking motion layers, so frames 2..l really differ from frame 1
        for _, p in video_unet.trainable_named_parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return LAMPPipeline(
        vae=build_vae(CONFIG).eval(),
        text_encoder=build_text_encoder(CONFIG, tokenizer).eval(),
        tokenizer=tokenizer,
        unet=video_unet,
        scheduler=DDIMScheduler.from_config(sd_scheduler().config),
    )


def generate(pipeline, seed=0, **kwargs):
    image = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    settings = dict(first_frame=image, num_frames=4, height=32, width=32, num_inference_steps=3, guidance_scale=3.0)
    return pipeline("a red circle", generator=torch.Generator().manual_seed(seed), **{**settings, **kwargs})


def test_frame_one_is_the_decoded_first_frame(pipeline):
    out = generate(pipeline)
    assert out.frames.shape == (4, 32, 32, 3) and out.frames.dtype == np.uint8
    assert np.array_equal(out.frames[0], pipeline.decode(out.latents[:, :, :1])[0])
    given = out.latents[0, :, 0].clone()
    again = pipeline("a blue star", first_frame=given, num_frames=3, height=32, width=32, num_inference_steps=2,
                     generator=torch.Generator().manual_seed(5))
    assert torch.equal(again.latents[0, :, 0], given)


def test_without_first_frame_conditioning_every_frame_is_sampled(pipeline):
    out = generate(pipeline, first_frame_conditioning=False, histogram_matching=False)
    conditioned = generate(pipeline, histogram_matching=False)
    assert out.frames.shape == (4, 32, 32, 3)
    assert not torch.equal(out.latents[:, :, 0], conditioned.latents[:, :, 0])
    assert np.array_equal(out.frames, generate(pipeline, first_frame_conditioning=False, histogram_matching=False).frames)


def test_same_seed_same_video_other_seed_other_video(pipeline):
    a, b, c = generate(pipeline, seed=1), generate(pipeline, seed=1), generate(pipeline, seed=2)
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames[1:], c.frames[1:])


@pytest.mark.parametrize("alpha", [0.2, 0.5, None])
def test_initial_noise_correlation_follows_eq6(pipeline, alpha):
    first = torch.zeros(1, 4, 32, 32)
    generator = torch.Generator().manual_seed(0)
    draws = torch.stack([pipeline.initial_latents(first, (4, 32, 32), 5, alpha, generator, None)[0, :, 1:] for _ in range(20)])
    frames = draws.transpose(0, 2).reshape(4, -1)  # frames 2..5, every value of every draw
    correlation = torch.corrcoef(frames)
    off_diagonal = correlation[~torch.eye(4, dtype=torch.bool)]
    expected = 0.0 if alpha is None else alpha**2 / (alpha**2 + (1 - alpha) ** 2)
    assert (off_diagonal - expected).abs().max() < 0.02
    variance = frames.var(dim=1)
    expected_variance = 1.0 if alpha is None else alpha**2 + (1 - alpha) ** 2
    assert (variance - expected_variance).abs().max() < 0.03


def test_shared_noise_keeps_frame_one():
    noise = torch.randn(1, 4, 3, 8, 8)
    mixed = shared_noise(noise, 0.2)
    assert torch.equal(mixed[:, :, 0], noise[:, :, 0])
    torch.testing.assert_close(mixed[:, :, 2], 0.2 * noise[:, :, 0] + 0.8 * noise[:, :, 2])


def test_histogram_matching_takes_the_reference_distribution():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 128, (16, 16, 3), dtype=np.uint8)
    reference = rng.integers(128, 256, (16, 16, 3), dtype=np.uint8)
    matched = match_histograms(image, reference)
    assert abs(matched.mean() - reference.mean()) < 3
    order = np.argsort(image[..., 1].ravel(), kind="stable")
    assert np.all(np.diff(matched[..., 1].ravel()[order].astype(int)) >= 0), "matching must keep the order of values"


def test_histogram_matching_outputs_only_values_the_reference_holds():
    """The issue's case: a dark reference of {10, 100}; interpolation gave {9, 10, 99, 100, 255}."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    reference = rng.choice(np.array([10, 100], dtype=np.uint8), (32, 32, 3))
    matched = match_histograms(image, reference)
    assert set(np.unique(matched)) <= {10, 100}
    for channel in range(3):
        assert set(np.unique(matched[..., channel])) == set(np.unique(reference[..., channel]))
    for seed in range(20):  # and for any reference: no value it lacks, so no new extremes
        other = np.random.default_rng(seed).integers(40, 90, (16, 16, 3), dtype=np.uint8)
        out = match_histograms(image, other)
        assert all(set(np.unique(out[..., c])) <= set(np.unique(other[..., c])) for c in range(3))


def test_histogram_matching_by_hand():
    # image levels 0, 1, 2, 3 a quarter each: CDF .25, .5, .75, 1; reference 10 and 100 half each: CDF .5 from 10,
    # 1 from 100. The lowest reference level whose CDF reaches each image CDF: 10, 10 (.5 reaches .5), 100, 100.
    image = np.repeat(np.array([0, 1, 2, 3], dtype=np.uint8), 4).reshape(4, 4, 1).repeat(3, axis=2)
    reference = np.repeat(np.array([10, 100], dtype=np.uint8), 8).reshape(4, 4, 1).repeat(3, axis=2)
    expected = np.choose(image, [10, 10, 100, 100]).astype(np.uint8)
    assert np.array_equal(match_histograms(image, reference), expected)
    # one channel's reference split 1:3 instead: CDF .25 from 10 -> 0 maps to 10, 1, 2, 3 to 100
    reference[..., 2] = np.where(np.arange(16).reshape(4, 4) < 4, 10, 100)
    assert np.array_equal(match_histograms(image, reference)[..., 2], np.choose(image[..., 2], [10, 100, 100, 100]))


def test_post_processing_switches_change_the_output(pipeline):
    plain = generate(pipeline, adain_in_loop=False, adain_after=False, histogram_matching=False)
    full = generate(pipeline)
    assert np.array_equal(plain.frames[0], full.frames[0])
    assert not np.array_equal(plain.frames[1:], full.frames[1:])


def test_no_first_frame_is_an_error_naming_the_drawer(pipeline):
    with pytest.raises(ValueError, match="draw_first_frame"):
        pipeline("a red circle", num_frames=2, height=32, width=32, num_inference_steps=1)


def _frames(*values: list[float]) -> torch.Tensor:
    """``(1, 1, f, 2, 2)`` latents, one 2x2 frame per list of four values."""
    return torch.tensor(values).view(1, 1, len(values), 2, 2)


# Frames with two levels each: AdaIN then maps a frame's low/high values onto the style's low/high
# values, so the expected results can be read off by hand (up to AdaIN's 1e-5 epsilon).
F0, F1, F2 = [0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 3.0, 3.0], [7.0, 7.0, 5.0, 5.0]


def test_adain_step_on_a_late_step_renormalises_frame_1_first_then_the_rest_to_it():
    latents = _frames(F0, F1, F2)
    adain_step(latents, late=True)
    # frame 1 takes frame 0's levels; frame 2 then takes the *updated* frame 1's (lamp's old order gave [3, 3, 1, 1])
    torch.testing.assert_close(latents, _frames(F0, F0, [10.0, 10.0, 0.0, 0.0]), atol=1e-3, rtol=0)


def test_adain_step_on_an_early_step_leaves_frame_1():
    latents = _frames(F0, F1, F2)
    adain_step(latents, late=False)
    torch.testing.assert_close(latents, _frames(F0, F1, [3.0, 3.0, 1.0, 1.0]), atol=1e-3, rtol=0)


def test_denoise_applies_the_authors_adain_order_at_each_step():
    """A UNet that predicts nothing and a scheduler that keeps the sample: only AdaIN moves the latents."""
    scheduler = SimpleNamespace(timesteps=None, scale_model_input=lambda x, t: x,
                                step=lambda noise, t, sample: SimpleNamespace(prev_sample=sample))
    scheduler.set_timesteps = lambda n, device: setattr(scheduler, "timesteps", torch.arange(n).flip(0))
    unet_inputs = []
    stub = SimpleNamespace(scheduler=scheduler, device=torch.device("cpu"), progress_bar=lambda steps: steps,
                           unet=lambda x, t, text: unet_inputs.append(x.clone()) or torch.zeros_like(x))
    latents = _frames(F0, F1, F2)
    # 5 steps, late from 0.6: steps 0-3 are early, step 4 is late
    out = LAMPPipeline.denoise(stub, latents, latents[:, :, 0].clone(), torch.zeros(2, 1, 1), 5, 3.0,
                               adain_in_loop=True, adain_first_frame_from=0.6)
    torch.testing.assert_close(out, _frames(F0, F0, [10.0, 10.0, 0.0, 0.0]), atol=1e-3, rtol=0)
    torch.testing.assert_close(unet_inputs[-1][:1], _frames(F0, F1, [3.0, 3.0, 1.0, 1.0]), atol=1e-3, rtol=0)
