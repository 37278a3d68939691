"""One motion's training on several processes through ``accelerate launch`` (``train.processes``).

The ``train`` node stays one process: it holds the Kedro session, the MLflow run and the motion's
lock, and saves the catalog outputs. With ``train.processes: N`` > 1 it writes what the training
reads into a folder (a JSON spec, the latents and text embeddings as safetensors), starts
``accelerate launch`` of this module on N processes, one per GPU (on a machine without one, N CPU
processes over gloo), and reads back the main process's result. Running the whole Kedro session
in every process, as ``accelerate launch -m kedro run`` would, has every process save every output.

Each process runs :func:`~lamp.training.loop.train_motion`: every process draws the whole global
batch from the one seeded generator and trains on its share, DDP averages the gradients, and only
the main process writes checkpoints, the weights and MLflow step metrics, so a resumed or repeated
run continues as one process would with N clips a step.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors.torch import load_file, save_file

from lamp.profiles import PretrainedModel
from lamp.training.config import TrainConfig
from lamp.training.loop import TrainResult

SPEC_NAME = "spec.json"
RESULT_NAME = "result.json"


def launch_command(processes: int, mixed_precision: str, program: list[str]) -> list[str]:
    """``accelerate launch`` of ``program`` (``["-m", module, ...]`` or a script and its arguments) on
    ``processes`` processes through torch.distributed's launcher; see :func:`launch_environment`."""
    return [
        sys.executable, "-m", "accelerate.commands.launch",
        "--multi_gpu", "--num_processes", str(processes), "--num_machines", "1",
        "--main_process_port", str(free_port()),  # not the fixed default: two launches on one machine would meet there
        "--mixed_precision", mixed_precision, "--dynamo_backend", "no",
        *program,
    ]


def free_port() -> int:
    """A TCP port that nothing on this machine listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_environment() -> dict[str, str]:
    """This process's environment, with gloo CPU processes where there is no GPU (accelerate's own
    ``--cpu`` launches one process only)."""
    env = dict(os.environ)
    if not torch.cuda.is_available():
        env["ACCELERATE_USE_CPU"] = "true"
    return env


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
        command = launch_command(processes, config.mixed_precision, ["-m", __name__, str(folder / SPEC_NAME)])
        completed = subprocess.run(command, env=launch_environment())
        if completed.returncode != 0:
            raise RuntimeError(
                f"training on {processes} processes failed (exit status {completed.returncode}; their output is "
                f"above); the checkpoints written so far stay in {checkpoints_dir} and the next run resumes from them"
            )
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
    # torch.distributed's launcher numbers the processes; accelerate's state exists only once
    # train_motion has made its Accelerator, after the callbacks must be
    main_process = int(os.environ.get("RANK", "0")) == 0
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
