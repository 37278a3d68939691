"""Seconds per generated video and peak memory of ``LAMPPipeline``.

    python benchmarks/generate_video.py --config sd14                 # a GPU: 16 x 320 x 512, 50 steps
    python benchmarks/generate_video.py --config mini                 # CPU: the mini profile's model sizes

The SD v1.4 configuration (UNet, VAE and a ViT-L/14-sized CLIP text encoder) with random weights, so
no download; guidance on (two UNet passes per step), shared noise, AdaIN and histogram matching on,
frame-by-frame decoding. ``mini`` is the mini base of params.yaml (``pretrain.base``, what stage
``pretrain@mini`` builds) with random weights. Prints one JSON line;
``--mlflow`` also logs it (experiment ``lamp-benchmarks``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

from lamp.config_loader import load_params_file
from lamp.mini.base_models import build_text_encoder, build_tokenizer, build_unet, build_vae, sd_scheduler
from lamp.mini.settings import MiniBaseConfig
from lamp.models import SD14_UNET_CONFIG, LAMPVideoUNet
from lamp.sampling import LAMPPipeline
from lamp.training.loop import peak_memory

from report import report  # benchmarks/report.py: this script's folder is on sys.path

SD_VAE = {
    "block_out_channels": (128, 256, 512, 512),
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "layers_per_block": 2,
    "latent_channels": 4,
    "sample_size": 512,
    "scaling_factor": 0.18215,
}
SD_TEXT = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
           "max_position_embeddings": 77, "projection_dim": 768}


def random_components(config: str, height: int) -> tuple:
    """VAE, text encoder, tokenizer and image UNet of the ``config`` sizes, random weights."""
    if config == "sd14":
        tokenizer = build_tokenizer(MiniBaseConfig(max_tokens=77))
        vae = AutoencoderKL(**SD_VAE)
        text_encoder = CLIPTextModel(CLIPTextConfig(vocab_size=tokenizer.vocab_size, **SD_TEXT))
        return vae, text_encoder, tokenizer, UNet2DConditionModel(**SD14_UNET_CONFIG)
    mini = MiniBaseConfig.from_dict({**load_params_file(Path("params.yaml"))["pretrain"]["base"], "image_size": height})
    tokenizer = build_tokenizer(mini)
    return build_vae(mini), build_text_encoder(mini, tokenizer), tokenizer, build_unet(mini)


def random_pipeline(config: str, height: int, dtype: torch.dtype, device: str) -> LAMPPipeline:
    """A pipeline of the ``config`` sizes with random weights."""
    torch.manual_seed(0)
    with torch.device(device):  # random init on the GPU: seconds, not a minute of CPU
        vae, text_encoder, tokenizer, unet = random_components(config, height)
        video_unet = LAMPVideoUNet(unet)
    pipe = LAMPPipeline(vae.eval(), text_encoder.eval(), tokenizer, video_unet.eval(),
                        DDIMScheduler.from_config(sd_scheduler().config))
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device=device, dtype=dtype)


def measure(config: str, frames: int, height: int, width: int, steps: int, videos: int, precision: str, device: str) -> dict:
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    pipe = random_pipeline(config, height, dtype, device)
    first_frame = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for seed in range(videos + 1):  # the first video warms up
        start = time.perf_counter()
        pipe("a horse runs on the beach", first_frame=first_frame, num_frames=frames, height=height, width=width,
             num_inference_steps=steps, guidance_scale=12.5, generator=torch.Generator().manual_seed(seed))
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    memory, source = peak_memory(torch.device(device))
    return {
        "benchmark": "generate_video",
        "config": config,
        "shape": f"{frames}x{height}x{width}",
        "steps": steps,
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
        "precision": precision,
        "attention": pipe.unet.set_attention_backend("auto") if device == "cuda" else "sdpa",
        "seconds_per_video": statistics.median(times[1:]),
        "peak_memory_gib": memory / 2**30,
        "peak_memory_source": source,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=["sd14", "mini"], default="mini")
    parser.add_argument("--frames", type=int, default=None, help="default 16 (sd14), 8 (mini)")
    parser.add_argument("--height", type=int, default=None, help="default 320 (sd14), 64 (mini)")
    parser.add_argument("--width", type=int, default=None, help="default 512 (sd14), 64 (mini)")
    parser.add_argument("--steps", type=int, default=None, help="default 50 (sd14), 20 (mini: the mini profile's steps)")
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--precision", choices=["fp32", "fp16", "bf16"], default="fp32")
    parser.add_argument("--mlflow", action="store_true")
    args = parser.parse_args()
    large = args.config == "sd14"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    result = measure(
        args.config, args.frames or (16 if large else 8), args.height or (320 if large else 64),
        args.width or (512 if large else 64), args.steps or (50 if large else 20), args.videos, args.precision, device,
    )
    report(result, f"generate_video-{args.config}", args.mlflow)

if __name__ == "__main__":
    main()
