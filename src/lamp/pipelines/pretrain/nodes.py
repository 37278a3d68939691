"""Nodes of the ``pretrain`` pipeline (mini profile)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from diffusers import AutoencoderKL, StableDiffusionPipeline
from PIL import Image

from lamp.clip import OpenClip
from lamp.data import read_video, resize_frames
from lamp.mini.base_models import text_to_image_pipeline, to_float_images
from lamp.mini.pretrain import (
    image_latents,
    reconstruction_psnr,
    train_clip,
    train_decoder_on_noisy_latents,
    train_text_to_image,
    train_vae,
)
from lamp.mini.settings import MiniBaseConfig, MiniClipConfig, PretrainLoop
from lamp.reporting import contact_sheet
from lamp.profiles import PretrainedModel, Profile


def pretraining_data(
    still_captions: pd.DataFrame,
    video_index: pd.DataFrame,
    synthesize: dict[str, Any],
    active_profile: dict[str, Any],
    pretrain: dict[str, Any],
) -> dict[str, Any]:
    """Stills with captions, and frames of the mini videos (the last videos of each motion held out)."""
    profile = Profile.from_active(active_profile)
    stills_dir = Path(synthesize["stills_dir"])
    size = profile.height, profile.width
    stills = resize_frames(
        np.stack([np.asarray(Image.open(stills_dir / name).convert("RGB")) for name in still_captions.file_name]),
        *size,
        "crop",
    )
    held_out = video_index.groupby("motion").tail(pretrain["heldout_videos_per_motion"]).index
    frames, captions, heldout, heldout_motions = [], [], [], []
    for row in video_index.itertuples():
        clip = resize_frames(read_video(row.path).frames, *size, "crop")
        sampled = clip[:: pretrain["frame_stride"]]
        if row.Index in held_out:
            heldout.append(sampled)
            heldout_motions += [row.motion] * len(sampled)
        else:
            frames.append(sampled)
            captions += [row.caption] * len(sampled)
    return {
        "stills": stills,
        "still_captions": list(still_captions.caption),
        "frames": np.concatenate(frames),
        "frame_captions": captions,
        "heldout_frames": np.concatenate(heldout),
        "heldout_motions": heldout_motions,
    }


def pretrain_vae(data: dict[str, Any], active_profile: dict[str, Any], pretrain: dict[str, Any]) -> tuple[AutoencoderKL, dict]:
    """Train the mini VAE on stills and video frames, then its decoder on noisy latents; PSNR on frames
    of held-out videos."""
    profile = Profile.from_active(active_profile)
    config = _base_config(profile, pretrain)
    images = to_float_images(torch.from_numpy(np.concatenate([data["stills"], data["frames"]])))
    settings = pretrain["vae"]
    vae, result = train_vae(images, config, PretrainLoop.from_dict(settings["train"], "pretrain.vae.train"), pretrain["seed"], crop_size=settings["crop_size"])
    decoder = train_decoder_on_noisy_latents(
        vae, images, PretrainLoop.from_dict(settings["decoder"]["train"], "pretrain.vae.decoder.train"),
        settings["decoder"]["noise"], pretrain["seed"], crop_size=settings["decoder"]["crop_size"],
    )
    heldout = to_float_images(torch.from_numpy(data["heldout_frames"]))
    motions = np.array(data["heldout_motions"])
    per_motion = {
        f"vae_psnr_heldout_db.{motion}": reconstruction_psnr(vae, heldout[torch.from_numpy(motions == motion)])
        for motion in dict.fromkeys(data["heldout_motions"])
    }
    metrics = {
        "vae_psnr_heldout_db": reconstruction_psnr(vae, heldout),
        **per_motion,
        "vae_psnr_train_db": reconstruction_psnr(vae, images[:: max(1, len(images) // 512)]),
        "vae_final_loss": float(np.mean(result.losses[-20:])),
        "vae_seconds": result.seconds + decoder.seconds,
        "vae_decoder_final_loss": float(np.mean(decoder.losses[-20:])),
        "vae_scaling_factor": vae.config.scaling_factor,
    }
    return vae, metrics


def pretrain_text_to_image(
    data: dict[str, Any], vae: AutoencoderKL, active_profile: dict[str, Any], pretrain: dict[str, Any]
) -> tuple[StableDiffusionPipeline, dict]:
    """Train the text-to-image UNet and text encoder on the stills; return the whole SD-layout pipeline.

    The stills only: with the video frames too, under their motion captions, frame 1 looked no cleaner
    and the repro recognised 31 of 48 videos instead of 35 (README: Measured, issue 16's seventh round).
    """
    profile = Profile.from_active(active_profile)
    config = _base_config(profile, pretrain)
    latents = image_latents(vae, to_float_images(torch.from_numpy(data["stills"])))
    unet, text_encoder, tokenizer, result = train_text_to_image(
        latents, data["still_captions"], config, PretrainLoop.from_dict(pretrain["text_to_image"], "pretrain.text_to_image"), pretrain["seed"]
    )
    metrics = {"t2i_final_loss": float(np.mean(result.losses[-50:])), "t2i_seconds": result.seconds}
    return text_to_image_pipeline(vae, unet, text_encoder, tokenizer), metrics


def pretrain_clip(data: dict[str, Any], pretrain: dict[str, Any]) -> tuple[OpenClip, dict]:
    """Train the mini CLIP on stills and video frames with their captions."""
    images = np.concatenate([data["stills"], data["frames"]])
    captions = data["still_captions"] + data["frame_captions"]
    config = MiniClipConfig.from_dict(pretrain["clip"]["model"])
    clip, result = train_clip(images, captions, config, PretrainLoop.from_dict(pretrain["clip"]["train"], "pretrain.clip.train"), pretrain["seed"])
    return clip, {"clip_final_loss": float(np.mean(result.losses[-20:])), "clip_seconds": result.seconds}


def check_mini_base(
    video_base: PretrainedModel,
    clip_model: PretrainedModel,
    eval_prompts: pd.DataFrame,
    vae_metrics: dict,
    t2i_metrics: dict,
    clip_metrics: dict,
    active_profile: dict[str, Any],
    pretrain: dict[str, Any],
) -> tuple[Image.Image, dict[str, Any], dict[str, Any]]:
    """Sample every evaluation prompt once; CLIP alignment with its prompt vs with shuffled prompts."""
    profile = Profile.from_active(active_profile)
    prompts = list(dict.fromkeys(eval_prompts.prompt))
    check = pretrain["check"]
    generator = torch.Generator().manual_seed(pretrain["seed"])
    images = StableDiffusionPipeline.from_pretrained(video_base.location)(
        prompts,
        height=profile.height,
        width=profile.width,
        num_inference_steps=check["num_inference_steps"],
        guidance_scale=check["guidance_scale"],
        generator=generator,
        output_type="np",
    ).images
    pixels = (images * 255).round().astype(np.uint8)
    clip = OpenClip.from_pretrained(clip_model.location)
    image_embeddings = clip.image_embeddings(pixels)
    text_embeddings = clip.text_embeddings(prompts)
    matched = 100 * (image_embeddings * text_embeddings).sum(-1)
    shuffled = 100 * (image_embeddings * text_embeddings.roll(1, dims=0)).sum(-1)
    metrics = {
        **vae_metrics,
        **t2i_metrics,
        **clip_metrics,
        "pretrain_seconds": vae_metrics["vae_seconds"] + t2i_metrics["t2i_seconds"] + clip_metrics["clip_seconds"],
        "t2i_clip_alignment": float(matched.mean()),
        "t2i_clip_alignment_shuffled": float(shuffled.mean()),
        "t2i_prompt_top1": float(
            ((image_embeddings @ text_embeddings.T).argmax(1) == torch.arange(len(prompts))).float().mean()
        ),
    }
    sheet = contact_sheet(pixels, prompts, columns=6, scale=2)
    return sheet, metrics, {name: {"value": value, "step": 0} for name, value in metrics.items()}


def _base_config(profile: Profile, pretrain: dict[str, Any]) -> MiniBaseConfig:
    return MiniBaseConfig.from_dict({"image_size": profile.height, **pretrain["base"]})
