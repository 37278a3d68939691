"""Writing files atomically, the one helper every writer in lamp goes through; reading back what lamp wrote."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from safetensors import SafetensorError

if TYPE_CHECKING:
    import torch


class CorruptFileError(ValueError):
    """A file lamp wrote cannot be read back: damaged, cut short, or not lamp's. Names it and the fix."""


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


def load_safetensors(
    path: str | os.PathLike[str], file_format: str, remove: str | os.PathLike[str] | None = None
) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file lamp wrote with ``metadata={"format": file_format}``.

    Raises CorruptFileError naming the file and the fix when it does not decode (a damaged or
    tampered header, a cut-off copy) or its header names another format; a missing file stays a
    FileNotFoundError. ``remove`` is what the fix deletes (default: the file), for files that are
    only usable with their siblings, such as the files of a training checkpoint.
    """
    # Imported here, not above: torch is heavy, and most users of this module only write files.
    from safetensors import safe_open

    with named_if_corrupt(path, remove):
        with safe_open(path, framework="pt") as handle:
            found = (handle.metadata() or {}).get("format")
            if found != file_format:
                detail = f"its header says format {found!r}, not {file_format!r}"
                raise CorruptFileError(_corrupt_message(path, detail, remove))
            return {name: handle.get_tensor(name) for name in handle.keys()}


@contextmanager
def named_if_corrupt(
    path: str | os.PathLike[str], remove: str | os.PathLike[str] | None = None
) -> Iterator[None]:
    """Turn a safetensors decoding error in the block into a CorruptFileError naming ``path`` and the fix.

    safetensors' own message ("invalid JSON in header") names neither the file nor what to do;
    readers that go through another library wrap their load in this. The error may come wrapped
    too (Kedro's datasets raise a DatasetError from it), so the whole chain of causes is searched.
    """
    try:
        yield
    except Exception as error:
        cause = _safetensors_cause(error)
        if cause is None:
            raise
        raise CorruptFileError(_corrupt_message(path, str(cause), remove)) from error


def _safetensors_cause(error: BaseException | None) -> SafetensorError | None:
    while error is not None and not isinstance(error, SafetensorError):
        error = error.__cause__ or error.__context__
    return error


def _corrupt_message(
    path: str | os.PathLike[str], detail: str, remove: str | os.PathLike[str] | None
) -> str:
    remove = Path(path if remove is None else remove)
    return (
        f"{Path(path).as_posix()} is corrupt or not a lamp file ({detail}). Fix: delete "
        f"{remove.as_posix()} and re-run the stage that writes it (dvc repro), or restore it with "
        f"`dvc checkout` if DVC tracks it."
    )
