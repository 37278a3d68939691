"""Training the mini base models on the captioned still-image set (and frames of the mini videos).

Plain PyTorch loops over diffusers / transformers / open_clip models: the diffusers training
examples are scripts, not importable functions, and these models are small enough that a loop of a
few lines per model is the clearest statement of what is trained and how.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
from diffusers.models.resnet import Downsample2D, ResnetBlock2D, Upsample2D
from tqdm.auto import tqdm
from transformers import CLIPTextModel, CLIPTokenizer

from lamp.clip import OpenClip
from lamp.mini.base_models import build_text_encoder, build_tokenizer, build_unet, build_vae, sd_scheduler
from lamp.mini.settings import MiniBaseConfig, MiniClipConfig, PretrainLoop


@dataclass
class PretrainResult:
    """A trained model's losses (one per step) and wall time."""

    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _batches(n_items: int, batch_size: int, steps: int, generator: torch.Generator):
    for _ in range(steps):
        yield torch.randint(0, n_items, (batch_size,), generator=generator)


def _train(
    parameters: Sequence[torch.nn.Parameter],
    settings: PretrainLoop,
    n_items: int,
    loss_of_batch: Callable[[torch.Tensor], torch.Tensor],
    seed: int,
    description: str,
) -> PretrainResult:
    """AdamW with warm-up and cosine decay over ``settings.steps`` random batches; returns the loss history."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(parameters, lr=settings.learning_rate, weight_decay=1e-2)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, settings.lr_factor)
    result = PretrainResult()
    start = time.perf_counter()
    progress = tqdm(_batches(n_items, settings.batch_size, settings.steps, generator), total=settings.steps, desc=description)
    for index in progress:
        loss = loss_of_batch(index)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        schedule.step()
        result.losses.append(loss.item())
        progress.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
    result.seconds = time.perf_counter() - start
    return result


def random_crops(images: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """One random ``size`` x ``size`` crop of each image."""
    height, width = images.shape[-2:]
    tops = torch.randint(0, height - size + 1, (len(images),), generator=generator)
    lefts = torch.randint(0, width - size + 1, (len(images),), generator=generator)
    return torch.stack([im[:, t : t + size, l : l + size] for im, t, l in zip(images, tops, lefts)])


def train_vae(
    images: torch.Tensor,
    config: MiniBaseConfig,
    settings: PretrainLoop,
    seed: int = 0,
    kl_weight: float = 1e-6,
    crop_size: int = 32,
) -> tuple[AutoencoderKL, PretrainResult]:
    """Train the mini ``AutoencoderKL`` on ``images`` (float, [-1, 1], ``(N, 3, H, W)``).

    Reconstruction (L1 + MSE) with a small KL term, as SD's VAE without its GAN and LPIPS terms, on
    random crops (the mini VAE is fully convolutional, and crops make a CPU step 4x cheaper); the
    scaling factor is then set so latents have unit variance, as SD's 0.18215 does. Training starts
    from a VAE that already passes a blurred, downsampled copy of the image through
    (:func:`start_as_pixel_autoencoder`), so the steps go to the details.
    """
    torch.manual_seed(seed)
    vae = build_vae(config).train()
    _start_with_narrow_posterior(vae, config.latent_channels)
    start_as_pixel_autoencoder(vae)
    generator = torch.Generator().manual_seed(seed + 1)

    def loss_of_batch(index: torch.Tensor) -> torch.Tensor:
        batch = random_crops(images[index], crop_size, generator)
        posterior = vae.encode(batch).latent_dist
        reconstruction = vae.decode(posterior.sample()).sample
        return (
            F.l1_loss(reconstruction, batch)
            + F.mse_loss(reconstruction, batch)
            + kl_weight * posterior.kl().mean()
        )

    result = _train(list(vae.parameters()), settings, len(images), loss_of_batch, seed, "pretrain vae")
    vae.eval()
    with torch.no_grad():
        latents = torch.cat([vae.encode(chunk).latent_dist.mean for chunk in images[:1024].split(128)])
    vae.register_to_config(scaling_factor=float(1.0 / latents.std()))
    return vae, result


def train_decoder_on_noisy_latents(
    vae: AutoencoderKL,
    images: torch.Tensor,
    settings: PretrainLoop,
    noise: float,
    seed: int = 0,
    crop_size: int = 32,
) -> PretrainResult:
    """Fine-tune the decoder of a trained VAE to decode latents with Gaussian noise added, up to
    ``noise`` times the latents' standard deviation; the encoder, and so every latent, is unchanged.

    Why: the mini text-to-image UNet, trained for minutes, leaves residual noise in the latents it
    samples; a decoder that saw only clean posteriors turns noise of a fifth of the latents' spread
    into colour blotches the size of a latent cell, and first frames came out as noisy textures
    (README: Measured). Having seen noisy latents, the decoder gives clean shapes instead. SD's VAE
    needs no such step because SD's UNet denoises to the end; diffusers has no training recipe for it.
    """
    generator = torch.Generator().manual_seed(seed + 2)
    vae.requires_grad_(False)
    parameters = list(vae.decoder.parameters()) + list(vae.post_quant_conv.parameters())
    for parameter in parameters:
        parameter.requires_grad_(True)
    spread = noise / vae.config.scaling_factor  # the scaling factor gives latents unit variance

    def loss_of_batch(index: torch.Tensor) -> torch.Tensor:
        batch = random_crops(images[index], crop_size, generator)
        with torch.no_grad():
            latents = vae.encode(batch).latent_dist.mean
        level = spread * torch.rand(len(index), 1, 1, 1, generator=generator)
        reconstruction = vae.decode(latents + level * torch.randn(latents.shape, generator=generator)).sample
        return F.l1_loss(reconstruction, batch) + F.mse_loss(reconstruction, batch)

    vae.train()
    result = _train(parameters, settings, len(images), loss_of_batch, seed, "pretrain vae decoder")
    vae.requires_grad_(True)
    vae.eval()
    return result


#: Channels of every VAE block reserved for the pixel path of :func:`start_as_pixel_autoencoder`.
PIXEL_PATH_CHANNELS = 16


@torch.no_grad()
def start_as_pixel_autoencoder(vae: AutoencoderKL, level: float = 10.0) -> None:
    """Make a fresh mini VAE encode the 4x4-averaged image and decode it by bilinear upsampling.

    From random weights 600 CPU steps reached 22 dB; a VAE that starts as a linear pixel codec
    (about 24 dB by itself on held-out mini frames) spends its steps on the residual detail instead and
    passes 31 dB within 400 steps. The first ``PIXEL_PATH_CHANNELS`` channels of every block carry,
    for each colour, ``+x`` and ``-x`` and two constants ``+level`` / ``-level`` (the constants keep
    GroupNorm of those groups from rescaling the signal): residual branches write nothing into them,
    shortcuts pass them on, downsamplers average 2x2, upsamplers smooth with a [1 2 1] kernel. Latent
    channels 0-2 are the colours; the remaining latent channels and feature channels start random.
    diffusers has no such initialiser: this writes the weights of its own ``AutoencoderKL`` layers.
    """
    path = PIXEL_PATH_CHANNELS
    group_sizes = {channels // vae.config.norm_num_groups for channels in vae.config.block_out_channels}
    if min(vae.config.block_out_channels) < path or vae.config.latent_channels < 3 or not group_sizes <= {4, 8, 16}:
        raise ValueError(
            f"the pixel path needs >= {path} channels per block, >= 3 latent channels and GroupNorm groups of "
            f"4, 8 or 16 channels (each holding whole colours of the path); got {vae.config.block_out_channels} "
            f"channels in {vae.config.norm_num_groups} groups, {vae.config.latent_channels} latent channels"
        )
    signal, constant = torch.zeros(path, 3), torch.zeros(path)
    for colour in range(3):
        signal[4 * colour, colour], signal[4 * colour + 1, colour] = 1.0, -1.0
    constant[2::4], constant[3::4] = level, -level
    average = torch.zeros(3, 3)
    average[:2, :2] = 0.25
    smooth = torch.outer(torch.tensor([1.0, 2.0, 1.0]), torch.tensor([1.0, 2.0, 1.0])) / 16
    for module in vae.modules():
        if isinstance(module, ResnetBlock2D):
            module.conv2.weight[:path].zero_()
            module.conv2.bias[:path].zero_()
            if module.conv_shortcut is not None:
                _pass_path(module.conv_shortcut, torch.ones(1, 1))
        elif isinstance(module, Downsample2D):
            _pass_path(module.conv, average)
        elif isinstance(module, Upsample2D):
            _pass_path(module.conv, smooth)
    encoder, decoder = vae.encoder, vae.decoder
    for conv_in in (encoder.conv_in, decoder.conv_in):
        conv_in.weight[:path].zero_()
        conv_in.weight[:path, :3, 1, 1] = signal
        conv_in.bias[:path] = 0
    encoder.conv_out.weight[:3].zero_()
    encoder.conv_out.bias[:3].zero_()
    decoder.conv_out.weight.zero_()
    decoder.conv_out.bias.zero_()
    # GroupNorm divides the path by about level / sqrt(2) (the constants dominate its groups' variance),
    # and SiLU(x) - SiLU(-x) = x recovers the signal from the +x / -x pair.
    gain = level / math.sqrt(2)
    for colour in range(3):
        for conv_out in (encoder.conv_out, decoder.conv_out):
            conv_out.weight[colour, 4 * colour, 1, 1], conv_out.weight[colour, 4 * colour + 1, 1, 1] = gain, -gain
    for conv in (vae.quant_conv, vae.post_quant_conv):
        conv.weight.zero_()
        conv.bias.zero_()
        conv.weight[:, :, 0, 0] = torch.eye(conv.weight.shape[0])
    encoder.mid_block.resnets[-1].conv2.bias[:path] = constant
    decoder.up_blocks[-1].resnets[-1].conv2.bias[:path] = constant


def _pass_path(conv: torch.nn.Conv2d, kernel: torch.Tensor) -> None:
    """Rows of the pixel path: ``kernel`` from the same channel, nothing from the others, no bias."""
    conv.weight[:PIXEL_PATH_CHANNELS].zero_()
    conv.bias[:PIXEL_PATH_CHANNELS].zero_()
    for channel in range(PIXEL_PATH_CHANNELS):
        conv.weight[channel, channel] = kernel


@torch.no_grad()
def _start_with_narrow_posterior(vae: AutoencoderKL, latent_channels: int, logvar: float = -8.0) -> None:
    """Start the encoder's log-variance output at ``logvar`` instead of 0.

    A fresh encoder says variance 1, so the decoder first learns from latents drowned in unit
    noise; with a tiny KL weight the variance would only shrink over thousands of steps, which a
    CPU budget of a few minutes does not have.
    """
    conv_out = vae.encoder.conv_out
    conv_out.weight[latent_channels:].zero_()
    conv_out.bias[latent_channels:].fill_(logvar)


@torch.no_grad()
def reconstruction_psnr(vae: AutoencoderKL, images: torch.Tensor) -> float:
    """PSNR in dB of VAE reconstructions (posterior mean) of ``images`` in [-1, 1], on 8-bit pixels."""
    errors = []
    for chunk in images.split(64):
        decoded = vae.decode(vae.encode(chunk).latent_dist.mean).sample
        as_bytes = lambda x: ((x.clamp(-1, 1) + 1) * 127.5).round()  # noqa: E731
        errors.append((as_bytes(decoded) - as_bytes(chunk)).square().flatten(1).mean(1))
    mse = torch.cat(errors).mean().item()
    return 10 * math.log10(255.0**2 / max(mse, 1e-12))


@torch.no_grad()
def image_latents(vae: AutoencoderKL, images: torch.Tensor) -> torch.Tensor:
    """Scaled posterior means of ``images``: what the diffusion model learns to generate."""
    return torch.cat([vae.encode(c).latent_dist.mean for c in images.split(128)]) * vae.config.scaling_factor


def tokenize(tokenizer: CLIPTokenizer, captions: Sequence[str]) -> torch.Tensor:
    return tokenizer(
        list(captions), padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    ).input_ids


def train_text_to_image(
    latents: torch.Tensor,
    captions: Sequence[str],
    config: MiniBaseConfig,
    settings: PretrainLoop,
    seed: int = 0,
    caption_dropout: float = 0.1,
) -> tuple[UNet2DConditionModel, CLIPTextModel, CLIPTokenizer, PretrainResult]:
    """Train the UNet and the text encoder together on (latent, caption) pairs, epsilon prediction.

    Unlike SD, whose CLIP text encoder is pretrained and frozen, the mini text encoder has no
    pretraining to rely on, so it learns with the UNet. Captions are dropped to "" with
    ``caption_dropout`` so classifier-free guidance works at sampling time.
    """
    torch.manual_seed(seed)
    tokenizer = build_tokenizer(config)
    unet, text_encoder = build_unet(config).train(), build_text_encoder(config, tokenizer).train()
    noise_scheduler = DDPMScheduler.from_config(sd_scheduler().config)
    ids = tokenize(tokenizer, captions)
    empty = tokenize(tokenizer, [""])
    generator = torch.Generator().manual_seed(seed + 1)

    def loss_of_batch(index: torch.Tensor) -> torch.Tensor:
        batch = latents[index]
        drop = torch.rand(len(index), generator=generator) < caption_dropout
        batch_ids = torch.where(drop[:, None], empty, ids[index])
        noise = torch.randn(batch.shape, generator=generator)
        t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (len(index),), generator=generator)
        noisy = noise_scheduler.add_noise(batch, noise, t)
        prediction = unet(noisy, t, text_encoder(batch_ids)[0]).sample
        return F.mse_loss(prediction, noise)

    parameters = list(unet.parameters()) + list(text_encoder.parameters())
    result = _train(parameters, settings, len(latents), loss_of_batch, seed, "pretrain text-to-image")
    return unet.eval(), text_encoder.eval(), tokenizer, result


def train_clip(
    images: np.ndarray, captions: Sequence[str], config: MiniClipConfig, settings: PretrainLoop, seed: int = 0
) -> tuple[OpenClip, PretrainResult]:
    """Train the mini open_clip model contrastively (open_clip's ``ClipLoss``) on uint8 images.

    Batches hold distinct captions only: with a small closed vocabulary, two images of one caption
    in a batch would be pushed apart as negatives of each other.
    """
    torch.manual_seed(seed)
    clip = OpenClip.from_config(config.open_clip_config())
    model = clip.model.train()
    pixels, texts = clip.pixels(images), clip.tokenizer(list(captions))
    loss_fn = open_clip.ClipLoss()
    by_caption: dict[str, list[int]] = {}
    for i, caption in enumerate(captions):
        by_caption.setdefault(caption, []).append(i)
    groups = list(by_caption.values())
    rng = np.random.default_rng(seed)

    def loss_of_batch(_: torch.Tensor) -> torch.Tensor:
        chosen = rng.choice(len(groups), size=min(settings.batch_size, len(groups)), replace=False)
        index = torch.as_tensor([rng.choice(groups[g]) for g in chosen])
        image_features, text_features, logit_scale = model(pixels[index], texts[index])
        return loss_fn(image_features, text_features, logit_scale)

    result = _train(list(model.parameters()), settings, len(images), loss_of_batch, seed, "pretrain clip")
    model.eval()
    return clip, result
