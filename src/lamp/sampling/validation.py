"""Validation videos during training: the model in training animates a training video's first frame."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from lamp.data import write_video
from lamp.models import LAMPVideoUNet
from lamp.sampling.pipeline import LAMPPipeline
from lamp.training import TrainingCallback


class ValidationSampler(TrainingCallback):
    """Every ``every`` steps, a GIF of ``prompt`` animating ``first_latent`` with the model in training.

    The sampler draws from its own seeded generator, so validation does not change training.
    """

    def __init__(
        self,
        model: LAMPVideoUNet,
        base_model: str,
        prompt: str,
        first_latent: torch.Tensor,
        out_dir: str | Path,
        every: int,
        num_frames: int,
        num_inference_steps: int = 25,
        guidance_scale: float = 12.5,
        seed: int = 0,
        on_video: Callable[[Path, int], None] | None = None,
        revision: str | None = None,
    ) -> None:
        self.pipeline = LAMPPipeline.around(model, base_model, revision)
        self.pipeline.set_progress_bar_config(disable=True)
        self.prompt, self.first_latent, self.out_dir = prompt, first_latent, Path(out_dir)
        self.every, self.num_frames, self.seed, self.on_video = every, num_frames, seed, on_video
        self.num_inference_steps, self.guidance_scale = num_inference_steps, guidance_scale

    def on_step(self, step: int, loss: float, lr: float, seconds: float) -> None:
        if step % self.every == 0:
            path = self.sample(step)
            if self.on_video:
                self.on_video(path, step)

    def sample(self, step: int) -> Path:
        model = self.pipeline.unet
        model.eval()
        try:
            height, width = (s * self.pipeline.vae_scale_factor for s in self.first_latent.shape[-2:])
            video = self.pipeline(
                self.prompt,
                first_frame=self.first_latent.to(model.device),
                num_frames=self.num_frames,
                height=height,
                width=width,
                num_inference_steps=self.num_inference_steps,
                guidance_scale=self.guidance_scale,
                generator=torch.Generator().manual_seed(self.seed),
            )
        finally:
            model.train()
        return write_video(self.out_dir / f"step-{step:06d}.gif", video.frames, fps=8)
