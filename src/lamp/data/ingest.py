"""Validate a folder of user videos for one motion, resize the usable ones, describe all of them.

A user drops 8-16 short videos per motion into ``<videos>/<motion>/``. Every
entry of that folder gets a VideoRecord with a verdict (files, sub-folders,
links, pipes, hidden files alike); only the kept videos are resized to the
training size. Links are followed only while they stay inside the folder, so
the manifest never holds the hash of a file elsewhere on the machine.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from lamp.data.file_kind import MP4, UNKNOWN, FileKind, file_kind_of, mp4_cut
from lamp.data.video_io import VideoDecodeError, VideoReadError, as_rgb, open_video, readable_frames
from lamp.data.windows import clip_span
from lamp.io import file_sha256

RESIZE_MODES = ("crop", "stretch")
BAD_VIDEO_POLICIES = ("fail", "skip")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".webm", ".avi", ".mkv", ".gif")
# Files of other types than these are never opened: a named pipe would block the scan for good.
_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)

MANIFEST_DTYPES = {
    "motion": "str",
    "path": "str",
    "sha256": "str",
    "n_frames": "int64",
    "fps": "float64",
    "height": "int64",
    "width": "int64",
    "kept": "bool",
    "reason": "str",
}


class BadVideoError(ValueError):
    """A video failed validation while ``on_bad_video`` is "fail"."""


class TooFewVideosError(ValueError):
    """Fewer than ``min_videos`` videos of a motion passed validation."""


@dataclass(frozen=True)
class IngestConfig:
    """How videos are validated and resized.

    ``resize_mode`` "crop" scales the short side and centre-crops to the target
    aspect; "stretch" resizes straight to (height, width) as the LAMP code does.
    """

    height: int
    width: int
    n_sample_frames: int
    sample_frame_rate: int = 1
    resize_mode: str = "crop"
    on_bad_video: str = "skip"
    min_videos: int = 1
    extensions: tuple[str, ...] = VIDEO_EXTENSIONS

    def __post_init__(self) -> None:
        for name in ("height", "width", "n_sample_frames", "sample_frame_rate", "min_videos"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"IngestConfig.{name} must be a positive integer, got {value!r}")
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(
                f"IngestConfig.resize_mode must be one of {RESIZE_MODES}, got {self.resize_mode!r}"
            )
        if self.on_bad_video not in BAD_VIDEO_POLICIES:
            raise ValueError(
                f"IngestConfig.on_bad_video must be one of {BAD_VIDEO_POLICIES}, "
                f"got {self.on_bad_video!r}"
            )
        # Config files give lists and mixed case; normalise so suffix checks are exact.
        extensions = tuple(str(ext).lower() for ext in self.extensions)
        if not extensions or not all(ext.startswith(".") and len(ext) > 1 for ext in extensions):
            raise ValueError(
                f"IngestConfig.extensions must be non-empty suffixes like '.mp4', "
                f"got {self.extensions!r}"
            )
        object.__setattr__(self, "extensions", extensions)

    @property
    def clip_span(self) -> int:
        """Frames one training clip spans: n_sample_frames taken every sample_frame_rate frames."""
        return clip_span(self.n_sample_frames, self.sample_frame_rate)


@dataclass(frozen=True)
class VideoRecord:
    """One source file and its verdict; height and width are the original frame size."""

    motion: str
    path: str
    sha256: str
    n_frames: int
    fps: float
    height: int
    width: int
    kept: bool
    reason: str


@dataclass(frozen=True, eq=False)
class MotionIngest:
    """Every file of one motion folder, and the resized frames of those kept.

    ``clips`` maps a video id (the file stem, made unique) to uint8 frames
    of shape (T, height, width, 3).
    """

    motion: str
    prompt: str
    records: list[VideoRecord]
    clips: dict[str, np.ndarray]
    folder: str = ""


def motion_prompt(motion: str, prompts: Mapping[str, str] | None = None) -> str:
    """The prompt of a motion: ``prompts[motion]`` if given, else the folder name, '_' as spaces."""
    if prompts and motion in prompts:
        prompt = str(prompts[motion]).strip()
    else:
        prompt = " ".join(motion.replace("_", " ").split())
    if not prompt:
        raise ValueError(
            f"motion {motion!r} gives an empty prompt; rename the folder or give a prompt"
        )
    return prompt


def probe_video(path: str | os.PathLike[str], config: IngestConfig) -> VideoRecord:
    """Open and fully decode ``path`` and judge it against ``config``; never raises for a bad file.

    The motion is the name of the folder holding the file.
    """
    return _scan_video(Path(path), config, resized=None)


def resize_frames(frames: np.ndarray, height: int, width: int, mode: str) -> np.ndarray:
    """Resize uint8 frames (T, H, W[, C]) to RGB (T, height, width, 3).

    "crop" centre-crops to the target aspect then resizes (same as scaling the
    short side then cropping, with one resampling); "stretch" resizes directly.
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f"resize mode must be one of {RESIZE_MODES}, got {mode!r}")
    frames = as_rgb(frames)
    if mode == "crop":
        frames = _centre_crop_to_aspect(frames, height / width)
    source_height, source_width = frames.shape[1:3]
    # INTER_AREA averages every source pixel under each output pixel, so shrinking
    # does not alias (moire, shimmering edges that flicker from frame to frame);
    # it degrades to nearest-neighbour when enlarging, so enlarging uses bicubic.
    shrinking = source_height >= height and source_width >= width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    resized = [cv2.resize(frame, (width, height), interpolation=interpolation) for frame in frames]
    return np.stack(resized) if resized else np.empty((0, height, width, 3), np.uint8)


def ingest_motion(
    motion_dir: str | os.PathLike[str], config: IngestConfig, prompt: str | None = None
) -> MotionIngest:
    """Validate every file in ``motion_dir``, resize the kept videos, and apply the policy.

    :func:`scan_motion` then :func:`check_motion`: raises BadVideoError when
    ``config.on_bad_video`` is "fail" and a video was rejected, and TooFewVideosError when fewer
    than ``config.min_videos`` videos are kept.
    """
    ingest = scan_motion(motion_dir, config, prompt)
    check_motion(ingest, config)
    return ingest


def scan_motion(
    motion_dir: str | os.PathLike[str], config: IngestConfig, prompt: str | None = None, motion: str | None = None
) -> MotionIngest:
    """Validate every file in ``motion_dir`` and resize the kept videos; never raises for a bad file.

    ``motion`` names the motion (default: the folder's name), and gives the prompt when ``prompt``
    is None. Every entry of the folder gets a record, sorted by name; sub-folders, hidden entries
    (names starting with "."), links that leave the folder or lead nowhere, and pipes, sockets and
    devices are recorded as not used and never read. Scanning every file before any policy
    applies is what lets a failing run still report the verdict of every file.
    """
    motion_dir = Path(motion_dir)
    motion = motion or motion_dir.name
    if not motion_dir.is_dir():
        raise FileNotFoundError(f"motion folder {motion_dir} does not exist or is not a folder")
    problems = {path: _entry_problem(path, motion_dir) for path in _folder_entries(motion_dir)}
    ids = _unique_video_ids([path for path, problem in problems.items() if not problem])
    records: list[VideoRecord] = []
    clips: dict[str, np.ndarray] = {}
    for path, problem in problems.items():
        if problem:
            records.append(_rejected(path, problem))
            continue
        resized: list[np.ndarray] = []
        record = _scan_video(path, config, resized)
        records.append(record)
        if record.kept:
            clips[ids[path]] = np.stack(resized)
    return MotionIngest(
        motion=motion,
        prompt=motion_prompt(motion) if prompt is None else _checked_prompt(prompt),
        records=records,
        clips=clips,
        folder=motion_dir.as_posix(),
    )


def check_motion(ingest: MotionIngest, config: IngestConfig) -> None:
    """Raise per ``config``: BadVideoError for a rejected video under "fail", TooFewVideosError.

    A rejected entry counts as a bad video when its name says video (a folder or a dangling link
    named ``x.mp4`` too), unless it is hidden: macOS's ``._clip.mp4`` companions are not videos.
    """
    if config.on_bad_video == "fail":
        for record in ingest.records:
            if not record.kept and _named_as_video(Path(record.path), config):
                raise BadVideoError(_bad_video_message(record))
    if len(ingest.clips) < config.min_videos:
        raise TooFewVideosError(_too_few_message(ingest, config.min_videos))


def manifest_frame(records: Iterable[VideoRecord]) -> pd.DataFrame:
    """One row per source file with fixed columns and dtypes (also when there are no records)."""
    rows = [asdict(record) for record in records]
    columns = [f.name for f in fields(VideoRecord)]
    return pd.DataFrame(rows, columns=columns).astype(MANIFEST_DTYPES)


def _scan_video(path: Path, config: IngestConfig, resized: list[np.ndarray] | None) -> VideoRecord:
    """Judge one file; when ``resized`` is a list, append each frame resized to the config size."""
    try:
        sha256 = file_sha256(path)
        kind = file_kind_of(path)
    except OSError as error:
        return _rejected(path, f"cannot read file: {error.strerror or error}")
    if path.suffix.lower() not in config.extensions:
        accepted = ", ".join(config.extensions)
        suffix = path.suffix or "(none)"
        return _rejected(
            path, f"unsupported file type {suffix!r} ({kind.name}); accepted: {accepted}", sha256
        )
    if path.stat().st_size == 0:
        return _rejected(path, "empty file (0 bytes)", sha256)
    if not kind.video:
        return _rejected(path, _not_a_video_reason(kind), sha256)
    if kind == MP4 and (cut := mp4_cut(path)):
        return _rejected(path, _truncated_reason(path, kind, cut), sha256)
    try:
        stream = open_video(path)
    except (VideoReadError, OSError) as error:
        return _rejected(path, f"unreadable or corrupt video: {_unopened(kind)}: {error}", sha256)

    n_frames, height, width = 0, 0, 0
    try:
        for frame in stream.frames:
            height, width = frame.shape[:2]
            if resized is not None:
                resized.append(_resize_frame(frame, config))
            n_frames += 1
    except VideoDecodeError as error:
        return _broken_stream_record(path, sha256, stream.fps, error, (height, width))
    reason = _content_problem(n_frames, height, width, config)
    return VideoRecord(
        _motion_of(path), path.as_posix(), sha256, n_frames, stream.fps, height, width,
        kept=not reason, reason=reason,
    )


def _not_a_video_reason(kind: FileKind) -> str:
    return (
        f"{kind.name}, not a video (by its content, whatever its name says); "
        f"replace it with the video or remove it"
    )


def _truncated_reason(path: Path, kind: FileKind, cut: str) -> str:
    """The verdict on a file cut short: where, how many of its frames survive, and the fix."""
    readable, declared = readable_frames(path)
    of = f" of the {declared} frames it declares" if declared else " frames"
    return (
        f"unreadable or corrupt video: truncated (incomplete) file, {kind.name}: {cut}; "
        f"{readable}{of} can be read; re-copy the file (the copy or download stopped before "
        f"the end) or re-export it"
    )


def _unopened(kind: FileKind) -> str:
    if kind == UNKNOWN:
        return "unknown content, no video format lamp recognises"
    return f"{kind.name} that cannot be opened"


def _broken_stream_record(
    path: Path, sha256: str, fps: float, error: VideoDecodeError, size: tuple[int, int]
) -> VideoRecord:
    """Rejection of a stream that opened but failed to decode at ``error.frame_index``."""
    readable = error.frame_index
    if not readable:
        return _rejected(path, f"unreadable or corrupt video: {error}", sha256, fps=fps)
    height, width = size
    return _rejected(
        path,
        f"stream broken part-way: {error}; only the first {readable} frames decode",
        sha256, n_frames=readable, fps=fps, height=height, width=width,
    )


def _rejected(
    path: Path, reason: str, sha256: str = "", *, n_frames: int = 0, fps: float = 0.0,
    height: int = 0, width: int = 0,
) -> VideoRecord:
    """Record of a file that is not used; size and counts are 0 where decoding never got there."""
    return VideoRecord(
        _motion_of(path), path.as_posix(), sha256, n_frames, fps, height, width,
        kept=False, reason=reason,
    )


def _motion_of(path: Path) -> str:
    # absolute() so a bare file name still yields its folder; not resolve(),
    # which would name the target folder of a symlinked motion folder.
    return path.absolute().parent.name


def _resize_frame(frame: np.ndarray, config: IngestConfig) -> np.ndarray:
    return resize_frames(frame[np.newaxis], config.height, config.width, config.resize_mode)[0]


def _content_problem(n_frames: int, height: int, width: int, config: IngestConfig) -> str:
    """Why a cleanly decoded video cannot be used, or "" if it can."""
    if n_frames == 0:
        return "no video frames"
    if n_frames < config.clip_span:
        return (
            f"too short: {n_frames} frames, needs at least {config.clip_span} "
            f"({config.n_sample_frames} sample frames at stride {config.sample_frame_rate}); "
            f"use a longer video or lower n_sample_frames or sample_frame_rate"
        )
    if height < config.height or width < config.width:
        return (
            f"resolution {height}x{width} (HxW) is smaller than the target "
            f"{config.height}x{config.width}: upscaling would invent detail; "
            f"use a larger video or lower the profile size"
        )
    return ""


def _folder_entries(motion_dir: Path) -> list[Path]:
    """Every entry directly in ``motion_dir``, sorted by name."""
    return sorted(motion_dir.iterdir(), key=lambda p: p.name)


def _entry_problem(path: Path, motion_dir: Path) -> str:
    """Why an entry of ``motion_dir`` is not read, or "" for a regular file inside the folder.

    Nothing here opens the entry: a link's target outside the folder (``/etc/passwd``) is never
    read or hashed, and a named pipe is never opened.
    """
    if _hidden(path):
        return "hidden (the name starts with '.'), not read"
    if path.is_symlink():
        problem = _link_problem(path, motion_dir)
        if problem:
            return problem
    try:
        mode = path.stat().st_mode
    except OSError as error:
        return f"cannot read file: {error.strerror or error}"
    if stat.S_ISDIR(mode):
        return (
            f"a folder, not a video: sub-folders are not read; move its videos into "
            f"{motion_dir.as_posix()} or remove it"
        )
    special = next((name for is_type, name in _SPECIAL_FILES if is_type(mode)), None)
    if special:
        return f"{special}, not a regular file: not read; remove it"
    return ""


def _link_problem(path: Path, motion_dir: Path) -> str:
    """Why a link is not followed: it leads out of the motion folder, nowhere, or in a loop; else ""."""
    loop = "a link that cannot be resolved (a loop of links?): not read; remove it"
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # a loop raises RuntimeError before Python 3.13
        return loop
    # Resolving the folder too: a motion folder that is itself a link still contains its files.
    if not target.is_relative_to(motion_dir.resolve()):
        return (
            f"a link to {target.as_posix()}, outside the motion folder: not read (links must stay "
            f"inside {motion_dir.as_posix()}); copy the video into the folder instead"
        )
    try:
        path.stat()
    except OSError as error:
        if error.errno == errno.ELOOP:  # Python 3.13 resolves a loop without complaint
            return loop
        if error.errno != errno.ENOENT:
            return f"cannot read file: {error.strerror or error}"
        return (
            f"a broken link: its target {os.readlink(path)} does not exist; "
            f"restore the target or remove the link"
        )
    return ""


def _named_as_video(path: Path, config: IngestConfig) -> bool:
    return path.suffix.lower() in config.extensions and not _hidden(path)


def _hidden(path: Path) -> bool:
    """Hidden entries (.DS_Store, ._clip.mp4, editors' and lamp's temporaries) are reported, never read."""
    return path.name.startswith(".")


def _unique_video_ids(paths: list[Path]) -> dict[Path, str]:
    """File stems as ids; a repeated stem gets its suffix ("run", "run_gif"), then a counter."""
    ids: dict[Path, str] = {}
    taken: set[str] = set()
    for path in paths:
        candidate = path.stem
        if candidate in taken:
            candidate = f"{path.stem}_{path.suffix.lstrip('.').lower()}"
        unique, counter = candidate, 2
        while unique in taken:
            unique, counter = f"{candidate}_{counter}", counter + 1
        taken.add(unique)
        ids[path] = unique
    return ids


def _centre_crop_to_aspect(frames: np.ndarray, aspect: float) -> np.ndarray:
    """The largest centred window of (T, H, W, C) frames with height/width == ``aspect``."""
    height, width = frames.shape[1:3]
    crop_height = min(height, round(width * aspect))
    crop_width = min(width, round(height / aspect))
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return frames[:, top : top + crop_height, left : left + crop_width]


def _checked_prompt(prompt: str) -> str:
    if not prompt.strip():
        raise ValueError("prompt must not be empty")
    return prompt.strip()


def _bad_video_message(record: VideoRecord) -> str:
    return (
        f"bad video {record.path}: {record.reason}. Fix: replace the file, re-encode it if "
        f"it is damaged (ffmpeg -i IN -c:v libx264 -pix_fmt yuv420p OUT.mp4) or remove it; "
        f"or set on_bad_video: skip to ingest the other videos without it."
    )


def _too_few_message(ingest: MotionIngest, min_videos: int) -> str:
    records = ingest.records
    usable = sum(record.kept for record in records)
    rejected = [
        f"  {record.path}: {record.reason}"
        for record in records
        if not record.kept and not _hidden(Path(record.path))  # nothing to fix in a hidden file
    ]
    header = (
        f"motion {ingest.motion!r} has {usable} usable video(s), fewer than "
        f"min_videos={min_videos}: add videos to {ingest.folder}"
    )
    if not rejected:
        return header + "."
    return "\n".join([header + " or fix these rejected files:", *rejected])
