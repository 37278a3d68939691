"""Whether a video size suits a base model and fits the machine, judged from config files before any model loads.

``lamp generate`` and ``lamp animate`` refuse a size here in a second, instead of after loading the
models or by an out-of-memory kill minutes into sampling. Nothing here imports torch or diffusers
but :func:`free_memory`.

:func:`sampling_memory` estimates sampling's peak memory as the weights of the models it loads plus,
per pixel of a frame, the larger of

- the UNet's activations: ``2 f`` samples (classifier-free guidance doubles the batch), each holding
  ``UNET_MAPS`` feature maps of ``sum_i c_i / 4**i`` channels per latent pixel over the UNet's
  levels ``i`` (``c_i`` its ``block_out_channels``), at ``1 / s**2`` latent pixels per pixel
  (``s`` the VAE's downsampling);
- the VAE decoding one frame (frames are decoded one at a time): ``VAE_MAPS`` maps of the channels
  of the decoder's full-resolution layers (``block_out_channels[1]``, upsampled into them),

all at the sampling precision, plus the decoded frames (float32 RGB, twice while they become uint8).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

#: UNet feature maps alive at the peak of one call, per sample: 6 + 10 per layer of a block. Measured as
#: the peak resident memory of one video-UNet call on a CPU in float32: 16 maps for the mini UNet
#: (channels 32, 64, 64; 1 layer per block), 26 for SD v1.4's (2 layers per block), at several sizes.
UNET_MAPS_BASE, UNET_MAPS_PER_LAYER = 6, 10
#: Measured alike for one VAE decode: 3.6 maps for the mini VAE, 3.9 for SD v1.4's.
VAE_MAPS = 4
DTYPE_BYTES = {"no": 4, "fp16": 2, "bf16": 2}
GIB = 2**30


@dataclass(frozen=True)
class BaseShape:
    """What of a base model's ``vae/config.json`` and ``unet/config.json`` sets the sizes and memory of sampling."""

    vae_channels: tuple[int, ...]
    unet_channels: tuple[int, ...]
    layers_per_block: int

    @property
    def vae_scale(self) -> int:
        """Pixels per latent pixel along each side."""
        return 2 ** (len(self.vae_channels) - 1)

    @property
    def size_multiple(self) -> int:
        """Heights and widths must be multiples of this (as :attr:`LAMPPipeline.size_multiple`)."""
        return self.vae_scale * 2 ** (len(self.unet_channels) - 1)


@dataclass(frozen=True)
class SamplingMemory:
    """Sampling's estimated peak: ``weights`` bytes, and ``per_pixel`` bytes per pixel of the frame size."""

    weights: int
    per_pixel: float

    def total(self, height: int, width: int) -> int:
        return int(self.weights + self.per_pixel * height * width)

    def largest_side(self, other_side: int, free: int, multiple: int) -> int:
        """The largest height (or width) that fits in ``free`` bytes beside ``other_side``; 0 if none does."""
        side = (free - self.weights) / (self.per_pixel * other_side)
        return max(0, math.floor(side / multiple) * multiple)


def check_size(height: int, width: int, multiple: int) -> None:
    """Raise a ValueError that says which sizes work, before any compute is spent."""
    if height <= 0 or width <= 0 or height % multiple or width % multiple:
        raise ValueError(
            f"video size {height}x{width} does not fit this model: height and width must be positive "
            f"multiples of {multiple} (e.g. {max(multiple, height // multiple * multiple)}x"
            f"{max(multiple, width // multiple * multiple)})"
        )


def model_file(model: str, name: str, revision: str | None = None) -> Path | None:
    """``name`` in ``model``: a local folder, else the Hugging Face cache (never the network); None if not there."""
    if Path(model).is_dir():
        local = Path(model) / name
        return local if local.is_file() else None
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    from lamp.hub import hub_cache_dir

    try:
        cached = try_to_load_from_cache(model, name, cache_dir=hub_cache_dir(), revision=revision)
    except (HFValidationError, ValueError):  # neither a folder nor a hub id: the loader names it
        return None
    return Path(cached) if isinstance(cached, str) else None


def base_shape(model: str, revision: str | None = None) -> BaseShape | None:
    """The shape of ``model``'s VAE and UNet, None where their configs cannot be read without loading or downloading."""
    paths = [model_file(model, f"{component}/config.json", revision) for component in ("vae", "unet")]
    if None in paths:
        return None
    vae, unet = (json.loads(path.read_text()) for path in paths)
    # diffusers' defaults where a config leaves a key out
    layers = unet.get("layers_per_block", 2)
    return BaseShape(tuple(vae.get("block_out_channels", (64,))),
                     tuple(unet.get("block_out_channels", (320, 640, 1280, 1280))),
                     max(layers) if isinstance(layers, (list, tuple)) else layers)


def scheduler_steps(model: str, revision: str | None = None) -> int | None:
    """The scheduler's ``num_train_timesteps`` (DDIM takes at most that many steps), None where it cannot be read."""
    path = model_file(model, "scheduler/scheduler_config.json", revision)
    return json.loads(path.read_text()).get("num_train_timesteps", 1000) if path else None


def parameter_count(path: Path) -> int:
    """Parameters in a weights file: from a safetensors header, else the file's size read as float32."""
    try:
        with path.open("rb") as file:
            (length,) = struct.unpack("<Q", file.read(8))
            header = json.loads(file.read(length))
        return sum(math.prod(entry["shape"]) for key, entry in header.items() if key != "__metadata__")
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return path.stat().st_size // 4 if path.is_file() else 0


def model_parameters(model: str, components: tuple[str, ...], revision: str | None = None) -> int:
    """Parameters of ``model``'s ``components`` whose weights files are found here (as the loaders read them)."""
    from lamp.hub import DIFFUSERS_WEIGHTS, TRANSFORMERS_COMPONENTS, TRANSFORMERS_WEIGHTS

    total = 0
    for component in components:
        names = TRANSFORMERS_WEIGHTS if component in TRANSFORMERS_COMPONENTS else DIFFUSERS_WEIGHTS
        found = (model_file(model, f"{component}/{name}", revision) for name in names[:2])  # not the fp16 variants
        total += next((parameter_count(path) for path in found if path is not None), 0)
    return total


def pipeline_components(model: str, revision: str | None = None) -> tuple[str, ...]:
    """The components ``model_index.json`` lists (those with a library), () where it cannot be read here."""
    path = model_file(model, "model_index.json", revision)
    if path is None:
        return ()
    index = json.loads(path.read_text())
    return tuple(name for name, value in index.items() if isinstance(value, list) and value[0] is not None)


def sampling_memory(shape: BaseShape, frames: int, dtype_bytes: int, parameters: int) -> SamplingMemory:
    """The estimate of the module docstring for ``frames`` frames, with ``parameters`` weights loaded."""
    levels = sum(channels / 4**level for level, channels in enumerate(shape.unet_channels))
    maps = UNET_MAPS_BASE + UNET_MAPS_PER_LAYER * shape.layers_per_block
    unet = 2 * frames * levels * maps / shape.vae_scale**2
    vae = VAE_MAPS * shape.vae_channels[min(1, len(shape.vae_channels) - 1)]
    decoded = 2 * frames * 3 * 4
    return SamplingMemory(weights=parameters * dtype_bytes, per_pixel=max(unet, vae) * dtype_bytes + decoded)


def free_memory() -> tuple[int, str]:
    """Bytes free where sampling runs, and what they are: the GPU's free memory, else the RAM available."""
    import torch

    if torch.cuda.is_available():
        free, _ = torch.cuda.mem_get_info()
        return free, f"free on the GPU ({torch.cuda.get_device_name()})"
    import psutil

    return psutil.virtual_memory().available, "of RAM available"
