"""Where a result came from: the git commit and the DVC hashes of the data and models it used, and
for scores, the MLflow run that made the videos they score."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import yaml
from mlflow.tracking import MlflowClient

if TYPE_CHECKING:
    import pandas as pd

UNTRACKED = "untracked"
#: The tag of a run that wrote an index of videos: the SHA-256 of the index (:func:`table_sha256`).
INDEX_TAG = "lamp.index_sha256"
#: The tag prefix naming the registered version of each motion model a run used: ``lamp.model_version.<motion>``.
MODEL_VERSION_TAG = "lamp.model_version."
#: The SHA-256 of the motion classifier an evaluation scored with (:func:`values_sha256`): the ablation,
#: which scores with the same classifier, finds that evaluation by it.
CLASSIFIER_TAG = "lamp.classifier_sha256"


def git_commit(cwd: str | Path = ".") -> str:
    """The checked-out commit, with ``-dirty`` when a tracked file other than a pipeline output differs
    from it (:func:`uncommitted_changes`). A repro rewrites ``dvc.lock`` and the metrics files kept in git
    before training runs, so counting those marked every model of a fresh clone ``-dirty``."""
    return _commit_and_changes(cwd)[0]


def _commit_and_changes(cwd: str | Path) -> tuple[str, list[str]]:
    """:func:`git_commit` and the :func:`uncommitted_changes` it was judged by, found once: each reads
    ``dvc.lock``, which a run of every stage has made large."""
    try:
        commit = _git(cwd, "rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return UNTRACKED, []
    changes = uncommitted_changes(cwd)
    return (f"{commit}-dirty" if changes else commit), changes


def commit_tags(cwd: str | Path = ".") -> dict[str, str]:
    """What ties a run or a model version to its code: ``lamp.git_commit`` (:func:`git_commit`),
    ``lamp.git_uncommitted`` (what differs) and, in a repository, MLflow's own ``mlflow.source.git.commit``
    (the commit checked out), which its UI shows beside each run."""
    commit, changes = _commit_and_changes(cwd)
    tags = {"lamp.git_commit": commit, "lamp.git_uncommitted": uncommitted_summary(changes)}
    if commit != UNTRACKED:
        tags["mlflow.source.git.commit"] = commit.removesuffix("-dirty")
    return tags


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


def uncommitted_summary(changes: list[str], limit: int = 1000) -> str:
    """:func:`uncommitted_changes` as one tag value (``none``), cut to ``limit`` characters for MLflow."""
    text = ", ".join(changes) or "none"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def pipeline_outputs(lock_file: str | Path = "dvc.lock") -> list[str]:
    """Every stage output ``lock_file`` lists (paths relative to its folder)."""
    return [out["path"].rstrip("/") for out in _locked_outs(lock_file)]


def _locked_outs(lock_file: str | Path) -> list[dict[str, Any]]:
    """The ``outs`` entries of every stage in ``lock_file`` (none if it is missing), in its order, leaving
    out stages that the ``dvc.yaml`` beside it no longer defines.

    DVC keeps a lock entry until its stage runs again, so a stage that was removed or merged into
    another (``encode@rain`` into ``prepare@rain``) leaves a stale hash of the same output behind.
    """
    lock_file = Path(lock_file)
    stages = (_read_yaml(lock_file) or {}).get("stages", {}) if lock_file.is_file() else {}
    defined = _defined_stages(lock_file.with_name("dvc.yaml"))
    return [out for name, stage in stages.items() if defined is None or name.split("@")[0] in defined
            for out in stage.get("outs", []) if "path" in out]


def _defined_stages(dvc_yaml: Path) -> set[str] | None:
    """The stage names (a ``foreach`` group's, without its ``@<key>``) that ``dvc_yaml`` defines; None without one."""
    return set((_read_yaml(dvc_yaml) or {}).get("stages", {})) if dvc_yaml.is_file() else None


def _read_yaml(path: Path) -> Any:
    """``path`` parsed safely, by libyaml's C parser where PyYAML has it: a repro's ``dvc.lock`` (150 kB)
    takes the pure-Python parser 0.4-1 s, and every tracked stage reads it."""
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


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


def table_sha256(table: pd.DataFrame) -> str:
    """SHA-256 of a table as CSV: the same for the index one run writes and the next run reads back."""
    return hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()


def link_to_generation(index: pd.DataFrame) -> None:
    """Tag the active run with the run that generated the videos of ``index`` (the newest run tagged with
    the index's hash, :data:`INDEX_TAG`) and the motion model versions that run used.

    The link is by content, not by order: a generate run whose videos were since remade elsewhere
    (another index) is never named.
    """
    if mlflow.active_run() is None:
        return
    run = generation_run(index)
    tags = {"lamp.generate_run_id": run.info.run_id if run else "not found"}
    if run:
        tags |= {k: v for k, v in run.data.tags.items() if k.startswith(MODEL_VERSION_TAG)}
    mlflow.set_tags(tags)


def values_sha256(values: Any) -> str:
    """SHA-256 of JSON-like ``values`` (keys sorted): the same for a dict and its JSON file read back."""
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def link_to_evaluation(classifier: dict[str, Any]) -> None:
    """Tag the active run with the newest evaluation run that scored with ``classifier`` (:data:`CLASSIFIER_TAG`),
    as ``lamp.evaluate_run_id``."""
    if mlflow.active_run() is None:
        return
    run = _newest_run_tagged(CLASSIFIER_TAG, values_sha256(classifier))
    mlflow.set_tag("lamp.evaluate_run_id", run.info.run_id if run else "not found")


def generation_run(index: pd.DataFrame) -> Any | None:
    """The newest MLflow run (of the active run's experiment, or ``lamp``) tagged with ``index``'s hash:
    the run that generated those videos; None without tracking or such a run."""
    return _newest_run_tagged(INDEX_TAG, table_sha256(index))


def _newest_run_tagged(tag: str, value: str) -> Any | None:
    active = mlflow.active_run()
    client = MlflowClient()
    experiment = active.info.experiment_id if active else getattr(client.get_experiment_by_name("lamp"), "experiment_id", None)
    if experiment is None:
        return None
    found = client.search_runs([experiment], f"tags.`{tag}` = '{value}'", order_by=["attributes.start_time DESC"],
                               max_results=1)
    return found[0] if found else None
