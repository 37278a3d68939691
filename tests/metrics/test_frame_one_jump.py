"""The frame-1 jump benchmark tells a pop at frame 2 from a drift and from a still video."""

from __future__ import annotations

import numpy as np
import pytest

from ..conftest import import_benchmark


@pytest.fixture(scope="module")
def jump_statistics():
    return import_benchmark("frame_one_jump").jump_statistics


def _video(colours: list[tuple[int, int, int]]) -> np.ndarray:
    """One flat frame per colour, a grey square in the middle of each."""
    frames = np.empty((len(colours), 32, 32, 3), np.uint8)
    frames[:] = np.asarray(colours, np.uint8)[:, None, None]
    frames[:, 12:20, 12:20] = 128
    return frames


def test_a_still_video_keeps_everything(jump_statistics):
    assert jump_statistics(_video([(200, 40, 40)] * 8)) == {"jump": 100.0, "steps": 100.0, "after_jump": 100.0, "whole": 100.0}


def test_a_pop_loses_the_jump_and_keeps_the_rest(jump_statistics):
    stats = jump_statistics(_video([(200, 40, 40)] + [(40, 40, 200)] * 7))
    assert stats["jump"] < 30 and stats["whole"] < 30
    assert stats["steps"] == 100.0 and stats["after_jump"] == 100.0


def test_a_drift_loses_the_frames_after_the_jump_too(jump_statistics):
    stats = jump_statistics(_video([(200, 40, 40), (200, 40, 40)] + [(40 + 32 * i, 40, 40) for i in range(6)]))
    assert stats["jump"] == 100.0
    assert stats["after_jump"] < 40 and stats["steps"] < 40
