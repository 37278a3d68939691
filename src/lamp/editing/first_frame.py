"""The edited first frame: the source's first frame redrawn with the new prompt (paper Sec. 5.2).

The paper draws it with SD-XL and a canny-edge ControlNet, so the new content keeps the source's
outlines (the full profile); the mini profile has no ControlNet and uses an image-to-image pass of
its text-to-image model over the source frame instead. A user may also give the frame.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import cv2
import numpy as np
import PIL.Image
import torch
from diffusers import (
    ControlNetModel,
    StableDiffusionImg2ImgPipeline,
    StableDiffusionXLControlNetPipeline,
)

from lamp.data import resize_frames
from lamp.editing.settings import ControlNetSettings, Img2ImgSettings
from lamp.profiles import PretrainedModel

#: ``(source_frame, prompt, generator) -> image``: uint8 ``(h, w, 3)`` in, an image of the same size out.
FirstFrameDrawer = Callable[[np.ndarray, str, torch.Generator], PIL.Image.Image]


def canny_edges(frame: np.ndarray, low_threshold: int, high_threshold: int) -> PIL.Image.Image:
    """The ControlNet's conditioning image: white canny edges of ``frame`` on black, as 3 equal channels."""
    edges = cv2.Canny(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY), low_threshold, high_threshold)
    return PIL.Image.fromarray(np.repeat(edges[..., None], 3, axis=-1))


def controlnet_first_frame(
    pipe: StableDiffusionXLControlNetPipeline,
    source_frame: np.ndarray,
    prompt: str,
    generator: torch.Generator,
    settings: ControlNetSettings,
) -> PIL.Image.Image:
    """``prompt`` drawn by SD-XL along the canny edges of ``source_frame``, at the frame's size."""
    height, width = source_frame.shape[:2]
    large = resize_frames(source_frame[None], height * settings.upscale, width * settings.upscale, "crop")[0]
    image = pipe(
        prompt,
        image=canny_edges(large, settings.low_threshold, settings.high_threshold),
        height=large.shape[0],
        width=large.shape[1],
        controlnet_conditioning_scale=settings.conditioning_scale,
        num_inference_steps=settings.num_inference_steps,
        guidance_scale=settings.guidance_scale,
        generator=generator,
    ).images[0]
    return _at_size(image, height, width)


def img2img_first_frame(
    pipe: StableDiffusionImg2ImgPipeline,
    source_frame: np.ndarray,
    prompt: str,
    generator: torch.Generator,
    settings: Img2ImgSettings,
) -> PIL.Image.Image:
    """``source_frame`` partly noised (``strength``) and redrawn with ``prompt``, at the frame's size."""
    image = pipe(
        prompt,
        image=PIL.Image.fromarray(source_frame),
        strength=settings.strength,
        num_inference_steps=settings.num_inference_steps,
        guidance_scale=settings.guidance_scale,
        generator=generator,
    ).images[0]
    return _at_size(image, *source_frame.shape[:2])


#: ``edit.first_frame_drawer``: how an edit's frame 1 is redrawn when the user gives none.
DRAWERS = ("controlnet", "img2img")


def load_first_frame_drawer(
    model: PretrainedModel,
    drawer: str,
    img2img: Img2ImgSettings,
    controlnet: ControlNetSettings,
    device: torch.device,
) -> FirstFrameDrawer:
    """``controlnet``: SD-XL (the profile's ``first_frame_model``) on canny edges, the paper's way;
    ``img2img``: an image-to-image pass of ``first_frame_model`` (the mini profile, which has no ControlNet)."""
    if drawer not in DRAWERS:
        raise ValueError(f"edit.first_frame_drawer is {drawer!r}; use one of {list(DRAWERS)}")
    if drawer == "controlnet":
        pipe = load_controlnet_pipeline(model.location, controlnet, device, model.revision)
        return partial(controlnet_first_frame, pipe, settings=controlnet)
    pipe = StableDiffusionImg2ImgPipeline.from_pretrained(model.location, revision=model.revision).to(device)
    return partial(img2img_first_frame, pipe, settings=img2img)


def load_controlnet_pipeline(
    base_model: str, settings: ControlNetSettings, device: torch.device, revision: str | None = None
) -> StableDiffusionXLControlNetPipeline:
    """SD-XL ``base_model`` with the canny ControlNet ``settings.model`` (half precision on a GPU).

    In half precision SD-XL's VAE overflows; the pipeline decodes in float32 because SD-XL's VAE
    config sets ``force_upcast``.
    """
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    controlnet = ControlNetModel.from_pretrained(settings.model, revision=settings.revision, torch_dtype=dtype)
    pipe = StableDiffusionXLControlNetPipeline.from_pretrained(
        base_model, controlnet=controlnet, revision=revision, torch_dtype=dtype
    )
    return pipe.to(device)


def _at_size(image: PIL.Image.Image, height: int, width: int) -> PIL.Image.Image:
    return PIL.Image.fromarray(resize_frames(np.asarray(image.convert("RGB"))[None], height, width, "crop")[0])
