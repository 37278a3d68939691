"""Kedro datasets the catalog needs beyond kedro-datasets."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from lamp.io import atomic_directory, atomic_path, named_if_corrupt


class AtomicDataset(AbstractDataset):
    """Any kedro-datasets file dataset, saved under a temporary name and renamed into place.

    kedro-datasets write in place, so a run killed mid-save leaves a truncated file that the next
    stage would read; this wrapper keeps their formats and makes the write all-or-nothing.

    Example::

        "{motion}.clips":
          type: lamp.datasets.AtomicDataset
          filepath: data/02_intermediate/{motion}/clips.safetensors
          dataset: {type: kedro_datasets_experimental.safetensors.SafetensorsDataset, backend: numpy}
    """

    def __init__(self, filepath: str, dataset: dict[str, Any] | str, metadata: dict[str, Any] | None = None):
        self._filepath = Path(filepath)
        self._dataset = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        self.metadata = metadata

    def _at(self, path: Path) -> AbstractDataset:
        return AbstractDataset.from_config(str(path), {**self._dataset, "filepath": str(path)})

    def load(self) -> Any:
        with named_if_corrupt(self._filepath):  # clips, latents, embeddings: safetensors lamp wrote
            return self._at(self._filepath).load()

    def save(self, data: Any) -> None:
        with atomic_path(self._filepath) as temporary:
            self._at(temporary).save(data)

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "dataset": self._dataset}


class PretrainedModelDataset(AbstractDataset):
    """A pretrained model (:class:`lamp.profiles.PretrainedModel`): a hub id or a local folder, loaded as
    that location; saved with ``save_pretrained`` into its folder, swapped in whole (the mini profile's
    pretrain makes its base models so).

    The config loader adds one per model of the active profile (``video_base``, ``first_frame_model``,
    ``clip_model``), so every node that reads a model has it as an input and Kedro orders pretrain before
    them; writable only in profiles whose mini world makes its models, so that no pipeline overwrites
    a model folder a user points the profile at. Not kedro-datasets' model datasets: those load the
    weights, and each node loads only the parts it needs (encode the VAE, train the UNet) with the
    profile's revision.
    """

    def __init__(self, location: str, revision: str | None = None, writable: bool = False,
                 metadata: dict[str, Any] | None = None):
        self._location = location
        self._revision = revision
        self._writable = writable
        self.metadata = metadata

    def load(self) -> Any:
        from lamp.hub import looks_local
        from lamp.profiles import PretrainedModel

        if looks_local(self._location) and not Path(self._location).is_dir():
            raise DatasetError(f"no model at {self._location}: run the stage that makes it first (the mini profile's: "
                               "`dvc repro pretrain@mini`), or point the profile at a model folder or hub id")
        return PretrainedModel(self._location, self._revision)

    def save(self, model: Any) -> None:
        if not self._writable:
            raise DatasetError(f"{self._location} is one of this profile's models, an input: only the mini world's "
                               "pretrain writes models (profiles.<name>.stages.mini_world)")
        with atomic_directory(self._location) as staging:
            model.save_pretrained(str(staging), safe_serialization=True)

    def _exists(self) -> bool:
        return Path(self._location).is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"location": self._location, "revision": self._revision}


class MotionModelDataset(AbstractDataset):
    """One motion model's folder (:class:`lamp.models.MotionModel`: weights + config), swapped in whole.

    Not :class:`PretrainedModelDataset`: a motion model is the LAMP-trained tensors alone, which need
    their base to become a model, and its consumers build it on the base one motion at a time; so the
    dataset hands over the checked folder, and saving moves a trained folder's files into place.
    """

    def __init__(self, path: str, metadata: dict[str, Any] | None = None):
        self._path = Path(path)
        self.metadata = metadata

    def load(self) -> Any:
        from lamp.models.files import MotionModel

        try:
            return MotionModel(self._path)
        except FileNotFoundError as error:
            raise DatasetError(f"no motion model at {self._path} ({error}); train it first: "
                               f"`dvc repro train@{self._path.name}`") from error

    def save(self, model: Any) -> None:
        """Move the trained folder's files into place, whole (the folder they came from is left empty
        and removed): a trained model is handed over, not copied, so no second copy of the weights stays."""
        from lamp.models.files import CONFIG_NAME, WEIGHTS_NAME

        if model.directory.resolve() == self._path.resolve():
            return
        with atomic_directory(self._path) as staging:
            for name in (WEIGHTS_NAME, CONFIG_NAME):  # the config last: it vouches for the weights' hashes
                shutil.move(model.directory / name, staging / name)
        with contextlib.suppress(OSError):
            model.directory.rmdir()

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}


class PromptsFileDataset(AbstractDataset):
    """The evaluation set's ``motion,prompt`` CSV (the profile's ``prompts_file``), checked as it loads
    (:func:`lamp.sampling.prompts.read_prompts`: the header, no empty cells, a video id per row).

    The config loader adds it as ``prompts_file``. Writable only where the mini world writes the
    prompts (profiles with the ``mini_world`` stages); elsewhere the file is the user's, an input that
    no pipeline may overwrite.
    """

    def __init__(self, filepath: str, writable: bool = False, metadata: dict[str, Any] | None = None):
        self._filepath = Path(filepath)
        self._writable = writable
        self.metadata = metadata

    def load(self) -> Any:
        from lamp.sampling.prompts import read_prompts

        return read_prompts(self._filepath)

    def save(self, table: Any) -> None:
        if not self._writable:
            raise DatasetError(f"{self._filepath} is this profile's prompts file, an input: no pipeline writes it")
        with atomic_path(self._filepath) as temporary:
            table.to_csv(temporary, index=False)

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "writable": self._writable}


class VideoFolderDataset(AbstractDataset):
    """The folder of one motion's source videos, loaded as its path.

    Ingest must see every file of the folder, including the ones it rejects, and decord reads from
    paths; kedro_datasets_experimental's ``VideoDataset`` opens a single video with OpenCV instead.
    Read-only, except the mini world's own folders (``writable``, set by the config loader): its
    renderer writes a motion's videos there itself, file by file, and hands the folder over, so
    saving only checks that it is this one.
    """

    def __init__(self, path: str, writable: bool = False, metadata: dict[str, Any] | None = None):
        self._path = Path(path)
        self._writable = writable
        self.metadata = metadata

    def load(self) -> Path:
        """The folder, relative to the working directory when inside it, so manifests are portable."""
        if not self._path.is_dir():
            raise DatasetError(
                f"{self._path} does not exist: put this motion's videos in {self._path}/ "
                "(mp4, mov, webm, avi, mkv or gif)"
            )
        resolved = self._path.resolve()
        return resolved.relative_to(Path.cwd()) if resolved.is_relative_to(Path.cwd()) else resolved

    def save(self, folder: Any) -> None:
        if not self._writable:
            raise DatasetError(f"{self._path} holds source videos and is read-only to the pipeline")
        if Path(folder).resolve() != self._path.resolve():
            raise DatasetError(f"the videos were written to {folder}, not to this dataset's folder {self._path}")

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}


class VideoDataset(AbstractDataset):
    """One video file (``.mp4`` H.264 or ``.gif``), saved from and loaded as a :class:`lamp.data.VideoClip`.

    kedro_datasets_experimental's ``VideoDataset`` writes through OpenCV's ``mp4v`` codec, which
    browsers do not play and which is not byte-repeatable; :func:`lamp.data.write_video` is both, and
    decord reads the file back. Used alone or as the dataset of a ``PartitionedDataset``.
    """

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None):
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> Any:
        from lamp.data import read_video

        return read_video(self._filepath)

    def save(self, data: Any) -> None:
        from lamp.data import write_video

        write_video(self._filepath, data.frames, data.fps)

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


class ReportSetDataset(AbstractDataset):
    """A folder of reports saved as a whole: ``{"per_video.csv": table, "report.md": text, ...}``.

    The files of one report set belong together (a table and the text that sums it up); written one
    by one, a run killed half-way leaves new files beside old ones, and each file's temporary beside
    them. This writes them all into a temporary folder and swaps it in (:func:`lamp.io.atomic_directory`).
    Tables are CSV (``\\n`` line endings, no index), images PNG, text as is, mappings JSON.
    """

    def __init__(self, path: str, metadata: dict[str, Any] | None = None):
        self._path = Path(path)
        self.metadata = metadata

    def load(self) -> dict[str, Any]:
        import pandas as pd

        from PIL import Image

        readers = {".csv": pd.read_csv, ".json": lambda p: json.loads(p.read_text()), ".png": Image.open}
        return {p.name: readers.get(p.suffix, Path.read_text)(p) for p in sorted(self._path.iterdir()) if p.is_file()}

    def save(self, reports: dict[str, Any]) -> None:
        with atomic_directory(self._path) as folder:
            for name, report in reports.items():
                target = folder / name
                if hasattr(report, "to_csv"):
                    report.to_csv(target, index=False, lineterminator="\n")
                elif hasattr(report, "save"):  # a PIL image
                    report.save(target)
                elif isinstance(report, str):
                    target.write_text(report)
                else:
                    target.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
