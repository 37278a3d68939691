"""Training set up from ``params.yaml`` groups: the base's noise schedule, what a training read, stale checkpoints.

Shared by the ``train`` pipeline and the ablations, which train their variants the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any, Mapping

import torch
from diffusers import AutoencoderKL, DDPMScheduler

from lamp.io import atomic_path, file_sha256
from lamp.models import LAMPConfig
from lamp.profiles import PretrainedModel
from lamp.training.checkpoint import latest_checkpoint, resumable
from lamp.training.config import TrainConfig

logger = logging.getLogger(__name__)

#: What a training read, beside its checkpoints (:func:`training_inputs`).
INPUTS_NAME = "training_inputs.json"


def base_noise_schedule(base: PretrainedModel) -> tuple[DDPMScheduler, float]:
    """The base model's training scheduler and its VAE's latent scaling factor."""
    scheduler = base.component(DDPMScheduler, "scheduler")
    vae_config = AutoencoderKL.load_config(base.location, subfolder="vae", revision=base.revision)
    return scheduler, vae_config["scaling_factor"]


def base_fingerprint(base: PretrainedModel) -> str:
    """Identity of the base UNet: a hash of a local folder's UNet files, or the hub id and revision."""
    folder = Path(base.location)
    unet_files = sorted((folder / "unet").glob("*")) if folder.is_dir() else []
    if not unet_files:
        return f"{base.location}@{base.revision or 'main'}"
    return ",".join(f"{path.name}:{file_sha256(path)}" for path in unet_files if path.is_file())


def training_inputs(
    base: PretrainedModel,
    model: dict[str, Any],
    latents: Mapping[str, torch.Tensor],
    text_embeddings: Mapping[str, torch.Tensor],
    processes: int = 1,
) -> dict[str, Any]:
    """Everything a training reads besides its settings (which its checkpoints record), each as an identity.

    The model switches, the content of the cached latents and text embeddings (a changed or smaller
    training set, another frame size or count: other tensors), the base UNet
    (:func:`base_fingerprint`), and the number of processes (each step draws one clip per process,
    so another number continues with other clips). A checkpoint is resumed only when all of these,
    and its settings (:func:`~lamp.training.checkpoint.resumable`), are the same.
    """
    return {
        "model": LAMPConfig.from_dict(model).to_dict(),
        "latents_sha256": tensors_sha256(latents),
        "text_embeddings_sha256": tensors_sha256(text_embeddings),
        "base_model": base_fingerprint(base),
        "processes": processes,
    }


def tensors_sha256(tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 of named tensors: names, dtypes, shapes and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def drop_stale_checkpoints(checkpoints: Path, config: TrainConfig, inputs: dict[str, Any]) -> str | None:
    """Keep checkpoints only if they were written with these settings from these ``inputs``; why not, or None.

    Changed settings, data or base make DVC re-run the stage; resuming motion layers trained with
    other settings, on other clips or against another base would be wrong (and a finished run would
    come back unchanged), so training starts over. ``inputs`` (:func:`training_inputs`) are recorded
    beside the checkpoints; the reason returned names what changed, for the run's record.
    """
    record = checkpoints / INPUTS_NAME
    latest = latest_checkpoint(checkpoints)
    reason = None
    if latest:
        recorded = json.loads(record.read_text()) if record.is_file() else {}
        changed = sorted(k for k in inputs.keys() | recorded.keys() if recorded.get(k) != inputs.get(k))
        if changed:
            reason = f"{', '.join(changed)} changed since the checkpoints in {checkpoints} were written"
        elif not resumable(latest, config):
            reason = f"the training settings changed since {latest} was written"
    if reason:
        logger.warning("starting over: %s", reason)
        shutil.rmtree(checkpoints)
    with atomic_path(record) as temporary:
        temporary.write_text(json.dumps(inputs, indent=2, sort_keys=True))
    return reason
