"""The GPU benchmark suite (issue 19): the paper's sizes with random weights, no download, one run.

    python benchmarks/gpu_suite.py --out DIR              # a GPU: about 5 minutes on an H200
    python benchmarks/gpu_suite.py --tiny --out DIR       # a CPU: tiny shapes, to check the script
    python benchmarks/gpu_suite.py --mlflow DIR/gpu_suite.json   # log a result file to MLflow

Cases, each in the architecture of the paper's model (SD v1.4 inflated by LAMP, SD-XL base):

- ``train_step``: one optimizer step on a 1 x 16 x 320 x 512 clip (``train_step.measure``), in fp16
  and bf16, SDPA and xformers, gradient checkpointing on and off, AdamW and 8-bit AdamW: seconds per
  step, peak GPU memory, achieved TFLOP/s.
- ``train_motion``: the ``train`` stage's own loop (:func:`lamp.training.train_motion`: accelerate,
  its scaler and checkpointing) at the full profile's settings (fp16, gradient checkpointing).
- ``generate_video``: one evaluation video, 16 x 320 x 512, 50 DDIM steps with guidance, fp16
  (``generate_video.measure``); x 48 is the evaluation set's UNet time.
- ``first_frame``: SD-XL base drawing frame 1 at 1024 x 640, 50 steps, guidance 5, fp16 (the full
  profile's ``generate.first_frame``).

A case that fails (xformers or bitsandbytes not installed, out of memory) is recorded with its error
and the rest still run. ``gpu_suite.json`` and ``gpu_suite.md`` (the README's table) are rewritten
after every case, so a run cut short keeps what it measured. The machine has no MLflow: ``--mlflow``
logs a result file afterwards, one run per case in experiment ``lamp-benchmarks``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import torch

from lamp.io import atomic_path

import generate_video  # benchmarks/: this script's folder is on sys.path
import train_step
from report import log_run, use_benchmark_experiment

#: The paper's figures, set beside ours (Sec. 4.1, one A100).
PAPER = "about 15 GB of GPU memory to train, 6 GB to sample (A100)"
EVALUATION_VIDEOS = 48


def training_cases(tiny: bool) -> list[dict[str, Any]]:
    """``train_step.measure`` arguments: the full profile's setting first, then one change at a time."""
    shape = dict(config="tiny", frames=4, height=32, width=32, steps=2) if tiny else \
        dict(config="sd14", frames=16, height=320, width=512, steps=5)
    full = dict(precision="fp16", checkpointing=True, attention="sdpa", optimizer="adamw")
    changes = [
        {},
        {"checkpointing": False},
        {"precision": "bf16"},
        {"precision": "bf16", "checkpointing": False},
        {"attention": "xformers", "checkpointing": False},
        {"optimizer": "adamw8bit"},
    ]
    return [{**shape, **full, **change} for change in changes]


def described(case: dict[str, Any]) -> dict[str, Any]:
    """A training case as its result names it (what a failed case's row shows)."""
    return {"benchmark": "train_step", "shape": f"1x{case['frames']}x{case['height']}x{case['width']}",
            "precision": case["precision"], "attention": case["attention"],
            "gradient_checkpointing": case["checkpointing"], "optimizer": case["optimizer"]}


def train_motion_case(tiny: bool, device: str) -> dict[str, Any]:
    """Seconds per step of ``lamp.training.train_motion`` itself, on random latents."""
    import tempfile

    from diffusers import DDPMScheduler, UNet2DConditionModel

    from lamp.models import LAMPVideoUNet
    from lamp.training import TrainingCallback, train_motion
    from lamp.training.config import TrainConfig
    from lamp.training.loop import peak_memory

    unet_config, text_dim = train_step.CONFIGS["tiny" if tiny else "sd14"]
    frames, height, width, steps = (4, 32, 32, 3) if tiny else (16, 320, 512, 6)

    class StepTimes(TrainingCallback):
        seconds: list[float] = []

        def on_step(self, step: int, loss: float, lr: float, seconds: float) -> None:
            self.seconds.append(seconds)

    torch.manual_seed(0)
    with torch.device(device):
        model = LAMPVideoUNet(UNet2DConditionModel(**unet_config))
    latents = {f"v{i}.{part}": torch.randn(frames + 2, 4, height // 8, width // 8) for i in range(2)
               for part in ("mean", "logvar")}
    latents = {key: value.clamp(max=-10.0) if key.endswith("logvar") else value for key, value in latents.items()}
    config = TrainConfig(max_train_steps=steps, checkpointing_steps=steps * 10, n_sample_frames=frames,
                         random_flip=False, mixed_precision="no" if device == "cpu" else "fp16",
                         gradient_checkpointing=True)
    scheduler = DDPMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)
    times = StepTimes()
    with tempfile.TemporaryDirectory() as out:
        result = train_motion(model, latents, {"prompt": torch.randn(1, 77, text_dim)}, scheduler, 0.18215,
                              config, out, callbacks=[times])
    memory, source = peak_memory(torch.device(device))
    return {
        "benchmark": "train_motion",
        "shape": f"1x{frames}x{height}x{width}",
        "precision": config.mixed_precision,
        "gradient_checkpointing": True,
        "attention": "sdpa",
        "optimizer": "adamw",
        "seconds_per_step": statistics.median(times.seconds[2:]),
        "peak_memory_gib": result.peak_memory_bytes / 2**30,
        "peak_memory_source": source,
        "process_peak_memory_gib": memory / 2**30,
    }


def generate_case(tiny: bool, device: str) -> dict[str, Any]:
    shape = dict(config="mini", frames=4, height=32, width=32, steps=2, videos=1) if tiny else \
        dict(config="sd14", frames=16, height=320, width=512, steps=50, videos=2)
    result = generate_video.measure(**shape, precision="fp32" if device == "cpu" else "fp16", device=device)
    result["evaluation_set_minutes"] = result["seconds_per_video"] * EVALUATION_VIDEOS / 60
    return result


def first_frame_case(tiny: bool, device: str) -> dict[str, Any]:
    """SD-XL base at the full profile's first-frame settings (the rehearsal's tiny SD-XL with ``tiny``)."""
    from diffusers import EulerDiscreteScheduler

    from lamp.rehearsal import PAPER_SD_XL, TINY_SD_XL, sd_xl_pipeline
    from lamp.training.loop import peak_memory

    height, width, steps, images = (64, 64, 2, 1) if tiny else (640, 1024, 50, 2)
    dtype = torch.float32 if device == "cpu" else torch.float16
    torch.manual_seed(0)
    with torch.device(device):
        pipe = sd_xl_pipeline(TINY_SD_XL if tiny else PAPER_SD_XL)
    # the scheduler again, off the GPU: its numpy arithmetic needs its tables on the CPU
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe = pipe.to(device, dtype)
    pipe.set_progress_bar_config(disable=True)
    parameters = sum(p.numel() for p in pipe.unet.parameters())

    def draw(seed: int, num_steps: int) -> float:
        start = time.perf_counter()
        pipe("a horse runs on the beach", height=height, width=width, num_inference_steps=num_steps,
             guidance_scale=5.0, generator=torch.Generator().manual_seed(seed))
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    draw(0, 2)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    seconds = statistics.median(draw(seed, steps) for seed in range(1, images + 1))
    memory, source = peak_memory(torch.device(device))
    return {
        "benchmark": "first_frame",
        "config": "tiny-sd-xl" if tiny else "sd-xl",
        "shape": f"{height}x{width}",
        "steps": steps,
        "precision": str(dtype).removeprefix("torch."),
        "unet_parameters": parameters,
        "seconds_per_image": seconds,
        "evaluation_set_minutes": seconds * EVALUATION_VIDEOS / 60,
        "peak_memory_gib": memory / 2**30,
        "peak_memory_source": source,
    }


def run_case(case: dict[str, Any], measure: Callable[[], dict[str, Any]], device: str) -> dict[str, Any]:
    """``measure()``, or ``case`` with the error it raised; GPU memory is freed for the next case."""
    started = time.perf_counter()
    try:
        result = measure()
    except Exception as error:  # noqa: BLE001 - one failing case must not cost the others
        result = {**case, "error": f"{type(error).__name__}: {error}"[:500], "traceback": traceback.format_exc()[-2000:]}
    result["wall_seconds"] = time.perf_counter() - started
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
    print(json.dumps(result), flush=True)
    return result


def run_suite(out: Path, tiny: bool, only: list[str] | None = None) -> list[dict[str, Any]]:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out.mkdir(parents=True, exist_ok=True)
    cases: list[tuple[dict[str, Any], Callable[[], dict[str, Any]]]] = [
        (described(case), lambda case=case: train_step.measure(**case, device=device))
        for case in training_cases(tiny)
    ]
    cases += [
        ({"benchmark": "train_motion"}, lambda: train_motion_case(tiny, device)),
        ({"benchmark": "generate_video"}, lambda: generate_case(tiny, device)),
        ({"benchmark": "first_frame"}, lambda: first_frame_case(tiny, device)),
    ]
    results = []
    for case, measure in cases:
        if only and case["benchmark"] not in only:
            continue
        results.append(run_case(case, measure, device))
        write_results(out, results, machine(device))
    return results


def machine(device: str) -> dict[str, Any]:
    import diffusers

    facts = {"torch": torch.__version__, "diffusers": diffusers.__version__, "device": device,
             "date": time.strftime("%Y-%m-%d")}
    if device == "cuda":
        facts["gpu"] = torch.cuda.get_device_name()
        facts["gpu_memory_gib"] = torch.cuda.get_device_properties(0).total_memory / 2**30
    else:
        facts["threads"] = torch.get_num_threads()
    return facts


def write_results(out: Path, results: list[dict[str, Any]], facts: dict[str, Any]) -> None:
    """``gpu_suite.json`` and ``gpu_suite.md``, each written whole under a temporary name first."""
    for name, text in (("gpu_suite.json", json.dumps({"machine": facts, "results": results}, indent=1)),
                       ("gpu_suite.md", markdown_table(results, facts))):
        with atomic_path(out / name) as file:
            file.write_text(text)


def markdown_table(results: list[dict[str, Any]], facts: dict[str, Any]) -> str:
    """The README's table: one row per case."""
    where = facts.get("gpu", f"CPU, {facts.get('threads')} threads")
    lines = [
        f"{where}, torch {facts['torch']}, diffusers {facts['diffusers']}, {facts['date']}; the paper: {PAPER}.",
        "",
        "| case | shape | precision | attention | checkpointing | optimizer | s / step, video or image | peak memory GiB | TFLOP/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        checkpointing = result.get("gradient_checkpointing")
        settings = (f"| {result['benchmark']} | {result.get('shape', '')} | {result.get('precision', '')} "
                    f"| {result.get('attention', '')} | {'' if checkpointing is None else ('on' if checkpointing else 'off')} "
                    f"| {result.get('optimizer', '')} ")
        if "error" in result:
            lines.append(settings + f"| failed: {result['error'].splitlines()[0][:120]} | | |")
            continue
        seconds = next(result[key] for key in ("seconds_per_step", "seconds_per_video", "seconds_per_image") if key in result)
        extra = f" (48: {result['evaluation_set_minutes']:.1f} min)" if "evaluation_set_minutes" in result else ""
        tflops = f"{result['tflops']:.3g}" if "tflops" in result else ""
        lines.append(settings + f"| {seconds:.3g}{extra} | {result['peak_memory_gib']:.2f} | {tflops} |")
    return "\n".join(lines) + "\n"


def log_to_mlflow(path: Path) -> None:
    """One MLflow run per case of a result file, the machine's facts beside each case's values."""
    suite = json.loads(path.read_text())
    use_benchmark_experiment()
    for result in suite["results"]:
        values = {**{f"machine.{k}": v for k, v in suite["machine"].items()}, **result}
        values.pop("traceback", None)
        log_run(values, f"gpu_suite-{result['benchmark']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="folder for gpu_suite.json and gpu_suite.md")
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (a CPU check of the script)")
    parser.add_argument("--only", nargs="+", metavar="CASE", help="run only these cases (e.g. first_frame)")
    parser.add_argument("--mlflow", type=Path, metavar="JSON", help="log this result file to MLflow instead of running")
    args = parser.parse_args(argv)
    if args.mlflow:
        log_to_mlflow(args.mlflow)
    elif args.out:
        run_suite(args.out, args.tiny, args.only)
    else:
        parser.error("give --out DIR (run the suite) or --mlflow FILE (log a result file)")


if __name__ == "__main__":
    main()
