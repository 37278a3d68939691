"""The mini profile's base models: the same classes the full profile loads, at a CPU-friendly size.

The mini base is saved as a Stable Diffusion v1 folder (``StableDiffusionPipeline.save_pretrained``:
``vae/``, ``unet/``, ``text_encoder/``, ``tokenizer/``, ``scheduler/``) and the mini CLIP as an
open_clip ``local-dir:`` folder (:class:`lamp.clip.OpenClip`), so the rest of the code loads them
exactly as it loads SD v1.4 and OpenAI CLIP.
"""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from lamp.mini.settings import MiniBaseConfig
from lamp.mini.tokenizer import build_clip_tokenizer
from lamp.models.unet_configs import tiny_unet_config


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
