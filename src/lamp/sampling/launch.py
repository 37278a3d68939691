"""The evaluation set made on several processes through ``accelerate launch`` (``generate.processes``; :mod:`lamp.launch`).

The ``generate`` node writes the prompts, the motion models' folders, the settings and every first frame
(PNG, as the catalog holds them) into a folder and runs this module on N processes. Each process takes its
share of the prompts with ``PartialState.split_between_processes`` and makes each of its videos exactly as one
process would (:func:`~lamp.sampling.evaluation_set.evaluation_videos`: the video's own seed, its own frame 1),
writing its frames as uint8 safetensors; the node reads them back in the prompts' order, so the MP4s, GIFs and
index it saves are those of a one-process run, byte for byte (on a CPU, where results do not depend on the
device; a test holds it).
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import pandas as pd
import PIL.Image
import torch
from safetensors.torch import load_file, save_file

from lamp.launch import process_state, run_on_processes
from lamp.models.files import MotionModel
from lamp.profiles import PretrainedModel
from lamp.sampling.evaluation_set import DTYPES, evaluation_videos, rows_by_motion
from lamp.sampling.settings import GenerationSettings

SPEC_NAME = "spec.json"


def videos_on_processes(
    processes: int,
    prompts: pd.DataFrame,
    first_frames: Mapping[str, Callable[[], PIL.Image.Image]],
    models: Mapping[str, MotionModel],
    video_base: PretrainedModel,
    settings: GenerationSettings,
    mixed_precision: str,
) -> Iterator[tuple[Any, np.ndarray, int, float]]:
    """:func:`~lamp.sampling.evaluation_set.evaluation_videos`, made by ``processes`` processes; yielded, in its
    order (motion by motion), once all are made."""
    with tempfile.TemporaryDirectory(prefix="lamp-generate-") as folder:
        folder = Path(folder)
        (folder / "first_frames").mkdir()
        for video_id in prompts.video_id:
            first_frames[video_id]().save(folder / "first_frames" / f"{video_id}.png")
        spec = {
            "prompts": prompts[["video_id", "motion", "prompt"]].to_dict("records"),
            "models": {motion: str(Path(models[motion].directory).resolve()) for motion in dict.fromkeys(prompts.motion)},
            "video_base": asdict(video_base),
            "settings": asdict(settings),
            "mixed_precision": mixed_precision,
        }
        (folder / SPEC_NAME).write_text(json.dumps(spec))
        run_on_processes(processes, mixed_precision, __name__, folder / SPEC_NAME, "generating the evaluation set failed")
        for row in (row for rows in rows_by_motion(prompts).values() for row in rows):
            made = json.loads((folder / "videos" / f"{row.video_id}.json").read_text())
            frames = load_file(folder / "videos" / f"{row.video_id}.safetensors")["frames"].numpy()
            yield row, frames, made["seed"], made["seconds"]


def run_process(spec_path: Path) -> None:
    """What each launched process runs: its share of the prompts, each video's frames and seed written beside the spec."""
    spec = json.loads(spec_path.read_text())
    folder = spec_path.parent
    out = folder / "videos"
    out.mkdir(exist_ok=True)
    state = process_state()
    with state.split_between_processes(spec["prompts"]) as mine:
        prompts = pd.DataFrame(mine, columns=["video_id", "motion", "prompt"])
        frames_of = {v: (lambda v=v: PIL.Image.open(folder / "first_frames" / f"{v}.png")) for v in prompts.video_id}
        models = {motion: MotionModel(Path(directory)) for motion, directory in spec["models"].items()}
        videos = evaluation_videos(prompts, frames_of, models, PretrainedModel(**spec["video_base"]),
                                   GenerationSettings.from_dict(spec["settings"]), state.device,
                                   DTYPES[spec["mixed_precision"]])
        for row, frames, seed, seconds in videos:
            save_file({"frames": torch.from_numpy(np.ascontiguousarray(frames))}, out / f"{row.video_id}.safetensors")
            (out / f"{row.video_id}.json").write_text(json.dumps({"seed": seed, "seconds": seconds}))


if __name__ == "__main__":
    run_process(Path(sys.argv[1]))
