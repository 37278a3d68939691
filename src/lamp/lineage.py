"""Where a result came from: the git commit and the DVC hashes of the data and models it used."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

UNTRACKED = "untracked"


def git_commit(cwd: str | Path = ".") -> str:
    """The checked-out commit, with ``-dirty`` when tracked files have uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return UNTRACKED
    return f"{commit}-dirty" if dirty else commit


def model_version(location: str, revision: str | None) -> str:
    """What identifies a pretrained model's bytes: DVC's hash of a local folder a stage made, else the hub
    revision (``main`` when none is pinned)."""
    return dvc_hash(location) if Path(location).exists() else str(revision or "main")


def dvc_hash(path: str | Path, lock_file: str | Path = "dvc.lock") -> str:
    """The hash DVC recorded for the stage output ``path`` in ``dvc.lock``, or ``untracked``."""
    lock_file = Path(lock_file)
    if not lock_file.is_file():
        return UNTRACKED
    wanted = Path(path).as_posix().rstrip("/")
    for stage in (yaml.safe_load(lock_file.read_text()) or {}).get("stages", {}).values():
        for out in stage.get("outs", []):
            if out.get("path", "").rstrip("/") == wanted:
                return str(out.get("md5") or out.get("hash") or UNTRACKED)
    return UNTRACKED
