"""Reading every supported container, and writing mp4/gif atomically."""

from __future__ import annotations

from pathlib import Path

import decord
import numpy as np
import pytest
from PIL import Image

from lamp.data import VideoDecodeError, VideoReadError, as_rgb, read_video, write_video
from lamp.data import video_io
from lamp.data.video_io import as_stored_in_mp4

from .conftest import BROKEN_AT, FPS, HEIGHT, N_FRAMES, SHORT_FRAMES, WIDTH, moving_square


@pytest.mark.parametrize("name", ["mp4", "mp4_faststart", "webm", "avi", "mkv", "mov", "gif"])
def test_read_video_decodes_every_container(videos: dict[str, Path], name: str) -> None:
    clip = read_video(videos[name])
    assert clip.frames.shape == (N_FRAMES, HEIGHT, WIDTH, 3)
    assert clip.frames.dtype == np.uint8
    assert clip.fps == pytest.approx(FPS, rel=0.05)
    # The moving square: consecutive frames differ, so no frame was duplicated or dropped.
    assert all((a != b).any() for a, b in zip(clip.frames, clip.frames[1:]))


def test_decord_itself_cannot_read_gif(videos: dict[str, Path]) -> None:
    # Why the GIF reader exists; if decord ever learns GIF this test says so.
    with pytest.raises(decord.DECORDError, match="broken metadata"):
        decord.VideoReader(str(videos["gif"]))


def test_gif_is_recognised_by_content_not_suffix(videos: dict[str, Path], tmp_path: Path) -> None:
    disguised = tmp_path / "actually_a_gif.mp4"
    disguised.write_bytes(videos["gif"].read_bytes())
    assert read_video(disguised).frames.shape == (N_FRAMES, HEIGHT, WIDTH, 3)


def test_portrait_video_keeps_its_orientation(videos: dict[str, Path]) -> None:
    assert read_video(videos["portrait"]).frames.shape == (N_FRAMES, 96, 64, 3)


@pytest.mark.parametrize("name", ["gray", "gray_gif"])
def test_grayscale_becomes_three_equal_channels(videos: dict[str, Path], name: str) -> None:
    frames = read_video(videos[name]).frames
    assert frames.shape == (N_FRAMES, HEIGHT, WIDTH, 3)
    assert np.array_equal(frames[..., 0], frames[..., 1])
    assert np.array_equal(frames[..., 1], frames[..., 2])
    assert frames.max() > 200  # the white square survived


def test_rgba_gif_transparency_becomes_black(videos: dict[str, Path]) -> None:
    frames = read_video(videos["rgba_gif"]).frames
    assert frames.shape == (N_FRAMES, HEIGHT, WIDTH, 3)
    assert (frames[0, 0, 0] == 0).all()  # transparent background, not its dark red
    expected = moving_square()[0]
    square = expected[..., 1] == 255
    assert (frames[0][square] == 255).all()


@pytest.mark.parametrize("name", ["random", "truncated", "truncated_faststart", "empty"])
def test_unreadable_files_raise_read_error(videos: dict[str, Path], name: str) -> None:
    with pytest.raises(VideoReadError):
        read_video(videos[name])


@pytest.mark.parametrize(("name", "at"), [("broken_avi", BROKEN_AT), ("broken_gif", None)])
def test_stream_broken_part_way_reports_the_frame(
    videos: dict[str, Path], name: str, at: int | None
) -> None:
    stream = video_io.open_video(videos[name])
    decoded = 0
    with pytest.raises(VideoDecodeError) as caught:
        for _ in stream.frames:
            decoded += 1
    assert caught.value.frame_index == decoded
    assert 0 < decoded < N_FRAMES
    if at is not None:
        assert decoded == at


def test_short_video_reads_all_its_frames(videos: dict[str, Path]) -> None:
    assert len(read_video(videos["short"]).frames) == SHORT_FRAMES


def test_as_rgb_expands_gray_and_drops_alpha() -> None:
    gray = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert as_rgb(gray).shape == (2, 3, 4, 3)
    assert np.array_equal(as_rgb(gray)[..., 2], gray)
    rgba = np.zeros((2, 3, 4, 4), np.uint8)
    rgba[..., 3] = 255
    assert np.array_equal(as_rgb(rgba), rgba[..., :3])
    with pytest.raises(ValueError, match="uint8"):
        as_rgb(gray.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        as_rgb(np.zeros((2, 3, 4, 2), np.uint8))


def test_write_mp4_round_trips_through_decord(tmp_path: Path) -> None:
    frames = moving_square(n_frames=10)
    written = write_video(tmp_path / "out" / "clip.mp4", frames, fps=12)
    assert written == tmp_path / "out" / "clip.mp4"
    reader = decord.VideoReader(str(written))
    assert len(reader) == 10
    assert reader.get_avg_fps() == pytest.approx(12)
    decoded = reader.get_batch(list(range(10))).asnumpy()
    assert decoded.shape == (10, HEIGHT, WIDTH, 3)
    # crf 12 H.264 of a flat scene: close to the input, not bit-exact.
    assert np.abs(decoded.astype(int) - frames).mean() < 4
    assert sorted(p.name for p in written.parent.iterdir()) == ["clip.mp4"]


def test_write_mp4_pads_odd_sizes_to_even(tmp_path: Path) -> None:
    odd = moving_square(n_frames=3, height=47, width=63)
    written = write_video(tmp_path / "odd.mp4", odd, fps=8)
    assert read_video(written).frames.shape == (3, 48, 64, 3)


def test_frames_as_stored_in_mp4_are_what_the_written_file_reads_back(tmp_path: Path) -> None:
    odd = moving_square(n_frames=4, height=47, width=63)
    stored = as_stored_in_mp4(odd, fps=8)
    written = read_video(write_video(tmp_path / "odd.mp4", odd, fps=8)).frames
    assert stored.shape == odd.shape
    assert np.array_equal(stored, written[:, :47, :63])
    assert 0 < np.abs(stored.astype(int) - odd).mean() < 4


@pytest.mark.parametrize("width", [16, 24, 48, 72])
def test_widths_decord_misreads_are_read_right(tmp_path: Path, width: int) -> None:
    # decord 0.6 returns (h, 48, 4) for a 48-wide video: FFmpeg's row padding read as pixels.
    frames = moving_square(n_frames=3, height=32, width=width)
    clip = read_video(write_video(tmp_path / "clip.mp4", frames, fps=8))
    assert clip.frames.shape == (3, 32, width, 3)
    assert np.abs(clip.frames.astype(int) - frames).mean() < 4


def test_write_mp4_handles_heights_not_a_multiple_of_four(tmp_path: Path) -> None:
    # yuv420p chroma planes of a 46-row frame are 23 rows of half width: not whole rows of the
    # full width, which the planar array handed to PyAV must not assume.
    frames = moving_square(n_frames=4, height=46, width=62)
    clip = read_video(write_video(tmp_path / "clip.mp4", frames, fps=8))
    assert clip.frames.shape == (4, 46, 62, 3)
    assert np.abs(clip.frames.astype(int) - frames).mean() < 4


def test_write_mp4_accepts_fractional_fps(tmp_path: Path) -> None:
    written = write_video(tmp_path / "ntsc.mp4", moving_square(n_frames=6), fps=30000 / 1001)
    assert read_video(written).fps == pytest.approx(29.97, abs=0.01)


def test_write_gif_round_trips(tmp_path: Path) -> None:
    frames = moving_square(n_frames=10)
    clip = read_video(write_video(tmp_path / "clip.gif", frames, fps=10))
    assert clip.frames.shape == (10, HEIGHT, WIDTH, 3)
    assert clip.fps == pytest.approx(10)
    assert np.abs(clip.frames.astype(int) - frames).mean() < 2


def test_write_video_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"old")
    write_video(target, moving_square(n_frames=4), fps=8)
    assert len(read_video(target).frames) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_failed_write_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_halfway(path: Path, frames: np.ndarray, fps: float) -> None:
        path.write_bytes(b"partial")
        raise RuntimeError("encoder crashed")

    monkeypatch.setitem(video_io._WRITERS, ".mp4", fail_halfway)
    with pytest.raises(RuntimeError, match="encoder crashed"):
        write_video(tmp_path / "clip.mp4", moving_square(n_frames=2), fps=8)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "frames", "fps", "message"),
    [
        ("clip.avi", moving_square(n_frames=2), 8, "suffix"),
        ("clip.mp4", np.zeros((0, 8, 8, 3), np.uint8), 8, "no frames"),
        ("clip.mp4", moving_square(n_frames=2), 0, "fps"),
        ("clip.mp4", moving_square(n_frames=2).astype(np.float32), 8, "uint8"),
    ],
)
def test_write_video_rejects_bad_arguments(
    tmp_path: Path, name: str, frames: np.ndarray, fps: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        write_video(tmp_path / name, frames, fps)
    assert list(tmp_path.iterdir()) == []


def test_gif_without_delays_plays_at_browser_speed(tmp_path: Path) -> None:
    images = [Image.fromarray(frame) for frame in moving_square(n_frames=3)]
    path = tmp_path / "no_delay.gif"
    images[0].save(path, save_all=True, append_images=images[1:], duration=0, loop=0)
    assert read_video(path).fps == pytest.approx(10.0)

