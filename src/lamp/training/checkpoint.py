"""Resumable training checkpoints in safetensors and JSON only: no pickle is written or read.

accelerate's ``Accelerator.save_state`` / ``load_state`` would do this in one call, but they pickle
the optimizer, scheduler and RNG states (``torch.save``), and loading a pickle can run arbitrary
code. Everything a LAMP run needs to resume is tensors or plain numbers, so it is written by hand:

``checkpoint-<step>/``
    ``motion_weights.safetensors``, ``lamp_config.json``: the trainable weights, written by
    :func:`~lamp.models.save_motion_weights`, so a checkpoint also loads with
    :meth:`~lamp.models.LAMPVideoUNet.from_motion`;
    ``optimizer.safetensors``: AdamW's per-parameter state (``exp_avg``, ``exp_avg_sq``, ``step``),
    keyed ``<parameter name>.<state key>``;
    ``random_states.safetensors``: the training generator's state (a uint8 tensor);
    ``training_state.json``: the step, the optimizer's hyperparameters, the lr scheduler's and the
    fp16 grad scaler's states, and the training settings.

Each checkpoint folder is written under a temporary name and renamed, so a folder named
``checkpoint-<step>`` is always complete, even after a SIGKILL mid-write.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from lamp.io import atomic_directory, atomic_path, load_safetensors
from lamp.models import LAMPVideoUNet, load_motion_weights, save_motion_weights
from lamp.training.config import RESUMABLE_CHANGES, TrainConfig

FORMAT = "lamp-training-checkpoint/1"
OPTIMIZER_NAME = "optimizer.safetensors"
RANDOM_STATES_NAME = "random_states.safetensors"
STATE_NAME = "training_state.json"
_CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")


class CheckpointMismatchError(ValueError):
    """A checkpoint was written by a run with other settings than the one resuming from it."""


@dataclass
class TrainingState:
    """The live objects a checkpoint saves and restores.

    ``optimizer`` must optimise exactly ``model.trainable_named_parameters()``, in that order: its
    state is stored by parameter name. The optimizer and lr scheduler may be accelerate's wrappers,
    and ``model`` is the unwrapped model.
    """

    model: LAMPVideoUNet
    optimizer: torch.optim.Optimizer
    lr_scheduler: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator
    grad_scaler: torch.amp.GradScaler | None = None

    def parameter_names(self) -> list[str]:
        names, params = zip(*self.model.trainable_named_parameters())
        optimised = [p for group in self.optimizer.param_groups for p in group["params"]]
        if len(optimised) != len(params) or any(a is not b for a, b in zip(optimised, params)):
            raise ValueError("the optimizer must hold the model's trainable parameters, in their order")
        return list(names)


def checkpoint_step(path: str | os.PathLike) -> int | None:
    """The step of a ``checkpoint-<step>`` folder name, or None for other names."""
    match = _CHECKPOINT_NAME.match(Path(path).name)
    return int(match.group(1)) if match else None


def list_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """The complete checkpoints in ``directory``, oldest first (temporaries of killed writes are skipped)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_dir() and checkpoint_step(p) is not None]
    return sorted(found, key=checkpoint_step)


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The checkpoint with the highest step in ``directory``, or None when there is none."""
    checkpoints = list_checkpoints(directory)
    return checkpoints[-1] if checkpoints else None


def save_checkpoint(
    directory: str | os.PathLike, step: int, state: TrainingState, config: TrainConfig
) -> Path:
    """Write ``directory/checkpoint-<step>`` atomically; returns its path."""
    path = Path(directory) / f"checkpoint-{step}"
    names = state.parameter_names()
    optimizer_tensors, param_groups = _optimizer_to_tensors(state.optimizer.state_dict(), names)
    training_state = {
        "format": FORMAT,
        "step": step,
        "optimizer_param_groups": param_groups,
        "lr_scheduler": state.lr_scheduler.state_dict(),
        "grad_scaler": state.grad_scaler.state_dict() if state.grad_scaler is not None else None,
        "config": config.to_dict(),
    }
    with atomic_directory(path) as temporary:
        save_motion_weights(state.model, temporary)
        with atomic_path(temporary / OPTIMIZER_NAME) as file:
            save_file(optimizer_tensors, file, metadata={"format": FORMAT})
        with atomic_path(temporary / RANDOM_STATES_NAME) as file:
            save_file({"generator": state.generator.get_state()}, file, metadata={"format": FORMAT})
        with atomic_path(temporary / STATE_NAME) as file:
            file.write_text(json.dumps(training_state, indent=2) + "\n")
    return path


def load_checkpoint(path: str | os.PathLike, state: TrainingState, config: TrainConfig) -> int:
    """Restore ``state`` from a checkpoint written by :func:`save_checkpoint`; returns its step.

    Settings may differ only in :data:`~lamp.training.config.RESUMABLE_CHANGES` (e.g. more steps):
    anything else would silently continue a different run.
    """
    path = Path(path)
    training_state = json.loads((path / STATE_NAME).read_text())
    if training_state.get("format") != FORMAT:
        raise CheckpointMismatchError(f"{path / STATE_NAME} is not a {FORMAT} file")
    _check_resumable(path, training_state["config"], config)
    load_motion_weights(state.model, path)
    state.optimizer.load_state_dict(
        _optimizer_from_tensors(
            load_safetensors(path / OPTIMIZER_NAME, FORMAT, remove=path),
            training_state["optimizer_param_groups"],
            state.parameter_names(),
            state.optimizer.state_dict()["param_groups"],
        )
    )
    state.lr_scheduler.load_state_dict(training_state["lr_scheduler"])
    if state.grad_scaler is not None and training_state["grad_scaler"] is not None:
        state.grad_scaler.load_state_dict(training_state["grad_scaler"])
    state.generator.set_state(load_safetensors(path / RANDOM_STATES_NAME, FORMAT, remove=path)["generator"])
    return training_state["step"]


def prune_checkpoints(directory: str | os.PathLike, keep: int | None) -> list[Path]:
    """Delete all but the ``keep`` newest checkpoints (None keeps all), and temporaries of killed writes.

    Returns the deleted checkpoints. A checkpoint is renamed to a temporary name before it is
    deleted, so a crash mid-delete never leaves a partial folder under a checkpoint name.
    """
    directory = Path(directory)
    for stale in directory.glob(".checkpoint-*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    checkpoints = list_checkpoints(directory)
    removed = checkpoints[:-keep] if keep is not None else []
    for checkpoint in removed:
        doomed = checkpoint.with_name(f".{checkpoint.name}.{secrets.token_hex(4)}.tmp")
        os.rename(checkpoint, doomed)
        shutil.rmtree(doomed)
    return removed


def _optimizer_to_tensors(
    state_dict: dict[str, Any], names: list[str]
) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    """Per-parameter optimizer state as named tensors, and the parameter groups as JSON-ready dicts."""
    tensors = {}
    for index, values in state_dict["state"].items():
        for key, value in values.items():
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"optimizer state {key!r} of {names[index]} is not a tensor: {value!r}")
            tensors[f"{names[index]}.{key}"] = value.detach().cpu().contiguous()
    groups = [
        {**group, "params": [names[index] for index in group["params"]]} for group in state_dict["param_groups"]
    ]
    return tensors, groups


def _optimizer_from_tensors(
    tensors: dict[str, torch.Tensor],
    saved_groups: list[dict[str, Any]],
    names: list[str],
    current_groups: list[dict[str, Any]],
) -> dict[str, Any]:
    """The inverse of :func:`_optimizer_to_tensors`: a state dict for ``optimizer.load_state_dict``."""
    index = {name: i for i, name in enumerate(names)}
    state: dict[int, dict[str, torch.Tensor]] = defaultdict(dict)
    for key, tensor in tensors.items():
        name, part = key.rsplit(".", 1)
        state[index[name]][part] = tensor
    groups = []
    for saved, current in zip(saved_groups, current_groups, strict=True):
        # JSON turned tuples (AdamW's betas) into lists; give them back their type.
        group = {k: tuple(v) if isinstance(current.get(k), tuple) else v for k, v in saved.items()}
        group["params"] = [index[name] for name in saved["params"]]
        groups.append(group)
    return {"state": dict(state), "param_groups": groups}


def resumable(path: str | os.PathLike, config: TrainConfig) -> bool:
    """Whether the checkpoint at ``path`` was written with settings ``config`` may resume."""
    training_state = json.loads((Path(path) / STATE_NAME).read_text())
    try:
        _check_resumable(Path(path), training_state["config"], config)
    except CheckpointMismatchError:
        return False
    return True


def _check_resumable(path: Path, saved: dict[str, Any], config: TrainConfig) -> None:
    current = config.to_dict()
    changed = sorted(
        key
        for key in current.keys() | saved.keys()
        if key not in RESUMABLE_CHANGES and saved.get(key) != current.get(key)
    )
    if changed:
        details = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed)
        raise CheckpointMismatchError(
            f"{path} was written with other training settings ({details}); restore them, "
            "or delete the checkpoints to start over"
        )
