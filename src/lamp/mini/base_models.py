"""The mini profile's base models: the same classes the full profile loads, at a CPU-friendly size.

The mini base is saved as a Stable Diffusion v1 folder (``StableDiffusionPipeline.save_pretrained``:
``vae/``, ``unet/``, ``text_encoder/``, ``tokenizer/``, ``scheduler/``) and the mini CLIP as an
open_clip ``local-dir:`` folder (:class:`lamp.clip.OpenClip`), so the rest of the code loads them
exactly as it loads SD v1.4 and OpenAI CLIP.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from open_clip.model import CLIPTextCfg, CLIPVisionCfg
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from lamp.mini.tokenizer import build_clip_tokenizer
from lamp.params import from_params
from lamp.models.unet_configs import tiny_unet_config


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


def build_vae(config: MiniBaseConfig) -> AutoencoderKL:
    levels = len(config.vae_channels)
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * levels,
        up_block_types=("UpDecoderBlock2D",) * levels,
        block_out_channels=config.vae_channels,
        layers_per_block=1,
        latent_channels=config.latent_channels,
        norm_num_groups=config.vae_norm_groups,
        sample_size=config.image_size,
        mid_block_add_attention=False,  # fully convolutional, so it trains on crops and runs at any size
    )


def build_unet(config: MiniBaseConfig) -> UNet2DConditionModel:
    return UNet2DConditionModel(
        **tiny_unet_config(
            channels=config.unet_channels,
            cross_attention_dim=config.text_width,
            sample_size=config.latent_size,
            attention_head_dim=8,
            norm_num_groups=32,
            layers_per_block=1,
        )
    )


def build_text_encoder(config: MiniBaseConfig, tokenizer: CLIPTokenizer) -> CLIPTextModel:
    return CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=config.text_width,
            intermediate_size=config.text_width * 4,
            num_hidden_layers=config.text_layers,
            num_attention_heads=config.text_heads,
            max_position_embeddings=config.max_tokens,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )


def build_tokenizer(config: MiniBaseConfig) -> CLIPTokenizer:
    return build_clip_tokenizer(model_max_length=config.max_tokens)


def sd_scheduler() -> DDIMScheduler:
    """Stable Diffusion v1's noise schedule (scaled-linear betas, 1000 steps, epsilon prediction)."""
    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
        num_train_timesteps=1000,
    )


def text_to_image_pipeline(
    vae: AutoencoderKL, unet: UNet2DConditionModel, text_encoder: CLIPTextModel, tokenizer: CLIPTokenizer
) -> StableDiffusionPipeline:
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=sd_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def to_float_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, H, W, 3)`` -> float ``(N, 3, H, W)`` in [-1, 1], the range SD's VAE works in."""
    return images.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
