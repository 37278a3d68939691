"""The mini base models' sizes and training settings (``params.yaml: pretrain``).

Kept apart from the models and their training, and importing no torch, diffusers, transformers or
open_clip, because every ``kedro run`` checks all parameters by building these settings
(:mod:`lamp.parameters`), even a stage that trains nothing.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from lamp.params import at_least, from_params, positive


@dataclass(frozen=True)
class MiniBaseConfig:
    """Sizes of the mini text-to-image model (VAE, UNet, text encoder)."""

    image_size: int = 64
    vae_channels: tuple[int, ...] = (32, 64, 64)  # two downsamplings: 64 x 64 pixels -> 16 x 16 latents
    latent_channels: int = 4
    vae_norm_groups: int = 4
    unet_channels: tuple[int, ...] = (64, 128, 128)
    text_width: int = 64
    text_layers: int = 2
    text_heads: int = 2
    max_tokens: int = 32

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> MiniBaseConfig:
        values = dict(values or {})
        for key in ("vae_channels", "unet_channels"):
            if key in values:
                values[key] = tuple(values[key])
        return from_params(cls, values, "mini base model settings")

    @property
    def latent_size(self) -> int:
        return self.image_size // 2 ** (len(self.vae_channels) - 1)


@dataclass(frozen=True)
class MiniClipConfig:
    """Sizes of the mini open_clip model (a ViT image tower and a text transformer)."""

    image_size: int = 64
    patch_size: int = 8
    embed_dim: int = 64
    vision_width: int = 128
    vision_layers: int = 3
    text_width: int = 128
    text_layers: int = 3
    heads: int = 4
    context_length: int = 32

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> MiniClipConfig:
        return from_params(cls, values, "mini CLIP settings")

    def open_clip_config(self) -> dict[str, Any]:
        """The ``model_cfg`` open_clip builds the model from."""
        # here, not above: the parameter checks build these settings and must not import open_clip (and torch)
        from open_clip.model import CLIPTextCfg, CLIPVisionCfg

        vision = CLIPVisionCfg(
            layers=self.vision_layers,
            width=self.vision_width,
            head_width=self.vision_width // self.heads,
            patch_size=self.patch_size,
            image_size=self.image_size,
        )
        text = CLIPTextCfg(
            context_length=self.context_length,
            width=self.text_width,
            heads=self.heads,
            layers=self.text_layers,
        )
        keep = lambda cfg: {k: v for k, v in asdict(cfg).items() if v is not None}  # noqa: E731
        return {"embed_dim": self.embed_dim, "vision_cfg": keep(vision), "text_cfg": keep(text)}


@dataclass(frozen=True)
class PretrainLoop:
    """Steps, batch size and learning rate of one model's training; a linear warm-up, then cosine decay."""

    steps: int
    batch_size: int
    learning_rate: float
    warmup_steps: int = 0

    def __post_init__(self) -> None:
        at_least("steps", self.steps, 1)
        at_least("batch_size", self.batch_size, 1)
        positive("learning_rate", self.learning_rate)
        at_least("warmup_steps", self.warmup_steps, 0)

    @classmethod
    def from_dict(cls, values: Any, what: str) -> PretrainLoop:
        return from_params(cls, values, what)

    def lr_factor(self, step: int) -> float:
        warmup = min(1.0, (step + 1) / self.warmup_steps) if self.warmup_steps else 1.0
        return warmup * 0.5 * (1 + math.cos(math.pi * step / self.steps))
