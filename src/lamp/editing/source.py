"""The inputs of an edit: the clip of the source video, and an edited first frame a user gives."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL.Image

from lamp.data import VideoDecodeError, VideoReadError, read_video, resize_frames
from lamp.data.windows import clip_span
from lamp.io import file_sha256

logger = logging.getLogger(__name__)


class EditInputError(ValueError):
    """A source video or first-frame image that cannot be edited; the message names the file and the fix."""


@dataclass(frozen=True, eq=False)
class SourceClip:
    """The frames an edit keeps the motion of.

    Attributes:
        path: the source video.
        frames: uint8 ``(n_frames, height, width, 3)``: every ``stride``-th frame from the first,
            centre-cropped to the edit's aspect and resized.
        fps: the clip's frame rate (the video's divided by the stride).
        sha256: of the video file, for lineage.
    """

    path: Path
    frames: np.ndarray
    fps: float
    sha256: str


def read_source_clip(path: str | os.PathLike, n_frames: int, stride: int, height: int, width: int) -> SourceClip:
    """The first ``n_frames`` frames at ``stride`` of the video at ``path``, at ``height`` x ``width``.

    A video of another aspect is centre-cropped to ``height / width`` and then resized, as ingest's
    ``resize_mode: crop`` does, so the edit never stretches the content. Raises
    :class:`EditInputError` for a missing, unreadable or too short video.
    """
    path = Path(path)
    if not path.is_file():
        raise EditInputError(
            f"source video {path} does not exist: give an existing video file "
            "(edit.video in params.yaml, or lamp edit --video)"
        )
    try:
        video = read_video(path)
    except (VideoReadError, VideoDecodeError, OSError) as error:
        raise EditInputError(
            f"cannot read the source video {path} ({error}): give an mp4, mov, webm, avi, mkv or animated gif"
        ) from error
    needed = clip_span(n_frames, stride)
    if len(video.frames) < needed:
        raise EditInputError(
            f"source video {path} has {len(video.frames)} frames, but an edit of {n_frames} frames at stride "
            f"{stride} needs {needed}: give a longer video, or fewer frames or a smaller stride "
            "(edit.n_frames / edit.stride in params.yaml, or lamp edit --frames / --stride)"
        )
    frames = video.frames[:needed:stride]
    source_height, source_width = frames.shape[1:3]
    if source_height * width != source_width * height:
        logger.info("%s is %dx%d: centre-cropped to the aspect of %dx%d", path, source_width, source_height, width, height)
    return SourceClip(path, resize_frames(frames, height, width, "crop"), video.fps / stride, file_sha256(path))


def read_first_frame(path: str | os.PathLike, height: int, width: int) -> PIL.Image.Image:
    """The image at ``path`` as RGB, centre-cropped to ``height / width`` and resized, as the source clip is."""
    path = Path(path)
    try:
        with PIL.Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
    except (OSError, ValueError) as error:  # missing, not an image, truncated (PIL's errors are OSErrors)
        raise EditInputError(
            f"cannot read the first-frame image {path} ({error}): give a png or jpeg file "
            "(edit.first_frame in params.yaml, or lamp edit --first-frame)"
        ) from error
    return PIL.Image.fromarray(resize_frames(pixels[None], height, width, "crop")[0])
