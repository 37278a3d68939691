"""The training settings of a LAMP motion model, as one dataclass, and how ``params.yaml`` makes them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from lamp.data.windows import clip_span
from lamp.params import at_least, from_params, positive

if TYPE_CHECKING:
    from lamp.profiles import Profile

MixedPrecision = Literal["no", "fp16", "bf16"]

#: Settings that may change between a run and its resumption without changing what is trained.
RESUMABLE_CHANGES = frozenset({"max_train_steps", "checkpointing_steps", "checkpoints_total_limit"})
#: Keys of params ``train`` that are not training settings: where checkpoints go, validation videos, how
#: many processes train (:mod:`lamp.training.launch`).
NOT_SETTINGS = ("checkpoints_dir", "validation", "processes")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`~lamp.training.loop.train_motion`; defaults are the paper's and its code's.

    Attributes:
        max_train_steps: optimizer steps in all (the authors' configs: 30,000 for a motion set,
            500 for single-video editing).
        gradient_accumulation_steps: clips per optimizer step and process, each its own forward and
            backward pass (memory stays that of one clip); the gradient is their mean. The authors'
            configs: 1. A multi-process run's effective batch is processes x this.
        checkpointing_steps: write a resumable checkpoint every this many steps.
        checkpoints_total_limit: keep this many newest checkpoints (None keeps all).
        n_sample_frames: frames of a training clip.
        sample_frame_rate: stride between the frames of a clip.
        random_flip: mirror a clip with probability 0.5 (needs flipped latents in the cache).
        first_frame_conditioning: give the model frame 1 clean and leave it out of the loss (Eq. 4);
            False trains on all frames, the Fig. 5c ablation.
        learning_rate, adam_*: AdamW settings.
        max_grad_norm: gradient-norm clipping.
        seed: seed of the one generator all training randomness is drawn from.
        mixed_precision: ``"no"``, ``"fp16"`` (the authors' setting; GPU only) or ``"bf16"``.
        gradient_checkpointing: trade compute for memory in the UNet's blocks.
        lr_scheduler, lr_warmup_steps: a schedule of ``diffusers.optimization.get_scheduler``.
        timestep_range: the part of the noise schedule training timesteps are drawn from, uniformly,
            as fractions of ``num_train_timesteps``: ``(0, 1)`` is the paper's whole schedule;
            ``(0.5, 1)`` the noisier half, where a frame's layout (and so its motion from frame 1)
            is decided. A small model tuned for a few hundred steps learns coherent frames only
            there (README: Measured); the frozen image layers still denoise the rest.
    """

    max_train_steps: int = 30_000
    gradient_accumulation_steps: int = 1
    checkpointing_steps: int = 500
    checkpoints_total_limit: int | None = 2
    n_sample_frames: int = 16
    sample_frame_rate: int = 1
    random_flip: bool = True
    first_frame_conditioning: bool = True
    learning_rate: float = 3e-5
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_weight_decay: float = 1e-2
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    seed: int = 33
    mixed_precision: MixedPrecision = "no"
    gradient_checkpointing: bool = False
    lr_scheduler: str = "constant"
    lr_warmup_steps: int = 0
    timestep_range: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            raise ValueError(f"mixed_precision must be 'no', 'fp16' or 'bf16', got {self.mixed_precision!r}")
        # With frame 1 given clean, a clip needs a second frame for the loss to cover anything.
        min_frames = 2 if self.first_frame_conditioning else 1
        if self.n_sample_frames < min_frames:
            raise ValueError(f"n_sample_frames must be at least {min_frames}, got {self.n_sample_frames}")
        for name in ("max_train_steps", "gradient_accumulation_steps", "checkpointing_steps", "sample_frame_rate"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.checkpoints_total_limit is not None and self.checkpoints_total_limit < 1:
            raise ValueError(
                f"checkpoints_total_limit must be at least 1 or None, got {self.checkpoints_total_limit}"
            )
        if self.lr_warmup_steps < 0:
            raise ValueError(f"lr_warmup_steps must not be negative, got {self.lr_warmup_steps}")
        for name in ("learning_rate", "adam_epsilon", "max_grad_norm"):
            positive(name, getattr(self, name))
        for name in ("adam_beta1", "adam_beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        at_least("adam_weight_decay", self.adam_weight_decay, 0)
        object.__setattr__(self, "timestep_range", tuple(self.timestep_range))
        low, high = self.timestep_range if len(self.timestep_range) == 2 else (None, None)
        if low is None or not 0 <= low < high <= 1:
            raise ValueError(f"timestep_range must be [low, high] with 0 <= low < high <= 1, got {list(self.timestep_range)}")

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> TrainConfig:
        return from_params(cls, values, "training settings")

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON holds them (a checkpoint's record compares equal to them)."""
        return {**asdict(self), "timestep_range": list(self.timestep_range)}

    @property
    def clip_span(self) -> int:
        """Frames of a source video that one clip spans, first to last inclusive."""
        return clip_span(self.n_sample_frames, self.sample_frame_rate)


def train_config(profile: Profile, data: dict[str, Any], train: dict[str, Any]) -> TrainConfig:
    """The training settings: ``train`` params, the clip length of the profile, the clip stride and flip of ``data``."""
    settings = {k: v for k, v in train.items() if k not in NOT_SETTINGS}
    return TrainConfig.from_dict(
        {
            **settings,
            "n_sample_frames": profile.n_frames,
            "sample_frame_rate": data["sample_frame_rate"],
            "random_flip": data["flip"],
        }
    )
