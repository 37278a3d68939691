"""Small real video files, encoded once per test session with PyAV and Pillow.

Every good video has 24 frames of 48x64 (HxW) at 8 fps with a square that
moves, so frames differ and GIF writers cannot merge them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from lamp.data import IngestConfig

N_FRAMES = 24
HEIGHT, WIDTH = 48, 64
FPS = 8
SHORT_FRAMES = 10
BROKEN_AT = 14  # the broken AVIs are cut, or zeroed, inside this frame's packet


def moving_square(n_frames: int = N_FRAMES, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """(T, H, W, 3) uint8 frames: dark red background, a white square moving right."""
    frames = np.zeros((n_frames, height, width, 3), np.uint8)
    frames[..., 0] = 60
    side = max(4, min(height, width) // 5)
    for index, frame in enumerate(frames):
        left = (index * 2) % (width - side)
        frame[height // 3 : height // 3 + side, left : left + side] = 255
    return frames


def encode(
    path: Path, frames: np.ndarray, codec: str, pix_fmt: str, fps: int = FPS, **options: str
) -> Path:
    """Encode RGB (T, H, W, 3) or grayscale (T, H, W) frames with PyAV."""
    source_format = "gray" if frames.ndim == 3 else "rgb24"
    with av.open(str(path), mode="w", options=options) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = pix_fmt
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format=source_format)))
        container.mux(stream.encode())
    return path


def save_gif(path: Path, images: list[Image.Image], fps: int = FPS) -> Path:
    images[0].save(path, save_all=True, append_images=images[1:], duration=1000 // fps, loop=0)
    return path


def packet_span(source: Path, packet_index: int) -> tuple[int, int]:
    """Byte offset and size of one video packet (one frame) in ``source``."""
    with av.open(str(source)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    return packets[packet_index].pos, packets[packet_index].size


def cut_inside_packet(source: Path, target: Path, packet_index: int) -> Path:
    """Copy ``source`` up to the middle of one packet, so decoding that frame must fail."""
    start, size = packet_span(source, packet_index)
    target.write_bytes(source.read_bytes()[: start + size // 2])
    return target


def blank_packet(source: Path, target: Path, packet_index: int) -> Path:
    """Copy ``source`` with one packet zeroed: the container stays intact, that frame does not."""
    start, size = packet_span(source, packet_index)
    data = bytearray(source.read_bytes())
    data[start : start + size] = bytes(size)
    target.write_bytes(bytes(data))
    return target


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Name -> path of every sample file, all in one folder."""
    folder = tmp_path_factory.mktemp("videos")
    frames = moving_square()
    gray_images = [Image.fromarray(frame[..., 1]) for frame in frames]
    # Opaque only where the square is (green > 0): the dark red background is transparent.
    alpha = np.where(frames[..., 1:2] > 0, 255, 0).astype(np.uint8)
    rgba_images = [Image.fromarray(frame) for frame in np.concatenate([frames, alpha], axis=-1)]
    made = {
        "mp4": encode(folder / "good.mp4", frames, "libx264", "yuv420p"),
        "mp4_faststart": encode(
            folder / "faststart.mp4", frames, "libx264", "yuv420p", movflags="faststart"
        ),
        "webm": encode(folder / "good.webm", frames, "libvpx-vp9", "yuv420p"),
        "avi": encode(folder / "good.avi", frames, "mjpeg", "yuvj420p"),
        "mkv": encode(folder / "good.mkv", frames, "ffv1", "yuv420p"),
        "mov": encode(folder / "good.mov", frames, "libx264", "yuv420p"),
        "gif": save_gif(folder / "good.gif", [Image.fromarray(f) for f in frames]),
        "portrait": encode(
            folder / "portrait.mp4", moving_square(height=96, width=64), "libx264", "yuv420p"
        ),
        "gray": encode(folder / "gray.mp4", frames[..., 1], "libx264", "gray"),
        "gray_gif": save_gif(folder / "gray.gif", gray_images),
        "rgba_gif": save_gif(folder / "rgba.gif", rgba_images),
        "short": encode(folder / "short.mp4", frames[:SHORT_FRAMES], "libx264", "yuv420p"),
        "empty": folder / "empty.mp4",
        "random": folder / "random.mp4",
        "notes": folder / "notes.txt",
    }
    made["empty"].write_bytes(b"")
    made["random"].write_bytes(np.random.default_rng(0).bytes(4096))
    made["notes"].write_text("not a video\n")
    good_bytes = made["mp4"].read_bytes()
    made["truncated"] = folder / "truncated.mp4"
    made["truncated"].write_bytes(good_bytes[: len(good_bytes) // 2])
    faststart_bytes = made["mp4_faststart"].read_bytes()
    made["truncated_faststart"] = folder / "truncated_faststart.mp4"
    made["truncated_faststart"].write_bytes(faststart_bytes[: len(faststart_bytes) // 2])
    # A copy of a faststart mp4 that stopped inside frame BROKEN_AT: the index is whole, frames are not.
    made["cut_faststart"] = cut_inside_packet(made["mp4_faststart"], folder / "cut_faststart.mp4", BROKEN_AT)
    made["broken_avi"] = cut_inside_packet(made["avi"], folder / "broken.avi", BROKEN_AT)
    made["blank_frame_avi"] = blank_packet(made["avi"], folder / "blank_frame.avi", BROKEN_AT)
    made["blank_first_avi"] = blank_packet(made["avi"], folder / "blank_first.avi", 0)
    gif_bytes = made["gif"].read_bytes()
    made["broken_gif"] = folder / "broken.gif"
    made["broken_gif"].write_bytes(gif_bytes[: len(gif_bytes) // 2])
    return made


@pytest.fixture
def config() -> IngestConfig:
    """32x32 clips of 16 frames: every good sample video is long and large enough."""
    return IngestConfig(height=32, width=32, n_sample_frames=16)


@pytest.fixture
def motion_folder(tmp_path: Path, videos: dict[str, Path]) -> Callable[..., Path]:
    """Builds ``tmp_path/<motion>/`` holding copies of the named sample files."""

    def build(motion: str, *names: str) -> Path:
        folder = tmp_path / motion
        folder.mkdir()
        for name in names:
            shutil.copy(videos[name], folder / videos[name].name)
        return folder

    return build
