"""Training on two processes (gloo on the CPU), launched as the train stage launches it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lamp.launch import launch_command, launch_environment

WORKER = Path(__file__).with_name("ddp_worker.py")


def launch(out: Path, processes: int, *overrides: str) -> Path:
    program = [str(WORKER), str(out), *overrides]
    command = launch_command(processes, "no", program) if processes > 1 else [sys.executable, *program]
    completed = subprocess.run(command, env=launch_environment(), capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return out


def weights(out: Path) -> dict[str, torch.Tensor]:
    return load_file(out / "model" / "motion_weights.safetensors")


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory) -> Path:
    return launch(tmp_path_factory.mktemp("two"), 2)


def test_every_process_holds_the_same_weights_after_every_step(two_processes):
    ranks = [json.loads((two_processes / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert len(ranks[0]) == 6 and len(set(ranks[0])) == 6  # one digest per step, and the weights moved
    assert ranks[0] == ranks[1]


def test_two_processes_of_one_clip_train_as_one_process_of_two_clips_a_step(two_processes, tmp_path):
    one = launch(tmp_path / "one", 1, "gradient_accumulation_steps=2")
    alone = launch(tmp_path / "alone", 1)  # one clip a step: another model, so the comparison can fail
    two, accumulated = weights(two_processes), weights(one)
    assert two.keys() == accumulated.keys()
    for name in two:
        torch.testing.assert_close(two[name], accumulated[name], rtol=1e-5, atol=1e-6)
    assert any(not torch.allclose(two[name], weights(alone)[name], atol=1e-4) for name in two)


def test_only_the_main_process_writes_and_a_two_process_run_resumes_its_checkpoints(two_processes, tmp_path):
    assert sorted(p.name for p in (two_processes / "checkpoints").iterdir()) == ["checkpoint-4", "checkpoint-6"]
    assert sorted(p.name for p in (two_processes / "model").iterdir()) == ["lamp_config.json", "motion_weights.safetensors"]
    resumed = launch(tmp_path / "resumed", 2, "max_train_steps=4")
    launch(resumed, 2)  # on to step 6 from checkpoint-4
    for name, tensor in weights(two_processes).items():
        assert torch.equal(tensor, weights(resumed)[name])
