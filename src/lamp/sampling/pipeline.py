"""``LAMPPipeline``: first-frame-conditioned text-to-video sampling (paper Sec. 3.3 and 3.5)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import torch
from diffusers import AutoencoderKL, DDIMScheduler, DiffusionPipeline
from diffusers.image_processor import VaeImageProcessor
from diffusers.utils import BaseOutput
from transformers import CLIPTextModel, CLIPTokenizer

from lamp.models import LAMPVideoUNet
from lamp.sampling.postprocess import adain, adain_step, match_histograms, shared_noise
from lamp.video_size import check_size

FirstFrame = PIL.Image.Image | np.ndarray | torch.Tensor


@dataclass
class LAMPPipelineOutput(BaseOutput):
    """``frames``: uint8 ``(frames, height, width, 3)``; ``latents``: the final ``(1, c, f, h, w)`` latents."""

    frames: np.ndarray
    latents: torch.Tensor


class LAMPPipeline(DiffusionPipeline):
    """LAMP sampling: frame 1 is given (or drawn by a text-to-image pipeline), frames 2..l are denoised.

    Components are those of a Stable Diffusion v1 folder, with the UNet inflated by
    :class:`~lamp.models.LAMPVideoUNet`; :meth:`from_motion` builds it from a base model and a
    folder of motion weights.
    """

    model_cpu_offload_seq = "text_encoder->unet->vae"

    def __init__(
        self,
        vae: AutoencoderKL,
        text_encoder: CLIPTextModel,
        tokenizer: CLIPTokenizer,
        unet: LAMPVideoUNet,
        scheduler: DDIMScheduler,
    ) -> None:
        super().__init__()
        self.register_modules(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler)
        self.vae_scale_factor = 2 ** (len(vae.config.block_out_channels) - 1)
        self.image_processor = VaeImageProcessor(vae_scale_factor=self.vae_scale_factor)

    @classmethod
    def from_motion(cls, base_model: str, motion_dir: str | Path, revision: str | None = None) -> LAMPPipeline:
        """The base model's components, its UNet carrying the motion weights in ``motion_dir``."""
        return cls.around(LAMPVideoUNet.from_motion(base_model, motion_dir, revision), base_model, revision)

    def to(self, *args: Any, **kwargs: Any) -> LAMPPipeline:
        """``DiffusionPipeline.to``, then the UNet's attention on xformers where it runs on the new device."""
        super().to(*args, **kwargs)
        self.unet.set_attention_backend("auto")
        return self

    @property
    def size_multiple(self) -> int:
        """Heights and widths must be multiples of this: the VAE's and the UNet's downsampling together."""
        return self.vae_scale_factor * 2 ** (len(self.unet.config.block_out_channels) - 1)

    def check_size(self, height: int, width: int) -> None:
        """Raise a ValueError that says which sizes work, before any compute is spent."""
        check_size(height, width, self.size_multiple)

    def with_motion(self, motion_dir: str | Path, base_model: str, revision: str | None = None) -> LAMPPipeline:
        """This pipeline's VAE, text encoder, tokenizer and scheduler with another motion's video UNet.

        Loads only the base UNet again, so a run over many motions loads the other components once.
        """
        return self.with_unet(LAMPVideoUNet.from_motion(base_model, motion_dir, revision))

    def with_unet(self, unet: LAMPVideoUNet) -> LAMPPipeline:
        """This pipeline's VAE, text encoder, tokenizer and scheduler around ``unet`` (moved to its device and dtype)."""
        unet.to(self.device, self.unet.dtype)
        return type(self)(self.vae, self.text_encoder, self.tokenizer, unet, self.scheduler)

    @classmethod
    def around(cls, unet: LAMPVideoUNet, base_model: str, revision: str | None = None) -> LAMPPipeline:
        """``unet`` with the base model's VAE, text encoder, tokenizer and a DDIM scheduler of its schedule."""
        load = {"revision": revision}
        return cls(
            vae=AutoencoderKL.from_pretrained(base_model, subfolder="vae", **load).eval(),
            text_encoder=CLIPTextModel.from_pretrained(base_model, subfolder="text_encoder", **load).eval(),
            tokenizer=CLIPTokenizer.from_pretrained(base_model, subfolder="tokenizer", **load),
            unet=unet,
            scheduler=DDIMScheduler.from_pretrained(base_model, subfolder="scheduler", **load),
        )

    @torch.no_grad()
    def __call__(
        self,
        prompt: str,
        first_frame: FirstFrame | None = None,
        negative_prompt: str = "",
        num_frames: int = 16,
        height: int = 320,
        width: int = 512,
        num_inference_steps: int = 50,
        guidance_scale: float = 12.5,
        shared_noise_alpha: float | None = 0.2,
        adain_in_loop: bool = True,
        adain_after: bool = True,
        adain_first_frame_from: float = 0.6,
        histogram_matching: bool = True,
        generator: torch.Generator | None = None,
        initial_noise: torch.Tensor | None = None,
        first_frame_conditioning: bool = True,
    ) -> LAMPPipelineOutput:
        """Generate one video.

        Args:
            prompt: the text; negative_prompt: the unconditional text of classifier-free guidance.
            first_frame: an image (PIL, or uint8 ``(h, w, 3)``), resized and centre-cropped to the
                size, or a latent ``(c, h/8, w/8)`` already scaled. From a prompt alone, draw it first
                with :func:`~lamp.sampling.evaluation_set.draw_first_frame` (SD-XL in full, the mini
                text-to-image model in mini).
            shared_noise_alpha: ``a`` of Eq. 6; None samples independent noise per frame.
            adain_in_loop / adain_after / adain_first_frame_from: the authors' AdaIN schedule, in their
                order at each step (:func:`~lamp.sampling.postprocess.adain_step`): past this fraction
                of the steps, frame 2 to frame 1 first; then frames 3..l to frame 2 as just updated;
                after the loop, frames 2..l to frame 1.
            histogram_matching: match each decoded frame's RGB histograms to frame 1's.
            initial_noise: ``(1, c, f, h, w)`` starting noise instead of a draw (video editing:
                DDIM-inverted latents); shared noise is then not applied.
            first_frame_conditioning: False samples every frame from noise, frame 1 included (the
                ablation of Fig. 5c, for a model trained without first-frame conditioning);
                ``first_frame`` is then ignored.
        """
        self.check_size(height, width)
        if first_frame_conditioning:
            first_latent = self.first_frame_latent(first_frame, height, width, generator)
        else:
            first_latent = None
        text = self.encode_prompt(prompt, negative_prompt)
        latent_shape = (self.vae.config.latent_channels, height // self.vae_scale_factor, width // self.vae_scale_factor)
        latents = self.initial_latents(first_latent, latent_shape, num_frames, shared_noise_alpha, generator, initial_noise)
        latents = self.denoise(latents, first_latent, text, num_inference_steps, guidance_scale,
                               adain_in_loop, adain_first_frame_from)
        if adain_after:
            for f in range(1, num_frames):
                latents[:, :, f] = adain(latents[:, :, f], latents[:, :, 0])
        frames = self.decode(latents)
        if histogram_matching:
            frames[1:] = np.stack([match_histograms(frame, frames[0]) for frame in frames[1:]])
        return LAMPPipelineOutput(frames=frames, latents=latents)

    def first_frame_latent(
        self, first_frame: FirstFrame | None, height: int, width: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Frame 1's clean latent ``(1, c, h/8, w/8)``: ``latent_dist.sample()`` times the scaling factor."""
        if isinstance(first_frame, torch.Tensor) and first_frame.ndim == 3:
            return first_frame[None].to(self.device, self.vae.dtype)
        if first_frame is None:
            raise ValueError("give a first_frame (an image or a latent); from a prompt, draw it with "
                             "lamp.sampling.evaluation_set.draw_first_frame")
        if isinstance(first_frame, np.ndarray):
            first_frame = PIL.Image.fromarray(first_frame)
        pixels = self.image_processor.preprocess(first_frame, height=height, width=width, resize_mode="crop")
        posterior = self.vae.encode(pixels.to(self.device, self.vae.dtype)).latent_dist
        return posterior.sample(generator) * self.vae.config.scaling_factor

    def encode_prompt(self, prompt: str, negative_prompt: str) -> torch.Tensor:
        """Text-encoder states ``(2, tokens, dim)``: the negative (unconditional) one first."""
        ids = self.tokenizer(
            [negative_prompt, prompt],
            padding="max_length",
            max_length=self.tokenizer.model_max_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids
        return self.text_encoder(ids.to(self.device))[0]

    def initial_latents(
        self,
        first_latent: torch.Tensor | None,
        latent_shape: tuple[int, int, int],
        num_frames: int,
        shared_noise_alpha: float | None,
        generator: torch.Generator | None,
        initial_noise: torch.Tensor | None,
    ) -> torch.Tensor:
        """``(1, c, f, h, w)``: frame 1 the clean latent (if given), the other frames noise (shared per Eq. 6)."""
        dtype = self.vae.dtype if first_latent is None else first_latent.dtype
        if initial_noise is None:
            channels, height, width = latent_shape
            shape = (1, channels, num_frames, height, width)
            noise = torch.randn(shape, generator=generator, dtype=torch.float32).to(self.device, dtype)
            if shared_noise_alpha is not None:
                noise = shared_noise(noise, shared_noise_alpha)
            latents = noise * self.scheduler.init_noise_sigma
        else:
            latents = initial_noise.clone().to(self.device, dtype)
        if first_latent is not None:
            latents[:, :, 0] = first_latent
        return latents

    def denoise(
        self,
        latents: torch.Tensor,
        first_latent: torch.Tensor | None,
        text: torch.Tensor,
        num_inference_steps: int,
        guidance_scale: float,
        adain_in_loop: bool,
        adain_first_frame_from: float,
    ) -> torch.Tensor:
        """The scheduler's loop with classifier-free guidance on frames 2..l, frame 1 kept clean; on
        every frame when there is no ``first_latent``."""
        denoised = slice(1, None) if first_latent is not None else slice(None)
        self.scheduler.set_timesteps(num_inference_steps, device=self.device)
        for i, t in enumerate(self.progress_bar(self.scheduler.timesteps)):
            model_input = self.scheduler.scale_model_input(torch.cat([latents, latents]), t)
            unconditional, conditional = self.unet(model_input, t, text).chunk(2)
            noise_pred = unconditional + guidance_scale * (conditional - unconditional)
            latents[:, :, denoised] = self.scheduler.step(noise_pred[:, :, denoised], t, latents[:, :, denoised]).prev_sample
            if first_latent is not None:
                latents[:, :, 0] = first_latent
            if adain_in_loop:
                adain_step(latents, late=i > adain_first_frame_from * num_inference_steps)
        return latents

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> np.ndarray:
        """uint8 frames ``(f, h, w, 3)``, decoded one frame at a time so memory does not grow with f."""
        frames = []
        for f in range(latents.shape[2]):
            # contiguous: a strided frame view takes another conv path, and its rounding, than a lone frame
            image = self.vae.decode(latents[:, :, f].contiguous() / self.vae.config.scaling_factor).sample
            frames.append(self.image_processor.postprocess(image, output_type="np")[0])
        return (np.stack(frames) * 255).round().astype(np.uint8)
