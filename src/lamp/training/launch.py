"""One motion's training on several processes through ``accelerate launch`` (``train.processes``; :mod:`lamp.launch`).

With ``train.processes: N`` > 1 the ``train`` node (which also holds the motion's lock) writes what the
training reads into a folder (a JSON spec, the latents and text embeddings as safetensors), runs this
module on N processes and reads back the main process's result.

Each process runs :func:`~lamp.training.loop.train_motion`: every process draws the whole global
batch from the one seeded generator and trains on its share, DDP averages the gradients, and only
the main process writes checkpoints, the weights and MLflow step metrics, so a resumed or repeated
run continues as one process would with N clips a step.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors.torch import load_file, save_file

from lamp.launch import is_main_process, run_on_processes
from lamp.profiles import PretrainedModel
from lamp.training.config import TrainConfig
from lamp.training.loop import TrainResult

SPEC_NAME = "spec.json"
RESULT_NAME = "result.json"


def train_on_processes(
    processes: int,
    video_base: PretrainedModel,
    model: Mapping[str, Any],
    latents: Mapping[str, torch.Tensor],
    text_embeddings: Mapping[str, torch.Tensor],
    config: TrainConfig,
    output_dir: Path,
    checkpoints_dir: Path,
    mlflow_run_id: str | None,
) -> tuple[TrainResult, dict[str, int]]:
    """Train on ``processes`` processes; the main one's :class:`TrainResult` and the model's parameter counts.

    Raises ``RuntimeError`` with the processes' exit status when the launch fails (their output,
    tracebacks included, went to this process's stderr).
    """
    with tempfile.TemporaryDirectory(prefix="lamp-launch-") as folder:
        folder = Path(folder)
        save_file({k: v.contiguous() for k, v in latents.items()}, folder / "latents.safetensors")
        save_file({k: v.contiguous() for k, v in text_embeddings.items()}, folder / "text_embeddings.safetensors")
        spec = {
            "video_base": asdict(video_base),
            "model": dict(model),
            "config": config.to_dict(),
            "output_dir": str(Path(output_dir).resolve()),
            "checkpoints_dir": str(Path(checkpoints_dir).resolve()),
            "mlflow_run_id": mlflow_run_id,
        }
        (folder / SPEC_NAME).write_text(json.dumps(spec))
        run_on_processes(processes, config.mixed_precision, __name__, folder / SPEC_NAME,
                         f"training failed; the checkpoints written so far stay in {checkpoints_dir} and the next "
                         "run resumes from them")
        result = json.loads((folder / RESULT_NAME).read_text())
    counts = result.pop("parameter_counts")
    result["weights_dir"] = Path(result["weights_dir"])
    result["resumed_from"] = Path(result["resumed_from"]) if result["resumed_from"] else None
    return TrainResult(**result), counts


def run_process(spec_path: Path) -> None:
    """What each launched process runs; the main process writes ``result.json`` beside the spec."""
    from lamp.models import LAMPConfig, LAMPVideoUNet
    from lamp.training.loop import train_motion
    from lamp.training.setup import base_noise_schedule

    spec = json.loads(spec_path.read_text())
    folder = spec_path.parent
    config = TrainConfig.from_dict(spec["config"])
    video_base = PretrainedModel(**spec["video_base"])
    scheduler, scaling_factor = base_noise_schedule(video_base)
    video_unet = LAMPVideoUNet.from_pretrained(video_base.location, LAMPConfig.from_dict(spec["model"]),
                                               video_base.revision, seed=config.seed)
    # accelerate's state exists only once train_motion has made its Accelerator, after the callbacks must be
    main_process = is_main_process()
    callbacks = []
    if main_process and spec["mlflow_run_id"]:
        from lamp.tracking import MlflowStepLogger

        callbacks.append(MlflowStepLogger(spec["mlflow_run_id"]))
    result = train_motion(
        video_unet,
        load_file(folder / "latents.safetensors"),
        load_file(folder / "text_embeddings.safetensors"),
        scheduler,
        scaling_factor,
        config,
        spec["output_dir"],
        callbacks,
        spec["checkpoints_dir"],
    )
    for callback in callbacks:
        callback.flush()
    if main_process:
        values = asdict(result)
        values["weights_dir"] = str(values["weights_dir"])
        values["resumed_from"] = str(values["resumed_from"]) if values["resumed_from"] else None
        values["parameter_counts"] = asdict(video_unet.parameter_counts())
        (folder / RESULT_NAME).write_text(json.dumps(values))


if __name__ == "__main__":
    run_process(Path(sys.argv[1]))
