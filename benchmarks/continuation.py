"""Does a tuned motion model continue its own training clips? (the first rung of issue 16's ladder)

    python benchmarks/continuation.py helicopter                          # the project's settings
    python benchmarks/continuation.py helicopter --set learning_rate=1e-4 --set timestep_range=[0,1]

Trains one motion of a finished mini run (its cached latents, the profile's base model and its
``train`` settings, each ``--set`` overriding one) into a scratch folder, then animates the first
frame of each of the motion's first ``--videos`` training videos with the video's own caption and
compares frames 2..l with the real ones: whether the project's motion classifier (fitted on every
motion's training clips, as ``evaluate`` fits it) recognises the motion, and the PSNR of frames 2..l
beside that of a still video (frame 1 repeated). A model that continues its clips is recognised and
beats the still. It also reports how much of frame 1's colour frames 2..l keep (``evaluate``'s
``frame1_colour``) and frame 2 alone (where the mini videos lose frame 1: ``frame_one_jump.py``).
Writes ``sheet.png`` (real rows over generated rows) and prints one JSON line; ``--mlflow`` also
logs it (experiment ``lamp-benchmarks``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import PIL.Image
import torch
import yaml
from safetensors.numpy import load_file as load_numpy
from safetensors.torch import load_file

from lamp.config_loader import load_params_file
from lamp.data.latents import latent_key
from lamp.metrics.recognition import MotionClassifier
from lamp.models import LAMPConfig, LAMPVideoUNet
from lamp.profiles import Profile
from lamp.sampling.pipeline import LAMPPipeline
from lamp.training import train_motion
from lamp.training.config import train_config
from lamp.training.setup import base_noise_schedule

from frame_one_jump import mean_statistics  # benchmarks/: this script's folder is on sys.path
from report import report


def continuation(motion: str, project: Path, overrides: dict, videos: int, out: Path) -> dict:
    params = load_params_file(project / "params.yaml")
    profile, data = Profile.from_active(params["active_profile"]).in_project(project), dict(params["data"])
    data["sample_frame_rate"] = overrides.pop("sample_frame_rate", data["sample_frame_rate"])
    config = train_config(profile, data, {**params["train"], **overrides, "checkpointing_steps": 10**6})
    root = project / "data" / profile.name
    latents = load_file(root / "03_primary" / motion / "latents.safetensors")
    texts = load_file(root / "03_primary" / motion / "text_embeddings.safetensors")
    scheduler, scaling_factor = base_noise_schedule(profile.models()["video_base"])
    unet = LAMPVideoUNet.from_pretrained(profile.video_base_model, LAMPConfig.from_dict(params["model"]), seed=config.seed)
    started = time.perf_counter()
    result = train_motion(unet, latents, texts, scheduler, scaling_factor, config, out / "model", [], out / "checkpoints")
    seconds = time.perf_counter() - started

    clips = {
        folder.name: load_numpy(folder / "clips.safetensors")
        for folder in sorted((root / "02_intermediate").iterdir())
        if (folder / "clips.safetensors").is_file()
    }
    n, stride = config.n_sample_frames, config.sample_frame_rate
    classifier = MotionClassifier.fit(clips, n, stride)
    prompt = json.loads((root / "02_intermediate" / motion / "summary.json").read_text())["prompt"]
    pipe = LAMPPipeline.around(unet.eval(), profile.video_base_model)
    generator = torch.Generator().manual_seed(0)
    recognised, psnr, psnr_still, made_videos, rows = [], [], [], [], []
    for video in sorted(clips[motion])[:videos]:
        real = clips[motion][video][: (n - 1) * stride + 1 : stride]
        first = latents[latent_key(video, False, "mean")][0] * scaling_factor
        made = pipe(prompt, first_frame=first, num_frames=n, height=profile.height, width=profile.width,
                    num_inference_steps=params["generate"]["num_inference_steps"],
                    guidance_scale=params["generate"]["guidance_scale"], generator=generator).frames
        recognised.append(classifier.predict(made))
        made_videos.append(made)
        psnr.append(frames_psnr(made[1:], real[1:]))
        psnr_still.append(frames_psnr(np.repeat(real[:1], n - 1, axis=0), real[1:]))
        rows.append(np.concatenate([np.concatenate(list(real), axis=1), np.concatenate(list(made), axis=1)]))
    colour = mean_statistics(made_videos)
    sheet = np.concatenate(rows)
    PIL.Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), PIL.Image.NEAREST).save(out / "sheet.png")
    return {
        "motion": motion,
        "overrides": overrides,
        "train_seconds": round(seconds, 1),
        "final_loss": float(np.mean(result.losses[-20:])),
        "recognised": sum(r == motion for r in recognised),
        "videos": len(recognised),
        "recognised_as": recognised,
        "psnr_frames_2_to_l": round(float(np.mean(psnr)), 2),
        "psnr_still": round(float(np.mean(psnr_still)), 2),
        "frame1_colour": round(colour["whole"], 1),
        "frame1_colour_at_frame_2": round(colour["jump"], 1),
        "sheet": str(out / "sheet.png"),
    }


def frames_psnr(made: np.ndarray, real: np.ndarray) -> float:
    mse = np.mean((made.astype(np.float64) - real.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("motion")
    parser.add_argument("--project", type=Path, default=Path("."), help="a project whose mini `dvc repro` has run")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a train setting (or sample_frame_rate), the value in YAML")
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--mlflow", action="store_true")
    args = parser.parse_args()
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = yaml.safe_load(value)
    out = args.out or Path(tempfile.mkdtemp(prefix=f"continuation-{args.motion}-"))
    out.mkdir(parents=True, exist_ok=True)
    report(continuation(args.motion, args.project.resolve(), overrides, args.videos, out), "continuation", args.mlflow)


if __name__ == "__main__":
    main()
