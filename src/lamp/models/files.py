"""A trained motion model's files: their names and format, and the model as a checked folder.

Apart from :mod:`lamp.models.serialization` because it needs no torch: the Kedro dataset of motion
models and ``lamp generate``'s checks use it in processes that must not pay for importing torch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WEIGHTS_NAME = "motion_weights.safetensors"
CONFIG_NAME = "lamp_config.json"
FORMAT = "lamp-motion-weights/1"


class MotionWeightsMismatchError(ValueError):
    """The saved motion weights do not fit the video UNet they are loaded onto."""


def read_motion_config(directory: str | os.PathLike) -> dict[str, Any]:
    """The JSON config of saved motion weights, with a clear error when it is missing or foreign."""
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: {directory} holds no LAMP motion weights (train a motion model first)"
        )
    config = json.loads(path.read_text())
    if config.get("format") != FORMAT:
        raise MotionWeightsMismatchError(f"{path} is not a {FORMAT} file (format={config.get('format')!r})")
    return config


@dataclass(frozen=True)
class MotionModel:
    """A trained motion model where it lies: the folder of its weights and config.

    What the train stage makes, the Kedro dataset ``<motion>.motion_model`` holds, and generate, the
    ablation and ``lamp generate`` read: the folder, not the tensors, because each consumer builds the
    UNet on its base (:meth:`~lamp.models.LAMPVideoUNet.from_motion`) one motion at a time, and eight of
    the full profile's would not fit in memory together. Checked on creation: a folder without both
    files is an error naming it.
    """

    directory: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "directory", Path(self.directory))
        read_motion_config(self.directory)
        if not self.weights.is_file():
            raise FileNotFoundError(f"{self.weights} not found: {self.directory} holds a config but no motion weights")

    @property
    def weights(self) -> Path:
        """The safetensors file of the trained parameters."""
        return self.directory / WEIGHTS_NAME
