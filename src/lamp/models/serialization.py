"""Saving and loading the LAMP-trained parameters alone: safetensors plus a JSON config."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from lamp.io import atomic_path, load_safetensors
from lamp.models.config import LAMPConfig
from lamp.models.files import CONFIG_NAME, FORMAT, WEIGHTS_NAME, MotionWeightsMismatchError, read_motion_config
from lamp.models.video_unet import LAMPVideoUNet


def tensor_sha256(tensor: torch.Tensor) -> str:
    """SHA-256 of a tensor's raw bytes (any dtype)."""
    flat = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
    return hashlib.sha256(flat.numpy().tobytes()).hexdigest()


def save_motion_weights(model: LAMPVideoUNet, directory: str | os.PathLike) -> Path:
    """Write the trained parameters and the config that rebuilds the model; returns the folder.

    Each file is written under a temporary name and renamed, so a reader never sees half a file;
    the config is renamed last and records every tensor's hash, so a weights file from another
    save is detected on load.
    """
    directory = Path(directory)
    tensors = {name: p.detach().cpu().contiguous() for name, p in model.trainable_named_parameters()}
    config = {
        "format": FORMAT,
        "lamp": model.lamp_config.to_dict(),
        "base_model": model.base_model,
        "base_revision": model.base_revision,
        "parameters": {
            name: {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch."), "sha256": tensor_sha256(t)}
            for name, t in tensors.items()
        },
    }
    with atomic_path(directory / WEIGHTS_NAME) as temporary:
        save_file(tensors, temporary, metadata={"format": FORMAT})
    with atomic_path(directory / CONFIG_NAME) as temporary:
        temporary.write_text(json.dumps(config, indent=2) + "\n")
    return directory


def load_motion_weights(model: LAMPVideoUNet, directory: str | os.PathLike) -> LAMPVideoUNet:
    """Copy saved motion weights into ``model``, checking switches, names, shapes and hashes first."""
    config = read_motion_config(directory)
    saved_switches = LAMPConfig.from_dict(config["lamp"])
    if saved_switches != model.lamp_config:
        raise MotionWeightsMismatchError(
            f"motion weights in {directory} were trained with {saved_switches}, "
            f"but the model was built with {model.lamp_config}"
        )
    tensors = load_safetensors(Path(directory) / WEIGHTS_NAME, FORMAT, remove=directory)
    expected = dict(model.trainable_named_parameters())
    problems = _mismatches(expected, tensors, config["parameters"])
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise MotionWeightsMismatchError(
            f"motion weights in {directory} do not fit this base UNet "
            f"(saved for base {config.get('base_model')!r}):\n  {shown}{more}"
        )
    with torch.no_grad():
        for name, param in expected.items():
            param.copy_(tensors[name].to(param.dtype))
    return model


def _mismatches(
    expected: dict[str, torch.nn.Parameter],
    saved: dict[str, torch.Tensor],
    recorded: dict[str, dict[str, Any]],
) -> list[str]:
    problems = [f"missing in the file: {name}" for name in expected if name not in saved]
    problems += [f"not in this model: {name}" for name in saved if name not in expected]
    for name in (n for n in expected if n in saved):
        want, got = tuple(expected[name].shape), tuple(saved[name].shape)
        if want != got:
            problems.append(f"shape of {name}: file {got}, model {want}")
        elif recorded.get(name, {}).get("sha256") != tensor_sha256(saved[name]):
            problems.append(f"hash of {name} differs from {CONFIG_NAME}: the files come from different saves")
    return problems
