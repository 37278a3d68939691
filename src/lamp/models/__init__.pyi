from .authors_checkpoint import (
    AUTHORS_SWITCHES,
    AuthorsCheckpointError,
    BaseWeightsDifferWarning,
    frozen_weight_differences,
    import_authors_checkpoint,
)
from .config import MOTION_TARGETS, LAMPConfig
from .files import MotionModel, MotionWeightsMismatchError, read_motion_config
from .serialization import load_motion_weights, save_motion_weights
from .unet_configs import SD14_UNET_CONFIG, tiny_unet_config
from .video_unet import LAMPVideoUNet, ParameterCounts, count_parameters, is_trainable

__all__ = [
    "AUTHORS_SWITCHES",
    "AuthorsCheckpointError",
    "BaseWeightsDifferWarning",
    "MOTION_TARGETS",
    "SD14_UNET_CONFIG",
    "LAMPConfig",
    "LAMPVideoUNet",
    "MotionModel",
    "MotionWeightsMismatchError",
    "ParameterCounts",
    "count_parameters",
    "frozen_weight_differences",
    "import_authors_checkpoint",
    "is_trainable",
    "load_motion_weights",
    "read_motion_config",
    "save_motion_weights",
    "tiny_unet_config",
]
