"""DDIM inversion of a video's latents: the starting noise of an edit (paper Sec. 5.2)."""

from __future__ import annotations

import torch
from diffusers import DDIMInverseScheduler, DDIMScheduler

from lamp.data.latents import encode_prompts
from lamp.sampling.pipeline import LAMPPipeline


def inverse_scheduler(scheduler: DDIMScheduler, num_inference_steps: int) -> DDIMInverseScheduler:
    """The DDIM inverse of ``scheduler``, its timesteps those of ``scheduler`` in reverse order.

    Sampling must start from the timestep inversion ends at, and retrace the same steps, or the
    inverted latents sit at a noise level the sampler does not expect; a schedule whose spacing
    the inverse scheduler does not share (``linspace``) is refused rather than silently mismatched.
    """
    if scheduler.config.timestep_spacing not in ("leading", "trailing"):
        raise ValueError(
            f"DDIM inversion needs timestep_spacing 'leading' or 'trailing', the scheduler has "
            f"{scheduler.config.timestep_spacing!r}"
        )
    inverse = DDIMInverseScheduler.from_config(scheduler.config)
    inverse.set_timesteps(num_inference_steps)
    sampler = DDIMScheduler.from_config(scheduler.config)
    sampler.set_timesteps(num_inference_steps)
    if not torch.equal(inverse.timesteps.flip(0), sampler.timesteps.cpu()):
        raise ValueError("the inverse scheduler's timesteps are not the sampler's in reverse order")
    return inverse


@torch.no_grad()
def ddim_invert(
    pipe: LAMPPipeline, latents: torch.Tensor, prompt: str = "", num_inference_steps: int = 50
) -> torch.Tensor:
    """Noise ``(1, c, f, h, w)`` from which ``pipe``'s DDIM sampling with ``prompt`` retraces ``latents``.

    The paper inverts with the empty prompt and no guidance (one UNet pass per step). As in
    sampling, frame 1 is given clean at every step and only frames 2..l are inverted, so the
    inversion is the exact mirror of :meth:`LAMPPipeline.denoise`; frame 1 of the result is the
    clean latent (sampling replaces it with the edited first frame's). Hand-written because
    diffusers' inversion lives inside image pipelines (``StableDiffusionDiffEditPipeline.invert``)
    that neither take video latents nor keep frame 1 clean; the step is diffusers'
    :class:`~diffusers.DDIMInverseScheduler`.

    Args:
        pipe: the pipeline whose UNet (the edit's tuned motion model) and scheduler sample the edit.
        latents: clean latents, already multiplied by the VAE's scaling factor.
        prompt: the text conditioning each step ("" in the paper).
        num_inference_steps: must equal the sampling steps of the edit.
    """
    inverse = inverse_scheduler(pipe.scheduler, num_inference_steps)
    text = encode_prompts(pipe.tokenizer, pipe.text_encoder, {"prompt": prompt})["prompt"].to(pipe.device)
    latents = latents.to(pipe.device, pipe.unet.dtype).clone()
    first_latent = latents[:, :, :1].clone()
    for t in pipe.progress_bar(inverse.timesteps):
        noise_pred = pipe.unet(latents, t, text.to(latents.dtype))
        latents[:, :, 1:] = inverse.step(noise_pred[:, :, 1:], t, latents[:, :, 1:]).prev_sample
        latents[:, :, :1] = first_latent
    return latents
