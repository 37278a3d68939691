"""The pieces of LAMP sampling that are not diffusion: shared noise, AdaIN, histogram matching."""

from __future__ import annotations

import numpy as np
import torch


def shared_noise(noise: torch.Tensor, alpha: float) -> torch.Tensor:
    """Paper Eq. 6 on ``(b, c, f, h, w)`` noise: frames 2..l become ``alpha * eps_1 + (1 - alpha) * eps_f``.

    As in the authors' code, the shared part is frame 1's own draw and the mix is not renormalised
    (its variance is ``alpha**2 + (1 - alpha)**2``).
    """
    mixed = noise.clone()
    mixed[:, :, 1:] = alpha * noise[:, :, :1] + (1 - alpha) * noise[:, :, 1:]
    return mixed


def adain(content: torch.Tensor, style: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """``content`` ``(b, c, h, w)`` renormalised to the per-channel mean and std of ``style``."""
    dims = (-2, -1)
    c_mean, c_std = content.mean(dims, keepdim=True), content.std(dims, keepdim=True) + eps
    s_mean, s_std = style.mean(dims, keepdim=True), style.std(dims, keepdim=True) + eps
    return (content - c_mean) / c_std * s_std + s_mean


def adain_step(latents: torch.Tensor, late: bool) -> None:
    """The authors' AdaIN of one denoising step, in place on ``(b, c, f, h, w)`` latents (0-based frames).

    In the authors' order: on a late step frame 1 first takes frame 0's per-channel statistics; then
    every frame ``f >= 2`` takes frame 1's statistics *as just updated* (so, on late steps, frame 0's).
    """
    if late and latents.shape[2] > 1:
        latents[:, :, 1] = adain(latents[:, :, 1], latents[:, :, 0])
    for f in range(2, latents.shape[2]):
        latents[:, :, f] = adain(latents[:, :, f], latents[:, :, 1])


def match_histograms(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """uint8 ``image`` ``(h, w, 3)`` with each RGB channel's histogram matched to ``reference``'s, by the authors' rule.

    The authors' ``his_match``: 256-bin CDFs of both, ``lookup = searchsorted(cdf_reference, cdf_image,
    side="left")`` clipped to 255, new value = ``lookup[old value]``. Each value goes to the lowest
    reference value whose CDF reaches its own, so every output value is one the reference holds.
    ``skimage.exposure.match_histograms`` (and lamp's earlier copy of it) interpolates over the full
    256-bin CDF instead; its flat stretches send a channel's brightest pixels to 255 and create
    values between the reference's, white specks in dark videos.

    The CDFs are cumulative integer counts divided by the pixel count, so both end at exactly 1 and
    equal fractions compare equal; the authors' cumulative sum of per-bin densities can end an ulp
    above 1, which their clip turns into a stray 255.
    """
    matched = np.empty_like(image)
    for channel in range(image.shape[-1]):
        lookup = np.searchsorted(_cdf(reference[..., channel]), _cdf(image[..., channel]), side="left")
        matched[..., channel] = np.clip(lookup, 0, 255).astype(np.uint8)[image[..., channel]]
    return matched


def _cdf(channel: np.ndarray) -> np.ndarray:
    counts = np.bincount(channel.ravel(), minlength=256)
    return np.cumsum(counts) / counts.sum()
