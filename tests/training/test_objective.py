import pytest
import torch

from lamp.data.latents import latent_key
from lamp.training import (
    example_loss,
    motion_loss,
    noisy_latents,
    prediction_target,
    sample_example,
    trainable_videos,
)
from tests.training.conftest import SCALING_FACTOR, moving_blob_latents, noise_scheduler, small_config


def draw(latents, config, seed=0, scheduler=None):
    generator = torch.Generator().manual_seed(seed)
    videos = trainable_videos(latents, config)
    return sample_example(latents, videos, config, scheduler or noise_scheduler(), SCALING_FACTOR, generator)


def test_a_clip_is_a_strided_window_of_one_video_scaled(latents):
    config = small_config(n_sample_frames=3, sample_frame_rate=2, random_flip=False)
    for seed in range(20):
        clip = draw(latents, config, seed).clip
        assert clip.latents.shape == (1, 4, 3, 8, 8)
        assert 0 <= clip.start <= 8 - config.clip_span and not clip.flipped
        mean = latents[latent_key(clip.video, False, "mean")][clip.start : clip.start + 5 : 2]
        expected = mean.permute(1, 0, 2, 3)[None] * SCALING_FACTOR
        # The posterior's standard deviation is 1e-2 before scaling.
        torch.testing.assert_close(clip.latents, expected, atol=0.01, rtol=0)
        assert not torch.equal(clip.latents, expected), "latents are a fresh posterior draw, not the mean"


def test_flipped_clips_use_the_flipped_latents_about_half_the_time(latents):
    clips = [draw(latents, small_config(), seed).clip for seed in range(40)]
    assert 10 < sum(c.flipped for c in clips) < 30
    for clip in clips:
        mean = latents[latent_key(clip.video, clip.flipped, "mean")][clip.start : clip.start + 4]
        torch.testing.assert_close(clip.latents, mean.permute(1, 0, 2, 3)[None] * SCALING_FACTOR, atol=0.01, rtol=0)
    assert {c.video for c in clips} == {"v0", "v1"}


def test_the_same_seed_draws_the_same_example(latents):
    a, b = draw(latents, small_config(), 5), draw(latents, small_config(), 5)
    assert (a.clip.video, a.clip.start, a.clip.flipped) == (b.clip.video, b.clip.start, b.clip.flipped)
    assert torch.equal(a.clip.latents, b.clip.latents) and torch.equal(a.noise, b.noise)
    assert torch.equal(a.timesteps, b.timesteps) and 0 <= int(a.timesteps) < 1000


def test_timesteps_come_from_the_configured_part_of_the_schedule(latents):
    whole = [int(draw(latents, small_config(), seed).timesteps) for seed in range(200)]
    noisy = [int(draw(latents, small_config(timestep_range=(0.5, 1.0)), seed).timesteps) for seed in range(200)]
    assert min(whole) < 100 and max(whole) >= 900
    assert min(noisy) >= 500 and max(noisy) <= 999 and max(noisy) >= 950


def test_videos_too_short_for_a_clip_are_a_clear_error():
    latents = moving_blob_latents(frames=5)
    with pytest.raises(ValueError, match=r"needs 9 frames.*'v0': 5, 'v1': 5"):
        trainable_videos(latents, small_config(n_sample_frames=5, sample_frame_rate=2))


def test_short_videos_are_skipped_while_one_fits(latents):
    latents = {**latents, **{k.replace("v1", "v2"): v[:3] for k, v in latents.items() if k.startswith("v1.")}}
    assert trainable_videos(latents, small_config()) == ["v0", "v1"]


def test_random_flip_needs_flipped_latents():
    with pytest.raises(ValueError, match="random_flip"):
        trainable_videos(moving_blob_latents(flip=False), small_config())
    assert trainable_videos(moving_blob_latents(flip=False), small_config(random_flip=False)) == ["v0", "v1"]


def test_frame_one_stays_clean_in_the_input(latents, scheduler):
    example = draw(latents, small_config())
    clean, noise, t = example.clip.latents, example.noise, example.timesteps
    conditioned = noisy_latents(scheduler, clean, noise, t, first_frame_conditioning=True)
    assert torch.equal(conditioned[:, :, 0], clean[:, :, 0])
    assert torch.equal(conditioned[:, :, 1:], scheduler.add_noise(clean, noise, t)[:, :, 1:])
    unconditioned = noisy_latents(scheduler, clean, noise, t, first_frame_conditioning=False)
    assert not torch.allclose(unconditioned[:, :, 0], clean[:, :, 0])


def test_the_target_follows_the_prediction_type(latents):
    example = draw(latents, small_config())
    clean, noise, t = example.clip.latents, example.noise, example.timesteps
    assert prediction_target(noise_scheduler("epsilon"), clean, noise, t) is noise
    v_scheduler = noise_scheduler("v_prediction")
    assert torch.equal(prediction_target(v_scheduler, clean, noise, t), v_scheduler.get_velocity(clean, noise, t))
    with pytest.raises(ValueError, match="sample"):
        prediction_target(noise_scheduler("sample"), clean, noise, t)


def test_the_loss_leaves_frame_one_out():
    target = torch.zeros(1, 4, 3, 2, 2)
    prediction = torch.ones_like(target)
    prediction[:, :, 0] = 10
    assert motion_loss(prediction, target, first_frame_conditioning=True) == 1
    assert motion_loss(prediction, target, first_frame_conditioning=False) == pytest.approx(34)


def randomise_trainable(model, seed=2, scale=0.05):
    """Give the new layers non-zero weights, as training would, so that every one gets a gradient."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, param in model.trainable_named_parameters():
            param.add_(torch.randn(param.shape, generator=generator) * scale)


def trainable_gradients(model, example, text, scheduler, first_frame_conditioning, frame_one_output=None):
    """Gradients of the loss, optionally with the model's frame-1 output replaced by ``frame_one_output(out)``."""
    model.zero_grad(set_to_none=True)

    def replace_frame_one(module, args, out):
        return torch.cat([frame_one_output(out[:, :, :1]), out[:, :, 1:]], dim=2)

    handle = model.register_forward_hook(replace_frame_one) if frame_one_output else None
    try:
        example_loss(model, example, text, scheduler, first_frame_conditioning).backward()
    finally:
        if handle:
            handle.remove()
    return {name: p.grad.clone() for name, p in model.trainable_named_parameters()}


@pytest.mark.parametrize("conditioned", [True, False])
def test_frame_one_output_reaches_the_gradients_only_without_conditioning(
    conditioned, model, latents, text_embeddings, scheduler
):
    randomise_trainable(model)
    example = draw(latents, small_config(first_frame_conditioning=conditioned))
    text = text_embeddings["prompt"]
    plain = trainable_gradients(model, example, text, scheduler, conditioned)
    changed = trainable_gradients(model, example, text, scheduler, conditioned, lambda out: 3 * out + 5)
    assert all(g.abs().sum() > 0 for g in plain.values()), "every trainable parameter gets a gradient"
    same = all(torch.equal(plain[name], changed[name]) for name in plain)
    assert same is conditioned
