"""Reading video files into RGB frames and writing frames back to video files.

decord reads every container (mp4, mov, webm, avi, mkv): it decodes through
FFmpeg and is the reader the LAMP training code uses. It cannot read animated
GIFs (it fails with "Failed to measure duration/frame-count due to broken
metadata"), so GIFs are read with Pillow, which also composites GIF frame
disposal and palettes correctly. When decord fails part-way through a stream,
PyAV re-decodes it to find the frame where it breaks (see _frames_up_to_break).

Writing uses PyAV (H.264) and Pillow (GIF). The H.264 writer is reproducible: the
same frames give the same bytes, in one process and across machines, so DVC sees
an unchanged output as unchanged. x264 runs single-threaded, in plain C, with
bit-exact flags and no metadata, and the RGB -> YUV conversion is done here in
numpy rather than by swscale, whose result depends on the CPU features it picks.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import decord
import numpy as np
from PIL import Image, ImageSequence

from lamp.io import atomic_path

# Browsers play GIF frames whose delay is missing or at most 10 ms (0 or 1
# centisecond, which GIF tools write to mean "no delay") for 100 ms; so do we.
_GIF_MIN_DELAY_MS = 10.0
_GIF_FALLBACK_DELAY_MS = 100.0
_GIF_MAGIC = (b"GIF87a", b"GIF89a")
# Pillow reports malformed or truncated GIF data with any of these, struct.error
# included (a frame header cut short).
_PILLOW_ERRORS = (OSError, ValueError, EOFError, SyntaxError, struct.error)
# decord raises its own DECORDError, or a plain RuntimeError when FFmpeg cannot open the file.
_DECORD_ERRORS = (decord.DECORDError, RuntimeError)
# decord wraps FFmpeg errors in "[hh:mm:ss] /build/path/file.cc:123: " prefixes and
# "Check failed: <C expression> (-123 vs. 0)" assertions, noise for a user.
_DECORD_NOISE = re.compile(r"\[\d{2}:\d{2}:\d{2}\] \S+:\d+: |Check failed: .*?\(-?\d+ vs\. 0\) ")
# crf 12 is near-lossless: the videos are small, so every pixel of detail counts more than
# bytes. asm=0: with its assembly, x264 gave different bytes for a second encode of the same
# frames in one process (stale memory, it seems) and different bytes under another CPU feature
# set; plain C is repeatable and costs ~40% more time on small frames.
_X264_OPTIONS = {
    "crf": "12",
    "preset": "medium",
    "threads": "1",
    "flags": "+bitexact",
    "x264-params": "asm=0",
}
_MP4_OPTIONS = {"fflags": "+bitexact"}  # no encoder version string or creation time
_AVCOL_RANGE_MPEG = 1  # limited range, as _yuv420p writes
_AVCOL_SPC_SMPTE170M = 6  # BT.601, as _yuv420p writes


class VideoReadError(RuntimeError):
    """The file could not be opened as a video (corrupt, truncated or not a video)."""


class VideoDecodeError(RuntimeError):
    """Decoding failed after opening: frames before ``frame_index`` decode, that one does not.

    ``frame_index`` is None when the failing frame cannot be located.
    """

    def __init__(self, frame_index: int | None, detail: str) -> None:
        self.frame_index = frame_index
        self.detail = detail
        where = "" if frame_index is None else f" at frame {frame_index}"
        super().__init__(f"decoding failed{where}: {detail}")


@dataclass(frozen=True, eq=False)
class VideoClip:
    """Decoded video: ``frames`` is uint8 RGB of shape (T, H, W, 3)."""

    frames: np.ndarray
    fps: float


@dataclass(frozen=True, eq=False)
class VideoStream:
    """An opened video whose frames are decoded lazily, one RGB uint8 (H, W, 3) array at a time.

    Lazy decoding lets the ingest check and downsize a video frame by frame
    instead of holding every full-resolution frame in memory.
    """

    fps: float
    frames: Iterator[np.ndarray]


def open_video(path: str | os.PathLike[str]) -> VideoStream:
    """Open ``path`` for frame-by-frame decoding; raises VideoReadError if it cannot be opened.

    Iterating ``frames`` raises VideoDecodeError if the stream breaks part-way.
    GIFs are recognised by their signature bytes, not their suffix.
    """
    path = Path(path)
    with path.open("rb") as handle:
        signature = handle.read(6)
    if signature in _GIF_MAGIC:
        return _open_gif(path)
    return _open_with_decord(path)


def read_video(path: str | os.PathLike[str]) -> VideoClip:
    """Decode every frame of ``path`` into a VideoClip (raises VideoReadError/VideoDecodeError)."""
    stream = open_video(path)
    frames = list(stream.frames)
    if not frames:
        raise VideoReadError(f"{path}: no video frames")
    return VideoClip(frames=np.stack(frames), fps=stream.fps)


def readable_frames(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(frames that decode before the first damaged packet, frames the container declares or 0).

    For a file cut short: FFmpeg marks the packet the end of the file cuts as corrupt, so decoding
    stops before it, and the frames the decoder still holds back (for B-frame reordering) are
    flushed out: they are whole. (0, 0) when FFmpeg cannot open the file at all.
    """
    decoded = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_count = 1
            declared = stream.frames
            try:
                for packet in container.demux(stream):
                    if packet.is_corrupt:
                        break
                    decoded += len(stream.decode(packet))
                decoded += len(stream.decode(None))
            except av.FFmpegError:
                pass  # the frames decoded so far are the answer
    except (av.FFmpegError, IndexError):  # IndexError: no video stream
        return 0, 0
    return decoded, declared


def as_rgb(frames: np.ndarray) -> np.ndarray:
    """Return uint8 frames as (..., H, W, 3) RGB: grayscale is repeated, an alpha channel dropped.

    Accepts (T, H, W) grayscale or (T, H, W, C) with C in 1, 3, 4.
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {frames.dtype}")
    if frames.ndim == 3:
        frames = frames[..., np.newaxis]
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"frames must have shape (T, H, W) or (T, H, W, 1|3|4), got {frames.shape}"
        )
    if frames.shape[-1] == 1:
        return np.repeat(frames, 3, axis=-1)
    return frames[..., :3]


def write_video(path: str | os.PathLike[str], frames: np.ndarray, fps: float) -> Path:
    """Write uint8 frames (T, H, W[, C]) to ``path`` as H.264 .mp4 or animated .gif; return path.

    Grayscale and RGBA input become RGB. H.264 in yuv420p needs even sizes, so
    an odd height or width is padded by one replicated row or column; equal
    frames give byte-identical mp4s (see the module docstring). The file
    appears atomically (lamp.io.atomic_path), so a crash never leaves a
    half-written video under the final name.
    """
    path = Path(path)
    writer = _WRITERS.get(path.suffix.lower())
    if writer is None:
        raise ValueError(f"cannot write {path}: suffix must be one of {sorted(_WRITERS)}")
    frames = as_rgb(frames)
    if len(frames) == 0:
        raise ValueError(f"cannot write {path}: no frames")
    if not fps > 0:
        raise ValueError(f"cannot write {path}: fps must be positive, got {fps}")
    with atomic_path(path) as temporary:
        writer(temporary, frames, fps)
    return path


def as_stored_in_mp4(frames: np.ndarray, fps: float) -> np.ndarray:
    """uint8 RGB ``frames`` as an MP4 of :func:`write_video` at ``fps`` reads them back.

    H.264 at a constant rate factor still moves colours by a few levels, more in the frames it
    predicts than in the first, and differently at another frame rate; a measure that compares
    frames 2..l with frame 1 of the generated MP4s compares its references the same way.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = write_video(Path(folder) / "frames.mp4", frames, fps)
        return read_video(path).frames[:, : frames.shape[1], : frames.shape[2]]


def _open_with_decord(path: Path) -> VideoStream:
    try:
        reader = decord.VideoReader(str(path), ctx=decord.cpu(0))
    except _DECORD_ERRORS as error:
        raise VideoReadError(_short_error(error)) from error
    return VideoStream(fps=float(reader.get_avg_fps()), frames=_decord_frames(reader, path))


def _decord_frames(reader: decord.VideoReader, path: Path) -> Iterator[np.ndarray]:
    # Sequential next() rather than one get_batch: never holds more than one
    # decoded full-size frame at a time.
    declared = len(reader)
    for index in range(declared):
        try:
            frame = reader.next()
        except StopIteration:
            raise VideoDecodeError(
                index, f"stream ended early, the container declares {declared} frames"
            ) from None
        except _DECORD_ERRORS as error:
            yield from _frames_up_to_break(path, start=index, decord_detail=_short_error(error))
            return
        array = frame.asnumpy()
        if array.shape[-1] != 3:
            # decord 0.6 reads the padding of FFmpeg's aligned RGB rows as pixels for some widths
            # (16, 24, 48, 72, ...: (h, 48, 4) instead of (h, 48, 3)); PyAV decodes them right.
            yield from _pyav_frames(path, start=index)
            return
        yield array


def _frames_up_to_break(path: Path, start: int, decord_detail: str) -> Iterator[np.ndarray]:
    """Frames from ``start`` up to the first one FFmpeg cannot decode, then VideoDecodeError.

    decord cannot say where a stream breaks: it decodes in a worker thread that
    runs ahead of the frame it returns, so the frame at which it raises, and
    even its message, vary from run to run (anywhere from frame 0 to 14 for an
    AVI cut inside frame 14). PyAV decoding in one thread stops at the same
    frame with the same error every time, which keeps verdicts reproducible.
    If FFmpeg conceals the damage decord rejected, the break cannot be located
    (frame_index None) and decord's message is all there is.
    """
    yield from _pyav_frames(path, start)
    raise VideoDecodeError(
        None, f"{decord_detail} (FFmpeg conceals the damage, so no frame is named)"
    )


def _pyav_frames(path: Path, start: int) -> Iterator[np.ndarray]:
    """RGB frames from ``start`` on, decoded by PyAV in one thread; VideoDecodeError where FFmpeg fails."""
    decoded = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_count = 1
            for frame in container.decode(stream):
                if decoded >= start:
                    yield frame.to_ndarray(format="rgb24")
                decoded += 1
    except av.FFmpegError as error:
        raise VideoDecodeError(decoded, error.strerror or str(error)) from None


def _open_gif(path: Path) -> VideoStream:
    """Decode a GIF with Pillow (decord cannot read GIFs).

    GIFs are decoded up front because the frame rate is the mean of per-frame
    delays, known only after reading them all; a break part-way is replayed as
    VideoDecodeError at the frame where Pillow stopped.
    """
    try:
        image = Image.open(path)
    except _PILLOW_ERRORS as error:
        raise VideoReadError(str(error)) from error
    frames: list[np.ndarray] = []
    delays_ms: list[float] = []
    failure: str | None = None
    with image:
        try:
            for frame in ImageSequence.Iterator(image):
                frames.append(_gif_frame_rgb(frame))
                delays_ms.append(float(frame.info.get("duration") or 0))
        except _PILLOW_ERRORS as error:
            failure = str(error) or type(error).__name__
    return VideoStream(fps=_gif_fps(delays_ms), frames=_replay(frames, failure))


def _gif_frame_rgb(frame: Image.Image) -> np.ndarray:
    # Transparent pixels are composited onto black so their colour is defined
    # instead of whatever the palette happens to hold at the transparent index.
    rgba = frame.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
    return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))


def _gif_fps(delays_ms: list[float]) -> float:
    """Frames per second of the mean delay as browsers play it."""
    played = [d if d > _GIF_MIN_DELAY_MS else _GIF_FALLBACK_DELAY_MS for d in delays_ms]
    if not played:
        return 1000.0 / _GIF_FALLBACK_DELAY_MS
    return 1000.0 / (sum(played) / len(played))


def _replay(frames: list[np.ndarray], failure: str | None) -> Iterator[np.ndarray]:
    yield from frames
    if failure is not None:
        raise VideoDecodeError(len(frames), failure)


def _short_error(error: BaseException) -> str:
    """First line of a decoder message without decord's timestamp and source-file prefixes."""
    message = _DECORD_NOISE.sub("", str(error)).strip()
    return message.splitlines()[0] if message else type(error).__name__


def _write_mp4(path: Path, frames: np.ndarray, fps: float) -> None:
    # yuv420p stores chroma at half resolution, hence even sizes; padding rather
    # than cropping keeps every input pixel.
    height, width = frames.shape[1:3]
    frames = np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    rate = Fraction(fps).limit_denominator(1001)
    # format="mp4": the temporary name's .tmp suffix says nothing about the container.
    with av.open(str(path), "w", format="mp4", container_options=_MP4_OPTIONS) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.codec_context.thread_count = 1
        stream.codec_context.color_range = _AVCOL_RANGE_MPEG
        stream.codec_context.colorspace = _AVCOL_SPC_SMPTE170M
        stream.options = _X264_OPTIONS
        for index, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(_yuv420p(frame), format="yuv420p")
            # Explicit timestamps: frame i is shown at i / fps whatever the muxer's time base.
            picture.pts, picture.time_base = index, 1 / rate
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))


def _yuv420p(frame: np.ndarray) -> np.ndarray:
    """An RGB uint8 frame as a planar yuv420p array (3 * h / 2, w): BT.601, limited range.

    Chroma is the mean of each 2x2 block, i.e. sampled at the block centre. The
    planes are laid end to end, as PyAV expects, so the chroma planes need not
    fill whole rows (a height of 46 gives 11.5 rows each).
    """
    rgb = frame.astype(np.float64) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16.0 + 65.481 * r + 128.553 * g + 24.966 * b
    cb = 128.0 - 37.797 * r - 74.203 * g + 112.0 * b
    cr = 128.0 + 112.0 * r - 93.786 * g - 18.214 * b
    h, w = y.shape

    def quarter(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)).ravel()

    planes = np.concatenate([y.ravel(), quarter(cb), quarter(cr)]).reshape(h * 3 // 2, w)
    return np.clip(np.rint(planes), 0, 255).astype(np.uint8)


def _write_gif(path: Path, frames: np.ndarray, fps: float) -> None:
    # Pillow rather than FFmpeg's gif encoder, which only offers a fixed 8-bit
    # palette; Pillow picks a palette per frame. Pillow merges consecutive
    # identical frames (summing their delays), so a still stretch plays the same
    # but reads back with fewer frames.
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=round(1000.0 / fps),
        loop=0,
    )


_WRITERS = {".mp4": _write_mp4, ".gif": _write_gif}
