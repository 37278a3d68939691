"""A tiny video UNet and a synthetic motion in latent space, small enough to train on a CPU in seconds.

The builders are plain functions as well as fixtures: the SIGKILL test rebuilds the same model and
data in a subprocess.
"""

from __future__ import annotations

import math

import pytest
import torch
from diffusers import DDPMScheduler, UNet2DConditionModel

from lamp.data.latents import latent_key
from lamp.models import LAMPConfig, LAMPVideoUNet, tiny_unet_config
from lamp.training import TrainConfig

CROSS_DIM = 32
SCALING_FACTOR = 0.18215
VIDEO_FRAMES = 8
LATENT_SIZE = (8, 8)


def build_model(**switches) -> LAMPVideoUNet:
    """The same tiny video UNet on every call (and in every process)."""
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**tiny_unet_config(cross_attention_dim=CROSS_DIM))
    return LAMPVideoUNet(unet, LAMPConfig(**switches))


def moving_blob_latents(
    n_videos: int = 2, frames: int = VIDEO_FRAMES, flip: bool = True
) -> dict[str, torch.Tensor]:
    """Cached latents of videos in which a blob moves one latent pixel right per frame (wrapping round).

    Each video's blob sits on another row; the posterior variance is small, so the motion is
    nearly deterministic. Flipped videos are the mirror images: the blob moves left.
    """
    height, width = LATENT_SIZE
    y, x = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    tensors = {}
    for v in range(n_videos):
        blob = torch.exp(-((y - 2 - 3 * v) ** 2 + (x - 2) ** 2) / 2.0)
        # One pattern per channel, at the scale of SD latents (about unit variance once scaled).
        still = torch.stack([blob, -blob, 0.5 * blob, 1 - blob]) / SCALING_FACTOR
        mean = torch.stack([still.roll(f, dims=-1) for f in range(frames)])
        logvar = torch.full_like(mean, math.log(1e-4))
        tensors[latent_key(f"v{v}", False, "mean")] = mean
        tensors[latent_key(f"v{v}", False, "logvar")] = logvar
        if flip:
            tensors[latent_key(f"v{v}", True, "mean")] = mean.flip(-1)
            tensors[latent_key(f"v{v}", True, "logvar")] = logvar
    return tensors


def prompt_embeddings() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    return {
        "prompt": torch.randn(1, 7, CROSS_DIM, generator=generator),
        "empty": torch.randn(1, 7, CROSS_DIM, generator=generator),
    }


def noise_scheduler(prediction_type: str = "epsilon") -> DDPMScheduler:
    return DDPMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", prediction_type=prediction_type
    )


def small_config(**overrides) -> TrainConfig:
    """Four-frame clips, a few steps, a learning rate that moves a tiny model within them."""
    values = dict(n_sample_frames=4, max_train_steps=6, checkpointing_steps=2, learning_rate=1e-3, seed=0)
    return TrainConfig(**{**values, **overrides})


@pytest.fixture(autouse=True)
def single_thread():
    """One intra-op thread: on a busy 2-core machine, two OpenMP threads made a tiny step 100x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def model() -> LAMPVideoUNet:
    return build_model()


@pytest.fixture
def latents() -> dict[str, torch.Tensor]:
    return moving_blob_latents()


@pytest.fixture
def text_embeddings() -> dict[str, torch.Tensor]:
    return prompt_embeddings()


@pytest.fixture
def scheduler() -> DDPMScheduler:
    return noise_scheduler()
