"""Motion recognition and frame-1 consistency on synthetic clips: a still video, the opposite direction
and a training clip each get the verdict a person would give."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lamp.data.video_io import as_stored_in_mp4
from lamp.metrics.frame_one import (
    INVISIBLE_SHADES,
    MAX_REFERENCE_WINDOWS,
    frame_one_clip,
    frame_one_colour,
    frame_one_thresholds,
    keeps_frame_one,
    reference_windows,
    shaded,
    training_scores,
)
from lamp.metrics.recognition import STILL, UNRECOGNISED, MotionClassifier, accuracy, clip_windows, moved_and_resized

SIZE, FRAMES = 32, 12


def scene(seed: int) -> np.ndarray:
    """A textured background with a bright square, different per seed."""
    rng = np.random.default_rng(seed)
    base = np.repeat(np.repeat(rng.integers(40, 120, (SIZE // 4, SIZE // 4, 3)), 4, axis=0), 4, axis=1)
    frame = base.astype(np.uint8)
    top, left = rng.integers(4, SIZE - 12, 2)
    frame[top : top + 8, left : left + 8] = rng.integers(180, 255, 3)
    return frame


def moving(seed: int, dy: int, dx: int) -> np.ndarray:
    """``FRAMES`` frames of a scene shifted by (dy, dx) pixels per frame, wrapping around."""
    first = scene(seed)
    return np.stack([np.roll(first, (t * dy, t * dx), axis=(0, 1)) for t in range(FRAMES)])


def pulsing(seed: int) -> np.ndarray:
    """The scene zoomed in and out about its centre: expansion, then contraction, as a burst."""
    import cv2

    first = scene(seed)
    frames = []
    for t in range(FRAMES):
        zoom = 1.0 + 0.05 * (t % 6)
        matrix = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), 0, zoom)
        frames.append(cv2.warpAffine(first, matrix, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT))
    return np.stack(frames)


MOTIONS = {"falls": lambda s: moving(s, 2, 0), "drifts": lambda s: moving(s, 0, 2), "pulses": pulsing}


@pytest.fixture(scope="module")
def classifier() -> MotionClassifier:
    clips = {motion: {f"v{s}": make(s) for s in range(6)} for motion, make in MOTIONS.items()}
    return MotionClassifier.fit(clips, n_frames=6, stride=1)


def test_training_clips_of_unseen_videos_are_recognised(classifier):
    assert accuracy(classifier.held_out()) == 1.0
    for motion, make in MOTIONS.items():
        assert classifier.predict(make(100)[:6]) == motion


@pytest.mark.parametrize("dx, dy, scale", [(6, -5, 1.0), (0, 0, 1.5), (-4, 4, 1.4)])
def test_the_motion_elsewhere_in_the_frame_and_larger_is_still_the_motion(classifier, dx, dy, scale):
    """Where frame 1 puts the object and how large it is are content; the motion is the same."""
    for motion, make in MOTIONS.items():
        verdicts = [classifier.predict(moved_and_resized(make(seed)[:6], dx, dy, scale)) for seed in range(100, 106)]
        assert verdicts.count(motion) >= 5, (motion, verdicts)


def test_the_ceiling_counts_the_clips_own_windows_only(classifier):
    assert any(classifier.augmented)
    assert len(classifier.held_out()) == classifier.augmented.count(False)


def test_a_still_video_is_no_motion(classifier):
    assert classifier.predict(np.repeat(scene(100)[None], 6, axis=0)) == STILL


def test_the_opposite_direction_is_not_the_motion(classifier):
    assert classifier.predict(moving(100, -2, 0)[:6]) != "falls"
    assert classifier.predict(moving(100, 0, -2)[:6]) != "drifts"


def test_flicker_is_unrecognised(classifier):
    noise = np.random.default_rng(0).integers(0, 256, (6, SIZE, SIZE, 3), dtype=np.uint8)
    assert classifier.predict(noise) == UNRECOGNISED


def test_the_classifier_round_trips_through_json_values(classifier):
    again = MotionClassifier.from_dict(classifier.to_dict())
    clip = moving(7, 2, 0)[:6]
    assert again.predict(clip) == classifier.predict(clip)


def test_windows_are_the_clips_training_draws():
    frames = np.arange(10)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    windows = clip_windows(frames, n_frames=3, stride=2, every=2)
    assert [w[:, 0, 0, 0].tolist() for w in windows] == [[0, 2, 4], [2, 4, 6], [4, 6, 8]]


def test_frame_one_scores_say_whether_the_content_stays():
    kept = moving(3, 2, 0)
    replaced = np.concatenate([kept[:1], np.stack([scene(50)] * 5)])
    assert frame_one_colour(kept) > 90 > frame_one_colour(replaced)
    same = torch.nn.functional.normalize(torch.ones(4, 8), dim=1)
    other = torch.cat([same[:1], torch.nn.functional.normalize(-torch.ones(3, 8), dim=1)])
    assert frame_one_clip(same) == pytest.approx(100) and frame_one_clip(other) == pytest.approx(-100)
    thresholds = frame_one_thresholds({"falls": [(90.0, 95.0), (80.0, 97.0), (85.0, 96.0)]})
    assert keeps_frame_one(90.0, 97.0, thresholds["falls"]) and not keeps_frame_one(70.0, 99.0, thresholds["falls"])


def test_frame_one_colour_fails_a_noisy_first_frame_over_clean_frames():
    """Frame 1 visibly noisy, frames 2..l clean: the same shapes, but frame 1's look is not kept."""
    kept = moving(3, 2, 0)
    noise = np.random.default_rng(0).normal(0, 8, kept[0].shape)
    popped = kept.copy()
    popped[0] = np.clip(kept[0] + noise, 0, 255).astype(np.uint8)
    assert frame_one_colour(popped) < 85 < 99 < frame_one_colour(kept)


@pytest.mark.parametrize("levels", [-2, -1, 1, 2, 4])
def test_frame_one_colour_keeps_a_shade_change_nobody_sees(levels):
    """8 hard bins per channel once let a 2-level shade carry a whole flat background into the next bin
    (README: Making the mini motions learnable, ninth round)."""
    assert frame_one_colour(shaded(moving(3, 2, 0), levels)) > 95


def test_frame_one_colour_fails_a_shade_change_a_viewer_sees_and_a_negative():
    kept = moving(3, 2, 0)
    negative = np.concatenate([kept[:1], 255 - kept[1:]])
    assert max(frame_one_colour(shaded(kept, -40)), frame_one_colour(negative)) < 50 < 99 < frame_one_colour(kept)


class OnesClip:
    """A stand-in CLIP whose every frame embeds alike."""

    def image_embeddings(self, frames: np.ndarray) -> torch.Tensor:
        return torch.nn.functional.normalize(torch.ones(len(frames), 4), dim=1)


def test_frame_one_thresholds_score_the_training_windows_shaded_and_as_mp4s_as_the_generated_videos_are():
    clips = {"falls": {"falls_00": moving(3, 2, 0), "falls_01": moving(4, 0, 2)}}
    scores = [c for c, _ in training_scores(clips, OnesClip(), n_frames=6, stride=1, fps=8)["falls"]]
    windows = reference_windows(clips["falls"], 6, 1)
    assert scores == [frame_one_colour(as_stored_in_mp4(shaded(w, n), 8)) for w in windows for n in INVISIBLE_SHADES]
    assert 0 in INVISIBLE_SHADES and scores != [frame_one_colour(shaded(w, n)) for w in windows for n in INVISIBLE_SHADES]


def test_a_threshold_is_set_on_at_most_max_reference_windows_spread_over_every_video():
    frames = np.arange(200, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    by_video = {"a": frames, "b": frames[::-1].copy()}
    windows = reference_windows(by_video, n_frames=4, stride=1)
    assert len(windows) == MAX_REFERENCE_WINDOWS < 2 * len(clip_windows(frames, 4, 1, 2))
    assert windows[0][0, 0, 0, 0] == 0 and windows[-1][0, 0, 0, 0] == 199 - 196
    assert sum(int(w[1, 0, 0, 0]) > int(w[0, 0, 0, 0]) for w in windows) == MAX_REFERENCE_WINDOWS // 2
