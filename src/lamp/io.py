"""Writing files atomically: the one helper every writer in lamp goes through."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write to; on success it is renamed onto ``path``.

    A crash or an exception while writing never leaves a half-written file under the final name:
    readers (DVC, ingest, a resumed run) see either the old file or the complete new one. The
    temporary is in the same folder, so ``os.replace`` is an atomic rename on one file system; it
    is removed if the block raises. The parent folder is created if missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Hidden and marked .tmp, so ingest skips it and ignore rules can match it if a crash
    # (SIGKILL, power loss) strands it; the random part keeps concurrent writers apart; the final
    # suffix is kept because writers such as Pillow pick the format from it.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """:func:`atomic_path` for a folder: yield a new temporary sibling, swapped in for ``path`` on success.

    Readers see the old folder whole or the new one whole, never a mix; an existing ``path`` is set
    aside, replaced and then removed. The temporary folder is removed if the block raises.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.mkdir(parents=True)
    previous = path.with_name(f".{path.name}.{secrets.token_hex(4)}.previous")
    try:
        yield temporary
        if path.exists():
            os.rename(path, previous)
        os.rename(temporary, path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        shutil.rmtree(previous, ignore_errors=True)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
