"""The source clip and a given first frame: the clip's frames, the documented resize, clear errors."""

import numpy as np
import PIL.Image
import pytest

from lamp.data import write_video
from lamp.data.windows import clip_span
from lamp.editing import EditInputError, read_first_frame, read_source_clip

from .conftest import write_source_video


def test_the_clip_is_every_stride_th_frame_from_the_first(tmp_path):
    levels = np.arange(10, dtype=np.uint8)[:, None, None, None] * 20  # frame i is grey level 20 i
    write_video(tmp_path / "grey.mp4", np.broadcast_to(levels, (10, 32, 32, 3)), fps=12)
    clip = read_source_clip(tmp_path / "grey.mp4", n_frames=4, stride=3, height=16, width=16)
    assert clip.frames.shape == (4, 16, 16, 3) and clip.fps == 4
    np.testing.assert_allclose(clip.frames.mean(axis=(1, 2, 3)), [0, 60, 120, 180], atol=3)
    assert len(clip.sha256) == 64


def test_another_aspect_is_centre_cropped_then_resized(tmp_path):
    """A 32 x 64 video edited at 16 x 16 keeps its centre 32 x 32 square: the red side bands go."""
    frames = np.zeros((7, 32, 64, 3), np.uint8)
    frames[:, :, :16, 0] = frames[:, :, 48:, 0] = 255
    frames[:, :, 16:48, 1] = 200
    write_video(tmp_path / "wide.mp4", frames, fps=8)
    clip = read_source_clip(tmp_path / "wide.mp4", n_frames=4, stride=2, height=16, width=16)
    assert clip.frames.shape == (4, 16, 16, 3)
    assert clip.frames[..., 0].max() < 40 and clip.frames[..., 1].min() > 160


def test_a_too_short_video_names_the_file_and_the_frames_needed(tmp_path):
    video = write_source_video(tmp_path / "short.mp4", n_frames=6)
    assert clip_span(4, 2) == 7
    with pytest.raises(EditInputError, match=r"short\.mp4 has 6 frames.*needs 7.*longer video"):
        read_source_clip(video, n_frames=4, stride=2, height=16, width=16)


def test_a_missing_or_unreadable_video_is_a_clear_error(tmp_path):
    with pytest.raises(EditInputError, match=r"gone\.mp4 does not exist"):
        read_source_clip(tmp_path / "gone.mp4", 4, 2, 16, 16)
    (tmp_path / "broken.mp4").write_bytes(b"not a video at all")
    with pytest.raises(EditInputError, match=r"cannot read the source video .*broken\.mp4.*give an mp4"):
        read_source_clip(tmp_path / "broken.mp4", 4, 2, 16, 16)


def test_a_given_first_frame_is_cropped_to_the_clip_and_a_bad_one_named(tmp_path):
    pixels = np.zeros((40, 80, 4), np.uint8)
    pixels[:, 20:60] = (0, 255, 0, 255)
    PIL.Image.fromarray(pixels).save(tmp_path / "frame.png")
    image = read_first_frame(tmp_path / "frame.png", 16, 16)
    assert image.size == (16, 16) and image.mode == "RGB"
    assert np.asarray(image)[..., 1].min() > 200
    (tmp_path / "frame.jpg").write_bytes(b"not an image")
    with pytest.raises(EditInputError, match=r"first-frame image .*frame\.jpg"):
        read_first_frame(tmp_path / "frame.jpg", 16, 16)
    with pytest.raises(EditInputError, match=r"missing\.png"):
        read_first_frame(tmp_path / "missing.png", 16, 16)
