"""The LAMP switches: which parts of the method are on, as one dataclass.

Every difference between the paper and its authors' code, and every ablation of the paper's Fig. 5,
is a field here so that either behaviour can be reproduced from ``params.yaml``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from lamp.params import from_params

ConvMode = Literal["prediction", "vanilla"]
MotionInit = Literal["zero", "code"]
GroupNormScope = Literal["frame", "video"]

#: Spatial convolutions of a diffusers UNet that can carry a motion layer, by role.
MOTION_TARGETS = ("conv_in", "conv_out", "resnet", "shortcut", "sampler")


@dataclass(frozen=True)
class LAMPConfig:
    """Switches of the LAMP video UNet.

    Attributes:
        motion_layers: add the temporal-spatial motion learning layer to the spatial convolutions.
        conv_mode: ``"prediction"`` is the paper's causal 1D conv (frame f sees f-2, f-1, f);
            ``"vanilla"`` is the centred window f-1, f, f+1 (Fig. 5f ablation).
        motion_targets: which convolutions get a motion layer (subset of :data:`MOTION_TARGETS`);
            the authors' code inflates all of them.
        first_frame_attention: self-attention takes keys and values from frame 1 (paper Eq. 5).
        temporal_attention: add a self-attention over frames after every transformer block.
        motion_init: ``"zero"`` zero-initialises every new parameter (the paper, so the untrained
            model equals the image model); ``"code"`` is the authors' constructor: the 1D conv, the
            gate and the temporal attention's output weight are zero, but that projection keeps
            PyTorch's default (random) bias, a constant per channel added before training.
        train_temporal_norm: train the temporal attention's LayerNorm. The paper trains every new
            layer; the authors' code leaves ``norm_temp`` frozen (set False to reproduce it).
        group_norm: the scope of the GroupNorm statistics in the resnets and ``conv_norm_out``:
            ``"frame"`` normalises each frame alone (the image model's GroupNorm on every frame, so
            the untrained model is the image model); ``"video"`` pools them over all frames of a
            video, as the authors' code does (their checkpoints reproduce only with it). The paper
            does not say. The attention blocks' GroupNorm is per frame in both, as in their code.
    """

    motion_layers: bool = True
    conv_mode: ConvMode = "prediction"
    motion_targets: tuple[str, ...] = MOTION_TARGETS
    first_frame_attention: bool = True
    temporal_attention: bool = True
    motion_init: MotionInit = "zero"
    train_temporal_norm: bool = True
    group_norm: GroupNormScope = "frame"

    def __post_init__(self) -> None:
        if self.conv_mode not in ("prediction", "vanilla"):
            raise ValueError(f"conv_mode must be 'prediction' or 'vanilla', got {self.conv_mode!r}")
        if self.motion_init not in ("zero", "code"):
            raise ValueError(f"motion_init must be 'zero' or 'code', got {self.motion_init!r}")
        if self.group_norm not in ("frame", "video"):
            raise ValueError(f"group_norm must be 'frame' or 'video', got {self.group_norm!r}")
        unknown = set(self.motion_targets) - set(MOTION_TARGETS)
        if unknown:
            raise ValueError(
                f"unknown motion_targets {sorted(unknown)}; choose from {list(MOTION_TARGETS)}"
            )
        object.__setattr__(self, "motion_targets", tuple(self.motion_targets))

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> LAMPConfig:
        return from_params(cls, values, "LAMP model settings")

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["motion_targets"] = list(self.motion_targets)
        return values
