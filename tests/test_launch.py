"""Work shared out among launched processes (lamp.launch), as the generate and train stages launch them."""

from __future__ import annotations

import json
import subprocess

import pytest

from lamp.launch import launch_command, launch_environment, process_state

WORKER = """
import json, sys
from pathlib import Path
from lamp.launch import process_state

state = process_state()
with state.split_between_processes(list(range(6))) as mine:
    Path(sys.argv[1], f"share{state.process_index}.json").write_text(json.dumps(mine))
"""


def test_two_launched_cpu_processes_each_take_their_share_of_the_work(tmp_path):
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    completed = subprocess.run(launch_command(2, "no", [str(worker), str(tmp_path)]), env=launch_environment(),
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    shares = [json.loads((tmp_path / f"share{rank}.json").read_text()) for rank in (0, 1)]
    assert shares == [[0, 1, 2], [3, 4, 5]]  # not all six twice: each process once took itself for the only one


def test_a_state_that_miscounts_the_launched_processes_is_refused(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")  # as a launcher sets it, but no process group to join
    monkeypatch.delenv("ACCELERATE_USE_CPU", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(RuntimeError, match="launched on 2 processes, but accelerate counts 1"):
        process_state()
