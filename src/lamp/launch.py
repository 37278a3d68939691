"""Work on several processes through ``accelerate launch``: training one motion, generating the evaluation set.

A node stays one process (it holds the Kedro session, the MLflow run and the catalog outputs); for N > 1 it
writes what the work reads into a folder (a JSON spec beside tensors or images), launches a ``lamp`` module
on N processes, one per GPU (on a machine without one, N CPU processes over gloo), and reads back what they
wrote. Running the whole Kedro session in every process, as ``accelerate launch -m kedro run`` would, has
every process save every output.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from accelerate import PartialState
from accelerate.utils import parse_flag_from_env


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


def run_on_processes(processes: int, mixed_precision: str, module: str, spec: Path, failure: str) -> None:
    """Run ``python -m module spec`` on ``processes`` processes and wait; ``RuntimeError`` (``failure``, then the
    exit status) when they fail. Their output, tracebacks included, goes to this process's."""
    completed = subprocess.run(launch_command(processes, mixed_precision, ["-m", module, str(spec)]),
                               env=launch_environment())
    if completed.returncode != 0:
        raise RuntimeError(f"{failure} (exit status {completed.returncode} on {processes} processes; their output is above)")


def is_main_process() -> bool:
    """Whether this launched process is the first (torch.distributed's launcher numbers them; accelerate's state
    may not exist yet)."""
    return int(os.environ.get("RANK", "0")) == 0


def process_state() -> PartialState:
    """accelerate's state of this launched process (its index, the process count, its device).

    ``PartialState()`` alone ignores ``ACCELERATE_USE_CPU`` (:func:`launch_environment`), which ``Accelerator``
    reads itself: each of N launched CPU processes then took itself for the only one, and did all the work.
    ``RuntimeError`` when the state still counts other than the launcher's ``WORLD_SIZE``."""
    state = PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU"))
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if state.num_processes != launched:
        raise RuntimeError(f"launched on {launched} processes, but accelerate counts {state.num_processes} "
                           f"({state.distributed_type}): each would do all the work")
    return state
