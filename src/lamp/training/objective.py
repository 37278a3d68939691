"""The LAMP training objective (paper Eq. 4): denoise frames 2..l of a clip given its clean frame 1.

Each function here is one idea of the objective; all randomness comes from one ``torch.Generator``
(on the CPU, where the cached latents live), so a run is reproduced by its seed and resumed by the
generator's state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Mapping

import torch
import torch.nn.functional as F
from diffusers import SchedulerMixin
from einops import rearrange

from lamp.data.latents import cached_videos, latent_key, sample_latents
from lamp.training.config import TrainConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Clip:
    """``n_sample_frames`` latents of one cached video, ``(1, C, F, h, w)`` and scaled for the UNet."""

    video: str
    start: int
    flipped: bool
    latents: torch.Tensor


@dataclass(frozen=True)
class TrainingExample:
    """A clip with its diffusion timestep ``(1,)`` and noise (shaped like the latents)."""

    clip: Clip
    timesteps: torch.Tensor
    noise: torch.Tensor

    def to(self, device: torch.device | str) -> TrainingExample:
        clip = replace(self.clip, latents=self.clip.latents.to(device))
        return TrainingExample(clip, self.timesteps.to(device), self.noise.to(device))

    def describe(self) -> str:
        """Where the example came from, for error messages."""
        clip = self.clip
        flipped = ", flipped" if clip.flipped else ""
        return f"video {clip.video!r} (from frame {clip.start}{flipped}) at timestep {int(self.timesteps[0])}"


def video_lengths(latents: Mapping[str, torch.Tensor]) -> dict[str, int]:
    """Frames cached per video."""
    return {video: latents[latent_key(video, False, "mean")].shape[0] for video in cached_videos(latents)}


def trainable_videos(latents: Mapping[str, torch.Tensor], config: TrainConfig) -> list[str]:
    """The cached videos long enough for one clip; a clear error when there are none.

    Videos shorter than a clip are skipped with a warning rather than failing the run, as long as
    one video remains: a motion set may hold a few short videos.
    """
    lengths = video_lengths(latents)
    videos = [video for video, length in lengths.items() if length >= config.clip_span]
    if not videos:
        raise ValueError(
            f"no cached video is long enough for one training clip: a clip of {config.n_sample_frames} "
            f"frames at stride {config.sample_frame_rate} needs {config.clip_span} frames, but the "
            f"videos have {lengths}; lower n_sample_frames or sample_frame_rate, or use longer videos"
        )
    skipped = sorted(set(lengths) - set(videos))
    if skipped:
        logger.warning("skipping videos shorter than %d frames: %s", config.clip_span, skipped)
    if config.random_flip:
        unflipped = [video for video in videos if latent_key(video, True, "mean") not in latents]
        if unflipped:
            raise ValueError(
                f"random_flip needs the latents of flipped frames, which are missing for {unflipped}: "
                "encode with flipping on, or set random_flip to false"
            )
    return videos


def sample_clip(
    latents: Mapping[str, torch.Tensor],
    videos: list[str],
    config: TrainConfig,
    scaling_factor: float,
    generator: torch.Generator,
) -> Clip:
    """A random clip of a random video, mirrored with p = 0.5 when ``random_flip``.

    The latents are a fresh draw from the cached posterior, as ``latent_dist.sample()`` would give
    when encoding on the fly, times the VAE's scaling factor.
    """
    video = videos[int(torch.randint(len(videos), (1,), generator=generator))]
    length = latents[latent_key(video, False, "mean")].shape[0]
    start = int(torch.randint(length - config.clip_span + 1, (1,), generator=generator))
    flipped = config.random_flip and bool(torch.rand(1, generator=generator) < 0.5)
    frames = slice(start, start + config.clip_span, config.sample_frame_rate)
    clip = sample_latents(latents, video, frames, flipped, generator) * scaling_factor
    return Clip(video, start, flipped, rearrange(clip, "f c h w -> 1 c f h w"))


def sample_timesteps(
    scheduler: SchedulerMixin, batch: int, generator: torch.Generator, timestep_range: tuple[float, float] = (0.0, 1.0)
) -> torch.Tensor:
    """Timesteps ``t ~ U[low n, high n)`` for ``n = num_train_timesteps``, one per video (the paper: all of them)."""
    n = scheduler.config.num_train_timesteps
    low, high = (round(fraction * n) for fraction in timestep_range)
    return torch.randint(low, max(high, low + 1), (batch,), generator=generator)


def sample_example(
    latents: Mapping[str, torch.Tensor],
    videos: list[str],
    config: TrainConfig,
    scheduler: SchedulerMixin,
    scaling_factor: float,
    generator: torch.Generator,
) -> TrainingExample:
    """A clip, a timestep and Gaussian noise for it: everything random in one training step."""
    clip = sample_clip(latents, videos, config, scaling_factor, generator)
    timesteps = sample_timesteps(scheduler, clip.latents.shape[0], generator, config.timestep_range)
    noise = torch.randn(clip.latents.shape, generator=generator, dtype=clip.latents.dtype)
    return TrainingExample(clip, timesteps, noise)


def noisy_latents(
    scheduler: SchedulerMixin,
    latents: torch.Tensor,
    noise: torch.Tensor,
    timesteps: torch.Tensor,
    first_frame_conditioning: bool = True,
) -> torch.Tensor:
    """The UNet's input: every frame noised to ``t``, then frame 1 clean again when conditioning on it."""
    noisy = scheduler.add_noise(latents, noise, timesteps)
    if first_frame_conditioning:
        noisy[:, :, 0] = latents[:, :, 0]
    return noisy


def prediction_target(
    scheduler: SchedulerMixin, latents: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor
) -> torch.Tensor:
    """What the UNet should predict: the noise, or v for a v-prediction scheduler."""
    prediction_type = scheduler.config.prediction_type
    if prediction_type == "epsilon":
        return noise
    if prediction_type == "v_prediction":
        return scheduler.get_velocity(latents, noise, timesteps)
    raise ValueError(f"unsupported prediction_type {prediction_type!r}: use 'epsilon' or 'v_prediction'")


def motion_loss(
    prediction: torch.Tensor, target: torch.Tensor, first_frame_conditioning: bool = True
) -> torch.Tensor:
    """MSE over frames 2..l (frame 1 was given, so it is not predicted), or over all frames."""
    if first_frame_conditioning:
        prediction, target = prediction[:, :, 1:], target[:, :, 1:]
    return F.mse_loss(prediction.float(), target.float())


def example_loss(
    model: torch.nn.Module,
    example: TrainingExample,
    encoder_hidden_states: torch.Tensor,
    scheduler: SchedulerMixin,
    first_frame_conditioning: bool = True,
) -> torch.Tensor:
    """The loss of Eq. 4 on one example (on the example's device)."""
    latents, noise, timesteps = example.clip.latents, example.noise, example.timesteps
    sample = noisy_latents(scheduler, latents, noise, timesteps, first_frame_conditioning)
    prediction = model(sample, timesteps, encoder_hidden_states)
    target = prediction_target(scheduler, latents, noise, timesteps)
    return motion_loss(prediction, target, first_frame_conditioning)
