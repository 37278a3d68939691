"""One process of a multi-process training run, for tests/training/test_multiprocess.py.

    accelerate launch --cpu --num_processes 2 tests/training/ddp_worker.py OUT [KEY=VALUE ...]

Trains the tiny model of conftest.py on its moving-blob latents with ``small_config`` (KEY=VALUE
overrides, JSON values) into OUT/model (checkpoints in OUT/checkpoints), and writes
OUT/rank<r>.json: the SHA-256 of that process's trainable weights after every optimizer step.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import build_model, moving_blob_latents, noise_scheduler, prompt_embeddings, small_config  # noqa: E402

from lamp.training import train_motion  # noqa: E402


def weights_digest(model: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, param in model.trainable_named_parameters():
        digest.update(name.encode())
        digest.update(param.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


def main() -> None:
    out = Path(sys.argv[1])
    overrides = {key: json.loads(value) for key, value in (arg.split("=", 1) for arg in sys.argv[2:])}
    torch.set_num_threads(1)
    model = build_model()
    digests = []
    step = torch.optim.AdamW.step

    def step_and_record(self, *args, **kwargs):  # every process, unlike the training callbacks
        result = step(self, *args, **kwargs)
        digests.append(weights_digest(model))
        return result

    torch.optim.AdamW.step = step_and_record
    config = small_config(random_flip=False, **overrides)
    train_motion(model, moving_blob_latents(flip=False), prompt_embeddings(), noise_scheduler(), 0.18215,
                 config, out / "model", checkpoints_dir=out / "checkpoints")
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    (out / f"rank{rank}.json").write_text(json.dumps(digests))


if __name__ == "__main__":
    main()
