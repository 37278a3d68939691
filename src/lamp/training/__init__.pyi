from .checkpoint import (
    CheckpointMismatchError,
    TrainingState,
    latest_checkpoint,
    resumable,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from .config import TrainConfig
from .loop import CHECKPOINTS_DIR, NonFiniteLossError, TrainingCallback, TrainResult, train_motion
from .objective import (
    Clip,
    TrainingExample,
    example_loss,
    motion_loss,
    noisy_latents,
    prediction_target,
    sample_clip,
    sample_example,
    trainable_videos,
)

__all__ = [
    "CHECKPOINTS_DIR",
    "CheckpointMismatchError",
    "Clip",
    "NonFiniteLossError",
    "TrainConfig",
    "TrainResult",
    "TrainingCallback",
    "TrainingExample",
    "TrainingState",
    "example_loss",
    "latest_checkpoint",
    "resumable",
    "list_checkpoints",
    "load_checkpoint",
    "motion_loss",
    "noisy_latents",
    "prediction_target",
    "prune_checkpoints",
    "sample_clip",
    "sample_example",
    "save_checkpoint",
    "train_motion",
    "trainable_videos",
]
