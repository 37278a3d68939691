"""The LAMP video UNet: a diffusers ``UNet2DConditionModel`` inflated to video in place."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import Any, Iterator, Literal

import torch
from diffusers import UNet2DConditionModel
from diffusers.models.attention import BasicTransformerBlock
from diffusers.models.attention_processor import AttnProcessor2_0, XFormersAttnProcessor
from einops import rearrange
from torch import nn

from lamp.models.attention import FirstFrameAttnProcessor, TemporalAttentionHook, temporal_attention
from lamp.models.config import LAMPConfig
from lamp.models.frames import FrameContext
from lamp.models.group_norm import VideoGroupNorm
from lamp.models.motion_conv import MotionConv2d

AttentionBackend = Literal["auto", "sdpa", "xformers"]

# Which spatial convolutions of a diffusers UNet play which role, by parameter path.
_CONV_ROLES = (
    ("conv_in", re.compile(r"^conv_in$")),
    ("conv_out", re.compile(r"^conv_out$")),
    ("resnet", re.compile(r"\.resnets\.\d+\.conv[12]$")),
    ("shortcut", re.compile(r"\.resnets\.\d+\.conv_shortcut$")),
    ("sampler", re.compile(r"\.(downsamplers|upsamplers)\.\d+\.conv$")),
)

# Parameter-name parts of the layers LAMP adds to the image UNet (the authors' names).
_ADDED_LAYERS = (".conv1d.", ".conv_gate.", ".attn_temp.", ".norm_temp.")

# The GroupNorms the authors run on 5-D tensors: the resnets' and the output's (not the attention blocks').
_VIDEO_NORMS = re.compile(r"(\.resnets\.\d+\.norm[12]|^conv_norm_out)$")


@dataclass(frozen=True)
class ParameterCounts:
    trainable: int
    total: int

    @property
    def trainable_fraction(self) -> float:
        return self.trainable / self.total if self.total else 0.0


def conv_role(name: str) -> str | None:
    """The motion-target role of the conv at parameter path ``name``, or None for other convs."""
    for role, pattern in _CONV_ROLES:
        if pattern.search(name):
            return role
    return None


def is_added(name: str) -> bool:
    """Whether the parameter ``name`` belongs to a layer LAMP adds to the image UNet."""
    return any(part in name for part in _ADDED_LAYERS)


def is_trainable(name: str, config: LAMPConfig) -> bool:
    """Whether LAMP trains the parameter ``name``: the new layers and the self-attention queries."""
    if ".norm_temp." in name:
        return config.train_temporal_norm
    return is_added(name) or ".attn1.to_q." in name


class LAMPVideoUNet(nn.Module):
    """A video UNet for LAMP: ``(batch, channels, frames, height, width)`` in and out.

    Built around a diffusers ``UNet2DConditionModel`` with the SD v1.x layout, which it changes in
    place rather than forking: frames are folded into the batch axis, convolutions become
    :class:`~lamp.models.motion_conv.MotionConv2d`, self-attention gets
    :class:`~lamp.models.attention.FirstFrameAttnProcessor`, and each transformer block gets a
    temporal attention; with ``group_norm: video`` the resnets' and the output's GroupNorms become
    :class:`~lamp.models.group_norm.VideoGroupNorm`. Everything but the LAMP-trained parameters
    (:func:`is_trainable`) is frozen.
    """

    def __init__(
        self,
        unet: UNet2DConditionModel,
        config: LAMPConfig | None = None,
        base_model: str | None = None,
        base_revision: str | None = None,
    ) -> None:
        super().__init__()
        self.lamp_config = config or LAMPConfig()
        self.base_model = base_model or unet.config.get("_name_or_path") or None
        self.base_revision = base_revision
        self.frames = FrameContext()
        self.unet = unet
        if self.lamp_config.motion_layers:
            self._add_motion_layers()
        if self.lamp_config.temporal_attention:
            self._add_temporal_attention()
        if self.lamp_config.group_norm == "video":
            self._pool_group_norms_over_frames()
        self.set_attention_backend("sdpa")
        self._freeze_base()

    @classmethod
    def from_pretrained(
        cls,
        base_model: str | os.PathLike,
        config: LAMPConfig | None = None,
        revision: str | None = None,
        *,
        seed: int | None = None,
        subfolder: str | None = "unet",
        torch_dtype: torch.dtype | None = None,
    ) -> LAMPVideoUNet:
        """A fresh video UNet: ``base_model``'s UNet (hub id or local folder) inflated with ``config``.

        ``seed`` seeds the new layers' initialisation (the zero-initialised outputs aside, their
        inner weights are random), so two trainings from the same settings start from the same model.
        """
        unet = UNet2DConditionModel.from_pretrained(
            base_model, subfolder=subfolder, revision=revision, torch_dtype=torch_dtype
        )
        if seed is not None:
            torch.manual_seed(seed)
        return cls(unet, config, base_model=str(base_model), base_revision=revision)

    @classmethod
    def from_motion(
        cls,
        base: str | os.PathLike | UNet2DConditionModel,
        motion_dir: str | os.PathLike,
        revision: str | None = None,
    ) -> LAMPVideoUNet:
        """A trained motion model in eval mode: the base UNet inflated with the switches saved in
        ``motion_dir`` and carrying its motion weights (checked against the base's parameters).

        ``base`` is a hub id or folder of the base model, or its image UNet already in memory (which
        is inflated in place).
        """
        from lamp.models.files import read_motion_config
        from lamp.models.serialization import load_motion_weights

        saved = read_motion_config(motion_dir)
        if isinstance(base, UNet2DConditionModel):
            unet, base_model = base, saved.get("base_model")
        else:
            unet = UNet2DConditionModel.from_pretrained(base, subfolder="unet", revision=revision)
            base_model = str(base)
        config = LAMPConfig.from_dict(saved["lamp"])
        model = cls(unet, config, base_model=base_model, base_revision=saved.get("base_revision"))
        return load_motion_weights(model, motion_dir).eval()

    # --- inflation -------------------------------------------------------------------------

    def _add_motion_layers(self) -> None:
        targets = set(self.lamp_config.motion_targets)
        convs = [
            (name, module)
            for name, module in self.unet.named_modules()
            if type(module) is nn.Conv2d and conv_role(name) in targets
        ]
        for name, conv in convs:
            motion = MotionConv2d(conv, self.frames, self.lamp_config.conv_mode)
            self.unet.set_submodule(name, motion)

    def _add_temporal_attention(self) -> None:
        hook = TemporalAttentionHook(self.frames)
        for block in self.unet.modules():
            if isinstance(block, BasicTransformerBlock):
                attn1 = block.attn1
                dim = attn1.query_dim
                param = attn1.to_q.weight
                block.norm_temp = nn.LayerNorm(dim, device=param.device, dtype=param.dtype)
                block.attn_temp = temporal_attention(
                    dim, attn1.heads, attn1.inner_dim // attn1.heads, self.lamp_config.motion_init
                )
                block.attn_temp.to(device=param.device, dtype=param.dtype)
                block.register_forward_hook(hook)

    def _pool_group_norms_over_frames(self) -> None:
        norms = [
            (name, module)
            for name, module in self.unet.named_modules()
            if type(module) is nn.GroupNorm and _VIDEO_NORMS.search(name)
        ]
        for name, norm in norms:
            self.unet.set_submodule(name, VideoGroupNorm(norm, self.frames))

    def _freeze_base(self) -> None:
        for name, param in self.unet.named_parameters():
            param.requires_grad_(is_trainable(name, self.lamp_config))

    # --- running ---------------------------------------------------------------------------

    def set_attention_backend(self, backend: AttentionBackend = "auto") -> str:
        """Use torch SDPA, or xformers (``"auto"`` picks it when installed and on CUDA); returns the choice.

        ``unet.enable_xformers_memory_efficient_attention()`` would replace the first-frame
        processors, so backends are switched here, wrapping the chosen diffusers processor.
        """
        if backend == "auto":
            backend = "xformers" if _xformers_works(self.device) else "sdpa"
        if backend not in ("sdpa", "xformers"):
            raise ValueError(f"attention backend must be 'auto', 'sdpa' or 'xformers', got {backend!r}")
        if backend == "xformers" and not _xformers_works(self.device):
            raise RuntimeError(
                f"attention backend 'xformers' does not run on {self.device}: it needs CUDA and an xformers "
                "build for this torch (python -m xformers.info says which kernels load); use 'sdpa'"
            )
        make = XFormersAttnProcessor if backend == "xformers" else AttnProcessor2_0
        processors = {}
        for name in self.unet.attn_processors:
            if self.lamp_config.first_frame_attention and name.endswith("attn1.processor"):
                processors[name] = FirstFrameAttnProcessor(self.frames, make())
            else:
                processors[name] = make()
        self.unet.set_attn_processor(processors)
        return backend

    def enable_gradient_checkpointing(self) -> None:
        self.unet.enable_gradient_checkpointing()

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        encoder_hidden_states: torch.Tensor,
    ) -> torch.Tensor:
        """Predict noise (or v) for a video latent ``(batch, channels, frames, height, width)``.

        ``timestep`` is a scalar, one value (shape ``(1,)``) for every video, or one value per video,
        broadcast over the batch as diffusers' UNet does; ``encoder_hidden_states`` is
        ``(batch, tokens, dim)``, shared by the frames of a video.
        """
        if sample.ndim != 5:
            raise ValueError(f"expected (batch, channels, frames, height, width), got {tuple(sample.shape)}")
        batch, _, frames = sample.shape[:3]
        self.frames.num_frames = frames
        timestep = torch.as_tensor(timestep, device=sample.device).reshape(-1)
        if len(timestep) not in (1, batch):
            raise ValueError(f"expected one timestep or one per video ({batch}), got {len(timestep)}")
        out = self.unet(
            rearrange(sample, "b c f h w -> (b f) c h w"),
            timestep.expand(batch).repeat_interleave(frames),
            encoder_hidden_states.repeat_interleave(frames, dim=0),
            return_dict=False,
        )[0]
        return rearrange(out, "(b f) c h w -> b c f h w", f=frames)

    # --- parameters ------------------------------------------------------------------------

    def trainable_named_parameters(self) -> Iterator[tuple[str, nn.Parameter]]:
        """``(name, parameter)`` of the LAMP-trained set, named relative to the UNet."""
        for name, param in self.unet.named_parameters():
            if is_trainable(name, self.lamp_config):
                yield name, param

    def image_unet(self) -> UNet2DConditionModel:
        """A new diffusers image UNet holding copies of this model's base weights: the model without
        the layers LAMP adds (``attn1.to_q`` included, as this model has it)."""
        unet = UNet2DConditionModel.from_config(self.unet.config)
        unet.load_state_dict({name: t for name, t in self.unet.state_dict().items() if not is_added(name)})
        return unet

    def parameter_counts(self) -> ParameterCounts:
        return count_parameters(self.unet, self.lamp_config)

    @property
    def config(self) -> Any:
        """The diffusers UNet's config (``block_out_channels``, ...), as ``pipe.unet.config`` is in diffusers;
        LAMP's switches are :attr:`lamp_config`."""
        return self.unet.config

    @property
    def device(self) -> torch.device:
        return self.unet.device

    @property
    def dtype(self) -> torch.dtype:
        return self.unet.dtype


def count_parameters(unet: nn.Module, config: LAMPConfig) -> ParameterCounts:
    """Trainable (per LAMP's rule) and total parameter counts of an inflated UNet."""
    trainable = total = 0
    for name, param in unet.named_parameters():
        total += param.numel()
        if is_trainable(name, config):
            trainable += param.numel()
    return ParameterCounts(trainable=trainable, total=total)


@functools.cache
def _xformers_works(device: torch.device) -> bool:
    """Whether xformers' memory-efficient attention runs on ``device``: an xformers built for another
    torch imports but has no kernels, and fails only at the first attention call. Probed once per
    device: every ``LAMPPipeline.to`` and training asks."""
    if device.type != "cuda":
        return False
    try:
        import xformers.ops

        q = torch.zeros(1, 8, 1, 40, device=device, dtype=torch.float16)
        xformers.ops.memory_efficient_attention(q, q, q)
    except Exception:  # noqa: BLE001 - ImportError, NotImplementedError (no kernel), CUDA errors
        return False
    return True
