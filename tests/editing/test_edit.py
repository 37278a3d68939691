"""A whole edit on tiny models: the clip's frame count and size, frame 1 held at the edited first frame."""

import numpy as np
import PIL.Image
import pytest
import torch

from lamp.editing import SamplingSettings, edit_video, read_source_clip, side_by_side, tune_config
from lamp.models.files import WEIGHTS_NAME

from .conftest import write_source_video

SAMPLING = SamplingSettings(num_inference_steps=3, guidance_scale=3.0)
TUNE = tune_config({"max_train_steps": 2, "learning_rate": 1e-3}, n_frames=4)


@pytest.fixture
def source(tmp_path):
    """A 40 x 64 video edited at 32 x 32: 4 frames at stride 2, centre-cropped."""
    return read_source_clip(write_source_video(tmp_path / "source.mp4", 9, 40, 64), 4, 2, 32, 32)


def test_the_edit_has_the_clips_frames_and_size_and_frame_one_is_the_edited_first_frame(pipe, source, tmp_path):
    first_frame = PIL.Image.fromarray(np.full((32, 32, 3), (200, 40, 40), np.uint8))
    result = edit_video(pipe, source, "a red star", TUNE, SAMPLING, tmp_path / "model", "a white square",
                        first_frame=first_frame)
    assert result.frames.shape == source.frames.shape and result.frames.dtype == np.uint8
    first_latent = pipe.first_frame_latent(first_frame, 32, 32, SAMPLING.generator())
    assert torch.equal(result.latents[:, :, 0], first_latent)
    assert np.array_equal(result.frames[0], pipe.decode(first_latent[:, :, None])[0])
    assert result.inverted_latents.shape == (1, 4, 4, 16, 16)
    assert len(result.training.losses) == 2 and (tmp_path / "model" / WEIGHTS_NAME).is_file()
    assert not pipe.unet.training


def test_without_a_first_frame_the_drawer_redraws_the_sources_first_frame(pipe, source, tmp_path):
    calls = []

    def draw(frame, prompt, generator):
        calls.append((frame, prompt))
        return PIL.Image.fromarray(255 - frame)

    result = edit_video(pipe, source, "a red star", TUNE, SAMPLING, tmp_path / "model", draw_first_frame=draw)
    [(frame, prompt)] = calls
    assert np.array_equal(frame, source.frames[0]) and prompt == "a red star"
    assert np.array_equal(np.asarray(result.first_frame), 255 - source.frames[0])
    with pytest.raises(ValueError, match="first_frame"):
        edit_video(pipe, source, "a red star", TUNE, SAMPLING, tmp_path / "model")


def test_tuning_trains_on_the_whole_clip_unmirrored_without_checkpoints():
    config = tune_config({"learning_rate": 3e-5}, n_frames=24)
    assert (config.n_sample_frames, config.sample_frame_rate, config.random_flip) == (24, 1, False)
    assert config.max_train_steps == 500 and config.checkpointing_steps > config.max_train_steps


def test_side_by_side_puts_the_edit_right_of_the_source():
    source, edited = np.zeros((3, 8, 6, 3), np.uint8), np.full((3, 8, 6, 3), 9, np.uint8)
    both = side_by_side(source, edited)
    assert both.shape == (3, 8, 12, 3) and (both[:, :, :6] == 0).all() and (both[:, :, 6:] == 9).all()
