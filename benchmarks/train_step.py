"""Seconds per training step and peak memory of the LAMP video UNet.

    python benchmarks/train_step.py --config sd14 --frames 16 --height 320 --width 512   # a GPU
    python benchmarks/train_step.py --config tiny                                          # CPU

SD v1.4's UNet configuration with random weights (no download), batch 1, the paper's objective
(frame 1 clean, loss on frames 2..l), AdamW (or bitsandbytes' 8-bit AdamW) over the LAMP-trained
parameters, fp32 weights under autocast with a gradient scaler for fp16 (as accelerate trains). The
FLOPs of a step are counted once by ``torch.utils.flop_counter`` (with SDPA attention, whose FLOPs it
knows; with gradient checkpointing the recomputed forward counts too), so ``tflops`` is what the
device achieved. Prints one JSON line; ``--mlflow`` also logs it as an MLflow run (experiment
``lamp-benchmarks``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode
from diffusers import DDPMScheduler, UNet2DConditionModel

from lamp.models import SD14_UNET_CONFIG, LAMPVideoUNet, tiny_unet_config
from lamp.training.loop import peak_memory
from lamp.training.objective import motion_loss, noisy_latents, prediction_target

from report import report  # benchmarks/report.py: this script's folder is on sys.path

CONFIGS = {"sd14": (SD14_UNET_CONFIG, 768), "tiny": (tiny_unet_config(), 32)}


def measure(
    config: str,
    frames: int,
    height: int,
    width: int,
    steps: int,
    precision: str,
    checkpointing: bool,
    device: str,
    attention: str = "sdpa",
    optimizer: str = "adamw",
) -> dict:
    unet_config, text_dim = CONFIGS[config]
    torch.manual_seed(0)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    with torch.device(device):  # random init on the GPU: seconds, not a minute of CPU
        model = LAMPVideoUNet(UNet2DConditionModel(**unet_config))
    if checkpointing:
        model.enable_gradient_checkpointing()
    model.train()
    parameters = [p for _, p in model.trainable_named_parameters()]
    if optimizer == "adamw8bit":
        import bitsandbytes

        adam = bitsandbytes.optim.AdamW8bit(parameters, lr=3e-5, weight_decay=1e-2)
    else:
        adam = torch.optim.AdamW(parameters, lr=3e-5, weight_decay=1e-2)
    scaler = torch.amp.GradScaler(device, enabled=precision == "fp16")
    scheduler = DDPMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)
    latents = torch.randn(1, 4, frames, height // 8, width // 8, device=device)
    text = torch.randn(1, 77, text_dim, device=device)

    def step() -> float:
        start = time.perf_counter()
        t = torch.randint(0, 1000, (1,), device=device)
        noise = torch.randn_like(latents)
        with torch.autocast(device_type=device, dtype=dtype, enabled=precision != "fp32"):
            prediction = model(noisy_latents(scheduler, latents, noise, t), t, text)
            loss = motion_loss(prediction.float(), prediction_target(scheduler, latents, noise, t))
        scaler.scale(loss).backward()
        scaler.unscale_(adam)
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        scaler.step(adam)
        scaler.update()
        adam.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    model.set_attention_backend("sdpa")
    with FlopCounterMode(display=False) as counter:
        step()  # also the first warm-up
    model.set_attention_backend(attention)
    step()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    seconds = statistics.median(step() for _ in range(steps))
    memory, source = peak_memory(torch.device(device))
    counts = model.parameter_counts()
    flops = counter.get_total_flops()
    return {
        "benchmark": "train_step",
        "config": config,
        "shape": f"1x{frames}x{height}x{width}",
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
        "precision": precision,
        "attention": attention,
        "optimizer": optimizer,
        "gradient_checkpointing": checkpointing,
        "seconds_per_step": seconds,
        "tflop_per_step": flops / 1e12,
        "tflops": flops / 1e12 / seconds,
        "peak_memory_gib": memory / 2**30,
        "peak_memory_source": source,
        "trainable_parameters": counts.trainable,
        "total_parameters": counts.total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--height", type=int, default=None, help="pixels (default 320 for sd14, 64 for tiny)")
    parser.add_argument("--width", type=int, default=None, help="pixels (default 512 for sd14, 64 for tiny)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--attention", choices=["sdpa", "xformers"], default="sdpa")
    parser.add_argument("--optimizer", choices=["adamw", "adamw8bit"], default="adamw")
    parser.add_argument("--mlflow", action="store_true")
    args = parser.parse_args()
    large = args.config == "sd14"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    result = measure(
        args.config, args.frames, args.height or (320 if large else 64), args.width or (512 if large else 64),
        args.steps, args.precision, args.gradient_checkpointing, device, args.attention, args.optimizer,
    )
    report(result, f"train_step-{args.config}", args.mlflow)

if __name__ == "__main__":
    main()
