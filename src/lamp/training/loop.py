"""The LAMP training loop: AdamW on the motion layers of a video UNet, resumable at every checkpoint."""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import torch
from accelerate import Accelerator
from diffusers import SchedulerMixin
from diffusers.optimization import get_scheduler
from tqdm.auto import tqdm

from lamp.models import LAMPVideoUNet, save_motion_weights
from lamp.training.checkpoint import (
    TrainingState,
    latest_checkpoint,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from lamp.training.config import TrainConfig
from lamp.training.objective import TrainingExample, example_loss, sample_example, trainable_videos

CHECKPOINTS_DIR = "checkpoints"


class NonFiniteLossError(FloatingPointError):
    """A training step's loss was NaN or infinite; no checkpoint was written for that step."""

    def __init__(self, step: int, loss: float, example: TrainingExample, last_checkpoint: Path | None) -> None:
        self.step = step
        self.video = example.clip.video
        self.timestep = int(example.timesteps[0])
        self.last_checkpoint = last_checkpoint
        if last_checkpoint:
            kept = f"the last good checkpoint is {last_checkpoint}"
        else:
            kept = "no checkpoint was written yet"
        super().__init__(
            f"non-finite loss ({loss}) at step {step}, on {example.describe()}; "
            f"{kept}. Check the cached latents of {self.video!r} and the learning rate."
        )


class TrainingCallback:
    """Hooks into :func:`train_motion` (e.g. MLflow logging); override the ones you need.

    They run on the main process only. An exception raised by a hook stops training; the
    checkpoints written so far stay and the next call resumes from the newest.
    """

    def on_step(self, step: int, loss: float, lr: float, seconds: float) -> None:
        """After optimizer step ``step`` (1-based); ``loss`` is averaged over processes."""

    def on_checkpoint(self, path: Path, step: int) -> None:
        """After the checkpoint of ``step`` was written to ``path``."""


@dataclass
class TrainResult:
    """What one call of :func:`train_motion` did.

    Attributes:
        weights_dir: the folder of the final motion weights (``save_motion_weights``).
        first_step: the step this call started from (that of the checkpoint it resumed, or 0).
        last_step: the step it ended at (``max_train_steps``).
        losses: the loss of every step this call ran, in order.
        seconds: wall time of this call's steps.
        peak_memory_bytes: ``torch.cuda.max_memory_allocated`` on a GPU, the process's max RSS on the CPU.
        peak_memory_source: ``"cuda_max_memory_allocated"`` or ``"max_rss"``.
        resumed_from: the checkpoint this call resumed from, if any.
    """

    weights_dir: Path
    first_step: int
    last_step: int
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    peak_memory_bytes: int = 0
    peak_memory_source: str = "max_rss"
    resumed_from: Path | None = None


def train_motion(
    model: LAMPVideoUNet,
    latents: Mapping[str, torch.Tensor],
    text_embeddings: Mapping[str, torch.Tensor],
    scheduler: SchedulerMixin,
    scaling_factor: float,
    config: TrainConfig,
    output_dir: str | os.PathLike,
    callbacks: Sequence[TrainingCallback] | None = None,
    checkpoints_dir: str | os.PathLike | None = None,
) -> TrainResult:
    """Train the motion layers of ``model`` on cached latents (paper Eq. 4); writes the weights to ``output_dir``.

    Args:
        model: the video UNet; its trainable parameters are trained in place.
        latents: cached posterior mean/log-variance per video (see :mod:`lamp.data.latents`).
        text_embeddings: ``{"prompt": (1, tokens, dim), ...}``; the motion prompt conditions every step.
        scheduler: the base model's noise scheduler (its ``num_train_timesteps``, ``prediction_type``).
        scaling_factor: the VAE's latent scaling factor (0.18215 for SD v1.x).
        config: the training settings.
        output_dir: gets ``checkpoints/checkpoint-<step>/`` and, at the end, the motion weights.
        callbacks: hooks for logging (see :class:`TrainingCallback`).
        checkpoints_dir: where checkpoints go (default ``output_dir/checkpoints``); apart from the
            weights, so that a pipeline can version the weights without the optimizer states.

    A call resumes from the newest checkpoint in ``output_dir/checkpoints`` when there is one, and
    gives bit-identical weights to an uninterrupted run on the same device. Every process of a
    multi-GPU run draws the whole global batch from the same generator and keeps its own share, so
    one generator state resumes them all.
    """
    callbacks = list(callbacks or [])
    output_dir = Path(output_dir)
    checkpoints_dir = Path(checkpoints_dir) if checkpoints_dir else output_dir / CHECKPOINTS_DIR
    videos = trainable_videos(latents, config)
    accelerator = Accelerator(mixed_precision=config.mixed_precision)
    if config.gradient_checkpointing:
        model.enable_gradient_checkpointing()
    model.train()

    parameters = [p for _, p in model.trainable_named_parameters()]
    optimizer = torch.optim.AdamW(
        parameters,
        lr=config.learning_rate,
        betas=(config.adam_beta1, config.adam_beta2),
        weight_decay=config.adam_weight_decay,
        eps=config.adam_epsilon,
    )
    # accelerate steps a prepared scheduler once per process per step, hence the scaling (as in
    # diffusers' training scripts).
    lr_scheduler = get_scheduler(
        config.lr_scheduler,
        optimizer,
        num_warmup_steps=config.lr_warmup_steps * accelerator.num_processes,
        num_training_steps=config.max_train_steps * accelerator.num_processes,
    )
    prepared_model, optimizer, lr_scheduler = accelerator.prepare(model, optimizer, lr_scheduler)
    model.set_attention_backend("auto")  # xformers where it runs on the device accelerate chose
    generator = torch.Generator().manual_seed(config.seed)
    state = TrainingState(model, optimizer, lr_scheduler, generator, accelerator.scaler)
    resumed_from = latest_checkpoint(checkpoints_dir)
    first_step = load_checkpoint(resumed_from, state, config) if resumed_from else 0
    last_checkpoint = resumed_from

    encoder_hidden_states = text_embeddings["prompt"].to(accelerator.device)
    last_step = max(first_step, config.max_train_steps)
    result = TrainResult(output_dir, first_step, last_step, resumed_from=resumed_from)
    if accelerator.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(accelerator.device)
    progress = tqdm(
        total=config.max_train_steps,
        initial=first_step,
        desc="train motion",
        disable=not accelerator.is_local_main_process,
    )
    started = time.perf_counter()
    try:
        for step in range(first_step + 1, config.max_train_steps + 1):
            step_started = time.perf_counter()
            step_losses = []
            for clip_index in range(config.gradient_accumulation_steps):
                examples = [
                    sample_example(latents, videos, config, scheduler, scaling_factor, generator)
                    for _ in range(accelerator.num_processes)
                ]
                example = examples[accelerator.process_index].to(accelerator.device)
                last_clip = clip_index == config.gradient_accumulation_steps - 1
                # Processes average their gradients once, on the step's last clip.
                with contextlib.nullcontext() if last_clip else accelerator.no_sync(prepared_model):
                    loss = example_loss(
                        prepared_model, example, encoder_hidden_states, scheduler, config.first_frame_conditioning
                    )
                    # Gathered before the backward pass so that every process sees a bad loss and
                    # stops together, and no update is made from it.
                    losses = accelerator.gather(loss.detach().reshape(1))
                    finite = torch.isfinite(losses)
                    if not finite.all():
                        bad = int((~finite).nonzero()[0])
                        raise NonFiniteLossError(step, float(losses[bad]), examples[bad], last_checkpoint)
                    accelerator.backward(loss / config.gradient_accumulation_steps)
                step_losses.append(losses)
            losses = torch.cat(step_losses)
            accelerator.clip_grad_norm_(parameters, config.max_grad_norm)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad(set_to_none=True)

            step_loss = float(losses.mean())
            seconds = time.perf_counter() - step_started
            lr = lr_scheduler.get_last_lr()[0]
            result.losses.append(step_loss)
            progress.set_postfix(loss=f"{step_loss:.4f}", step_s=f"{seconds:.2f}", refresh=False)
            progress.update(1)
            if accelerator.is_main_process:
                for callback in callbacks:
                    callback.on_step(step, step_loss, lr, seconds)
                if step % config.checkpointing_steps == 0:
                    last_checkpoint = save_checkpoint(checkpoints_dir, step, state, config)
                    prune_checkpoints(checkpoints_dir, config.checkpoints_total_limit)
                    for callback in callbacks:
                        callback.on_checkpoint(last_checkpoint, step)
        result.seconds = time.perf_counter() - started
        result.peak_memory_bytes, result.peak_memory_source = peak_memory(accelerator.device)
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            save_motion_weights(model, output_dir)
    finally:
        progress.close()
        # Give the caller its model back without accelerate's autocast wrapper on forward.
        accelerator.unwrap_model(prepared_model, keep_fp32_wrapper=False)
    return result


def peak_memory(device: torch.device) -> tuple[int, str]:
    """Peak memory in bytes and what it measures: allocated GPU memory, or the process's max RSS."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device), "cuda_max_memory_allocated"
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return (max_rss if sys.platform == "darwin" else max_rss * 1024), "max_rss"
