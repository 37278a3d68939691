"""Putting back a stage's last good outputs after a failed or killed run (``lamp restore``).

DVC removes a stage's outputs before running it, and a stage that then fails leaves its
``dvc.lock`` entry, the record of its last good run, as it was. ``dvc checkout`` restores the
cached outputs of that record but skips outputs declared ``cache: false`` (the metrics files, kept
in git). DVC's run cache keeps a copy of those too, under the hash the lock records, so they can be
put back the same way; this module does that, so that one command restores a stage whole.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path


def restore_outputs(project: str | Path, stages: list[str] | None = None) -> list[Path]:
    """The lock's outputs of ``stages`` (all when empty) put back from the cache; the paths restored.

    An output is only put back when the cache holds the content the lock records; one that is
    already as recorded is left alone.
    """
    from dvc.repo import Repo

    project = Path(project).resolve()
    restored: list[Path] = []
    with contextlib.chdir(project), Repo(str(project)) as repo:
        chosen = [s for s in repo.index.stages if not stages or s.name in stages or s.addressing in stages]
        unknown = sorted(set(stages or []) - {s.name for s in chosen} - {s.addressing for s in chosen})
        if unknown:
            raise ValueError(f"no stage {unknown} in {project / 'dvc.yaml'}; `dvc stage list` names them")
        for stage in chosen:
            for out in stage.outs:
                if out.use_cache:
                    continue
                path = Path(out.fs_path)
                cached = Path(repo.cache.local.oid_to_path(out.hash_info.value)) if out.hash_info else None
                if cached and cached.is_file() and not (path.is_file() and out.status() == {}):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(cached, path)
                    restored.append(path.relative_to(project))
        changes = repo.checkout(targets=[s.addressing for s in chosen] if stages else None, force=True)
    restored += [Path(p) for p in sorted(changes.get("added", []) + changes.get("modified", []))]
    return restored
