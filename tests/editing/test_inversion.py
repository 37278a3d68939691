"""DDIM inversion: sampling from the inverted latents with the same prompt and no guidance gives the source back."""

import pytest
import torch
from diffusers import DDIMScheduler

from lamp.editing import ddim_invert, inverse_scheduler
from lamp.mini.base_models import sd_scheduler

from .conftest import tiny_pipeline

PROMPT = "a red circle"


def reconstruction_error(pipe, source: torch.Tensor, steps: int) -> float:
    """RMS of (sampled - source) over frames 2..l, relative to the source's RMS."""
    inverted = ddim_invert(pipe, source, PROMPT, steps)
    out = pipe(PROMPT, first_frame=source[0, :, 0], num_frames=source.shape[2], height=16, width=16,
               num_inference_steps=steps, guidance_scale=1.0, adain_in_loop=False, adain_after=False,
               histogram_matching=False, initial_noise=inverted)
    error = out.latents[:, :, 1:] - source[:, :, 1:]
    return float(error.pow(2).mean().sqrt() / source[:, :, 1:].pow(2).mean().sqrt())


def test_inversion_then_sampling_reconstructs_the_source_latents():
    """Within 6 % (10 steps) and 3 % (40 steps) relative RMS, and closer with more steps.

    DDIM inversion's only error is that step t uses the noise prediction at the previous point of
    the chain in place of its own; a trained model's prediction changes little between neighbouring
    steps, a random UNet's a lot. The tiny UNet's output is therefore damped (x 0.1) so that its
    prediction changes little from step to step, as a trained model's does. Measured: 4.0 % at 10 steps, 2.8 % at 20,
    1.7 % at 40 (undamped: 64 %, 56 %, 38 %).
    """
    pipe = tiny_pipeline(output_scale=0.1)
    source = torch.randn(1, 4, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    coarse, fine = reconstruction_error(pipe, source, 10), reconstruction_error(pipe, source, 40)
    assert coarse < 0.06 and fine < 0.03
    assert fine < coarse


def test_inversion_keeps_frame_one_clean_and_noises_the_rest(pipe):
    source = torch.randn(1, 4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    inverted = ddim_invert(pipe, source, "", 4)
    assert inverted.shape == source.shape
    assert torch.equal(inverted[:, :, 0], source[:, :, 0])
    assert not torch.allclose(inverted[:, :, 1:], source[:, :, 1:], atol=0.1)


def test_the_inverse_scheduler_retraces_the_sampler():
    sampler = DDIMScheduler.from_config(sd_scheduler().config)
    inverse = inverse_scheduler(sampler, 25)
    sampler.set_timesteps(25)
    assert inverse.timesteps.tolist() == sampler.timesteps.flip(0).tolist()
    with pytest.raises(ValueError, match="timestep_spacing"):
        inverse_scheduler(DDIMScheduler.from_config(sampler.config, timestep_spacing="linspace"), 25)
