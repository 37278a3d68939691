"""One run at a time per store: a motion's training, the ablation's checkpoints, an edit's model folder.

Two trainings of one motion at once both write ``checkpoint-<step>`` into the same folder; the
second crashed on the rename (``OSError: Directory not empty``), or worse, deleted the first's
checkpoints as stale. :func:`store_lock` refuses the second run at once instead, naming the run that
holds the store.

The lock is filelock's (installed with dvc, and now a direct dependency: ``on_acquired`` is 4.x):
``fcntl.flock`` on a lock file beside the store. The kernel drops a flock when the last process
holding its descriptor ends, however it ends, so a run killed with SIGKILL never leaves a stale
lock (a child forked while it is held, such as a data loader worker, holds it until it ends too);
soft (marker file) locks, which would go stale, are turned off. filelock serves as it is:
``on_acquired`` lets the holder write who it is into the lock file, which a refused run reads for
its message.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from accelerate import PartialState
from filelock import FileLock, Timeout


class StoreLockedError(RuntimeError):
    """Another live process holds the store; ``holder`` is what it recorded in the lock file."""

    def __init__(self, what: str, lock_file: Path, holder: dict) -> None:
        self.lock_file, self.holder = lock_file, holder
        super().__init__(
            f"{what} is already running in {_describe(holder)}; this run is refused so that the two do "
            f"not overwrite each other's files (lock: {lock_file}). Wait for that run to finish, or stop "
            f"it (kill {holder.get('pid', '<pid>')} on {holder.get('host', 'its host')}) and run again: "
            "the lock is freed when its process ends, even when killed."
        )


def lock_file(store: str | os.PathLike, process_index: int = 0) -> Path:
    """The lock file of ``store``: hidden, beside it, never inside (a store is deleted and rewritten whole).

    Under ``accelerate launch`` every process runs the same node, so each process index has its own
    lock: one shared lock would refuse the launch's own other processes, while per index every
    process of a second launch is refused, not only its main one.
    """
    store = Path(store)
    name = store.name if process_index == 0 else f"{store.name}.process{process_index}"
    return store.with_name(f".{name}.lock")


@contextmanager
def store_lock(store: str | os.PathLike, what: str) -> Iterator[Path]:
    """Hold the lock of ``store`` (a folder) for the block; raise :class:`StoreLockedError` at once if held.

    ``what`` names the work for the message, e.g. ``"training of motion 'rain'"``. Yields the
    lock file, which records this process (pid, host, command, since when) while it holds it.
    """
    path = lock_file(store, PartialState().process_index)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=0, fallback_to_soft=False, on_acquired=_record_holder)
    try:
        lock.acquire()
    except Timeout:
        raise StoreLockedError(what, path, _read_holder(path)) from None
    try:
        yield path
    finally:
        lock.release()


def _record_holder(descriptor: int) -> None:
    """Write this process's details into the lock file just locked (``descriptor`` is filelock's)."""
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python",
        "since": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, (json.dumps(holder) + "\n").encode(), 0)


def _read_holder(path: Path) -> dict:
    """What the holder wrote; empty if it has not written yet, or let go since."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _describe(holder: dict) -> str:
    if not holder:
        return "another process (it has not recorded itself yet)"
    return (
        f"process {holder.get('pid')} on host {holder.get('host')} "
        f"(`{holder.get('command')}`, since {holder.get('since')})"
    )
