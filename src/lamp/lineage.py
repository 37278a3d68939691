"""Where a result came from: the git commit and the DVC hashes of the data and models it used."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

UNTRACKED = "untracked"


def git_commit(cwd: str | Path = ".") -> str:
    """The checked-out commit, with ``-dirty`` when a tracked file other than a pipeline output differs
    from it (:func:`uncommitted_changes`). A repro rewrites ``dvc.lock`` and the metrics files kept in git
    before training runs, so counting those marked every model of a fresh clone ``-dirty``."""
    try:
        commit = _git(cwd, "rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return UNTRACKED
    return f"{commit}-dirty" if uncommitted_changes(cwd) else commit


def uncommitted_changes(cwd: str | Path = ".") -> list[str]:
    """Tracked files (paths from the repository's root) that differ from the checked-out commit, leaving
    out pipeline outputs: ``dvc.lock`` and the outputs it lists. Code, parameters and inputs remain."""
    try:
        changed = _git(cwd, "diff", "--name-only", "HEAD", "--").splitlines()
        prefix = _git(cwd, "rev-parse", "--show-prefix")  # the project's folder within the repository
    except (OSError, subprocess.CalledProcessError):
        return []
    outputs = [prefix + path for path in pipeline_outputs(Path(cwd) / "dvc.lock")]
    return [path for path in changed if path != f"{prefix}dvc.lock"
            and not any(path == out or path.startswith(f"{out}/") for out in outputs)]


def uncommitted_summary(cwd: str | Path = ".", limit: int = 1000) -> str:
    """:func:`uncommitted_changes` as one tag value (``none``), cut to ``limit`` characters for MLflow."""
    text = ", ".join(uncommitted_changes(cwd)) or "none"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def pipeline_outputs(lock_file: str | Path = "dvc.lock") -> list[str]:
    """Every stage output ``lock_file`` lists (paths relative to its folder)."""
    return [out["path"].rstrip("/") for out in _locked_outs(lock_file)]


def _locked_outs(lock_file: str | Path) -> list[dict[str, Any]]:
    """The ``outs`` entries of every stage in ``lock_file`` (none if it is missing), in its order."""
    lock_file = Path(lock_file)
    stages = (yaml.safe_load(lock_file.read_text()) or {}).get("stages", {}) if lock_file.is_file() else {}
    return [out for stage in stages.values() for out in stage.get("outs", []) if "path" in out]


def _git(cwd: str | Path, *arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def model_version(location: str, revision: str | None) -> str:
    """What identifies a pretrained model's bytes: DVC's hash of a local folder a stage made, else the hub
    revision (``main`` when none is pinned)."""
    return dvc_hash(location) if Path(location).exists() else str(revision or "main")


def dvc_hash(path: str | Path, lock_file: str | Path = "dvc.lock") -> str:
    """The hash DVC recorded for the stage output ``path`` in ``dvc.lock``, or ``untracked``."""
    wanted = Path(path).as_posix().rstrip("/")
    for out in _locked_outs(lock_file):
        if out["path"].rstrip("/") == wanted:
            return str(out.get("md5") or out.get("hash") or UNTRACKED)
    return UNTRACKED
