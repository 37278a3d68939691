"""The mini renderer: reproducible files, decodable videos, distinct motions, sound captions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import decord
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lamp.data import write_video
from lamp.mini import (
    BACKGROUNDS,
    COLOURS,
    MOTIONS,
    SHAPES,
    Content,
    VideoSpec,
    colour_rgb,
    evaluation_prompts,
    motion_caption,
    parse_caption,
    render_background,
    render_video,
    still_contents,
    training_contents,
    write_eval_prompts,
    write_motion_dataset,
    write_still_dataset,
)

SIZE = {"n_frames": 12, "height": 48, "width": 64, "fps": 8}
VIDEOS_PER_MOTION = 2
# a spread of colours, shapes and backgrounds, so each motion check sees several contents
CONTENTS = (
    Content("red", "star", "black"),
    Content("blue", "circle", "sky"),
    Content("green", "triangle", "grass"),
    Content("white", "square", "sand"),
)


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its relative path."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A small motion dataset written once for the whole module."""
    root = tmp_path_factory.mktemp("videos")
    return root, write_motion_dataset(root, videos_per_motion=VIDEOS_PER_MOTION, seed=0, **SIZE)


# ---------------------------------------------------------------------------------------------
# Reproducibility


def test_motion_dataset_is_byte_identical_for_equal_arguments(videos, tmp_path):
    root, table = videos
    again = write_motion_dataset(tmp_path, videos_per_motion=VIDEOS_PER_MOTION, seed=0, **SIZE)
    first, second = _files(root), _files(tmp_path)
    expected = [f"{m}/{m}_{i:02d}.mp4" for m in MOTIONS for i in range(VIDEOS_PER_MOTION)]
    assert sorted(first) == sorted(expected)
    assert first == second
    pd.testing.assert_frame_equal(
        table.assign(path=table.path.str.replace(root.as_posix(), "")),
        again.assign(path=again.path.str.replace(tmp_path.as_posix(), "")),
    )


def test_motion_dataset_changes_with_the_seed(videos, tmp_path):
    root, table = videos
    other = write_motion_dataset(tmp_path, videos_per_motion=VIDEOS_PER_MOTION, seed=1, **SIZE)
    first, second = _files(root), _files(tmp_path)
    assert all(first[name] != second[name] for name in first)
    assert list(table.seed) != list(other.seed)


def test_still_dataset_is_byte_identical_for_equal_arguments_and_changes_with_the_seed(tmp_path):
    a, b, c = (
        write_still_dataset(tmp_path / name, 12, 32, 32, seed=seed)
        for name, seed in (("a", 0), ("b", 0), ("c", 1))
    )
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert len(_files(tmp_path / "a")) == 13  # 12 images + captions.csv
    different = _files(tmp_path / "c")
    assert all(different[name] != data for name, data in _files(tmp_path / "a").items())
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_eval_prompts_file_is_byte_identical_for_equal_arguments(tmp_path):
    training = {m: training_contents(m, 12, 0) for m in MOTIONS}
    for name in ("a.csv", "b.csv"):
        write_eval_prompts(tmp_path / name, MOTIONS, training, seed=0)
    write_eval_prompts(tmp_path / "c.csv", MOTIONS, training, seed=1)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()


def test_render_video_is_a_pure_function_of_the_spec():
    spec = VideoSpec("rain", CONTENTS[0], seed=3, **SIZE)
    np.testing.assert_array_equal(render_video(spec), render_video(spec))
    other = VideoSpec("rain", CONTENTS[0], seed=4, **SIZE)
    assert not np.array_equal(render_video(spec), render_video(other))


def test_repeated_encodes_of_the_same_frames_give_identical_bytes(tmp_path):
    # with x264's assembly enabled, later encodes in one process sometimes gave other bytes
    for seed, motion in enumerate(MOTIONS):
        frames = render_video(VideoSpec(motion, CONTENTS[seed % len(CONTENTS)], seed, **SIZE))
        encoded = set()
        for attempt in range(3):
            write_video(tmp_path / f"{attempt}.mp4", frames, SIZE["fps"])
            encoded.add((tmp_path / f"{attempt}.mp4").read_bytes())
        assert len(encoded) == 1, motion


# ---------------------------------------------------------------------------------------------
# Files


def test_decord_reads_every_video_with_its_frame_count_size_and_fps(videos):
    _, table = videos
    assert len(table) == len(MOTIONS) * VIDEOS_PER_MOTION
    columns = ["motion", "path", "caption", "colour", "shape", "background", "seed"]
    assert list(table.columns) == columns
    for row in table.itertuples():
        assert row.caption == motion_caption(Content(row.colour, row.shape, row.background), row.motion)
        reader = decord.VideoReader(row.path)
        assert len(reader) == SIZE["n_frames"]
        assert reader[0].shape == (SIZE["height"], SIZE["width"], 3)
        assert reader.get_avg_fps() == pytest.approx(SIZE["fps"])


def test_decoded_videos_match_the_rendered_frames(videos):
    _, table = videos
    for row in table.itertuples():
        decoded = decord.VideoReader(row.path).get_batch(list(range(SIZE["n_frames"]))).asnumpy()
        rendered = render_video(VideoSpec(row.motion, parse_caption(row.caption), row.seed, **SIZE))
        mse = np.mean((decoded.astype(np.float64) - rendered) ** 2)
        assert 10 * np.log10(255**2 / mse) > 25, row.path  # dB; chroma subsampling costs the most


def test_still_dataset_files_and_caption_table(tmp_path):
    table = write_still_dataset(tmp_path, 5, 32, 48, seed=0)
    assert list(table.columns) == ["file_name", "caption", "colour", "shape", "background"]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "captions.csv"), table)
    for row in table.itertuples():
        with Image.open(tmp_path / row.file_name) as image:
            assert (image.mode, image.size) == ("RGB", (48, 32))
        assert parse_caption(row.caption) == Content(row.colour, row.shape, row.background)


def test_still_contents_cover_every_combination_evenly():
    counts = Counter(still_contents(200, seed=0))
    assert len(counts) == len(COLOURS) * len(SHAPES) * len(BACKGROUNDS)
    assert set(counts.values()) <= {2, 3}


def test_odd_frame_sizes_are_rejected():
    with pytest.raises(ValueError):
        VideoSpec("rain", CONTENTS[0], seed=0, n_frames=4, height=47, width=64)


# ---------------------------------------------------------------------------------------------
# Motions, measured on rendered frames


def _render(motion: str, content: Content, seed: int) -> np.ndarray:
    """16 frames of ``motion`` at 48x64."""
    return render_video(VideoSpec(motion, content, seed=seed, n_frames=16, height=48, width=64))


def _foreground(frames: np.ndarray, background: str) -> np.ndarray:
    """Per-frame masks of the pixels that differ clearly from the bare background."""
    plain = render_background(background, *frames.shape[1:3]).astype(np.int16)
    return np.abs(frames.astype(np.int16) - plain).max(axis=-1) > 40


def _centroids(masks: np.ndarray) -> np.ndarray:
    """(n, 2) mean (x, y) of each mask."""
    ys, xs = np.nonzero(np.ones(masks.shape[1:], dtype=bool))
    flat = masks.reshape(len(masks), -1).astype(np.float64)
    return np.stack([flat @ xs, flat @ ys], axis=1) / flat.sum(axis=1, keepdims=True)


def _cases(motion: str) -> list:
    """``(motion, content, seed)`` parameters: one case per content in ``CONTENTS``."""
    return [
        pytest.param(motion, content, seed, id=f"{content.colour}-{content.shape}-{seed}")
        for seed, content in enumerate(CONTENTS)
    ]


@pytest.mark.parametrize("motion", MOTIONS)
def test_every_frame_differs_from_the_previous_one(motion):
    for seed, content in enumerate(CONTENTS):
        frames = _render(motion, content, seed)
        assert frames.shape == (16, 48, 64, 3) and frames.dtype == np.uint8
        changed = [np.mean(a != b) for a, b in zip(frames[:-1], frames[1:])]
        assert min(changed) > 0.002, (content, changed)


@pytest.mark.parametrize(("motion", "content", "seed"), _cases("helicopter"))
def test_helicopter_rises_at_constant_velocity(motion, content, seed):
    masks = _foreground(_render(motion, content, seed), content.background)
    # the body's lowest row: the rotor above it pulses, which moves the centroid
    bottom = np.array([np.nonzero(mask.any(axis=1))[0].max() for mask in masks], dtype=np.float64)
    step = np.diff(bottom)
    assert step.max() <= 0 and bottom[0] - bottom[-1] > 0.3 * 48  # upward, never down
    assert abs(step[: len(step) // 2].sum() - step[len(step) // 2 :].sum()) <= 2.0  # at one speed
    centre = _centroids(masks)
    assert abs(centre[-1, 0] - centre[0, 0]) < 0.5 * (bottom[0] - bottom[-1])  # nearly straight up


@pytest.mark.parametrize(("motion", "content", "seed"), _cases("rain"))
def test_rain_falls_nearly_straight_down_at_one_speed(motion, content, seed):
    masks = _foreground(_render(motion, content, seed), content.background)
    # the drop's lowest row: the thin streaks above it alias at this size, which moves the centroid
    bottom = np.array([np.nonzero(mask.any(axis=1))[0].max() for mask in masks], dtype=np.float64)
    step = np.diff(bottom)
    assert step.min() >= 0 and bottom[-1] - bottom[0] > 0.3 * 48
    assert abs(step[: len(step) // 2].sum() - step[len(step) // 2 :].sum()) <= 2.0
    centre = _centroids(masks)
    assert abs(centre[-1, 0] - centre[0, 0]) < 0.3 * (bottom[-1] - bottom[0])


@pytest.mark.parametrize(("motion", "content", "seed"), _cases("waterfall"))
def test_waterfall_moves_left_and_falls_faster_and_faster(motion, content, seed):
    centre = _centroids(_foreground(_render(motion, content, seed), content.background))
    assert np.all(np.diff(centre[:, 0]) < 0) and centre[0, 0] - centre[-1, 0] > 0.15 * 48
    fall = np.diff(centre[:, 1])
    half = len(fall) // 2
    assert fall[half:].sum() > 2.0 * fall[:half].sum() > 0  # gathering speed


@pytest.mark.parametrize(("motion", "content", "seed"), _cases("firework"))
def test_firework_climbs_up_and_right_slowing(motion, content, seed):
    centre = _centroids(_foreground(_render(motion, content, seed), content.background))
    dx, dy = centre[-1] - centre[0]
    assert dx > 0.15 * 48 and dy < -0.15 * 48
    moved = np.hypot(*np.diff(centre, axis=0).T)
    half = len(moved) // 2
    assert moved[:half].mean() > 1.3 * moved[half:].mean()


@pytest.mark.parametrize(("motion", "content", "seed"), _cases("turn_to_smile"))
def test_turn_to_smile_glides_down_and_right(motion, content, seed):
    frames = _render(motion, content, seed)
    centre = _centroids(_foreground(frames, content.background))
    steps = np.diff(centre, axis=0)
    assert np.all(steps[:, 0] > 0) and np.all(steps[:, 1] > 0)
    assert np.hypot(*(centre[-1] - centre[0])) > 0.3 * 48


@pytest.mark.parametrize(("motion", "content", "seed"), _cases("play_the_guitar"))
def test_play_the_guitar_swings_left_and_right(motion, content, seed):
    centre = _centroids(_foreground(_render(motion, content, seed), content.background))
    assert np.abs(centre[:, 1] - centre[0, 1]).max() < 1.5  # no height change
    assert np.ptp(centre[:, 0]) > 0.2 * 48
    turns = np.sign(np.diff(centre[:, 0]))
    assert np.count_nonzero(turns[1:] != turns[:-1]) >= 1  # back again within 16 frames


@pytest.mark.parametrize(("motion", "content", "seed"), _cases("horse_run"))
def test_horse_runs_forward_with_a_periodic_bounce(motion, content, seed):
    centre = _centroids(_foreground(_render(motion, content, seed), content.background))
    assert np.all(np.diff(centre[:, 0]) > 0)
    assert centre[-1, 0] - centre[0, 0] > 0.25 * 64
    rises = np.sign(np.diff(centre[:, 1]))
    assert np.count_nonzero(rises[1:] != rises[:-1]) >= 3  # up and down, several times


@pytest.mark.parametrize(("motion", "content", "seed"), _cases("birds_fly"))
def test_birds_fly_as_a_flock_to_the_upper_left(motion, content, seed):
    masks = _foreground(_render(motion, content, seed), content.background)
    bodies = [cv2.connectedComponents(mask.astype(np.uint8))[0] - 1 for mask in masks]
    assert np.median(bodies) >= 3
    (dx, dy) = _centroids(masks)[-1] - _centroids(masks)[0]
    assert dx < -0.25 * 48 and dy < -0.15 * 48


# ---------------------------------------------------------------------------------------------
# Captions and prompts


def test_training_contents_are_distinct_balanced_and_per_motion():
    contents = {m: training_contents(m, 12, seed=0) for m in MOTIONS}
    for chosen in contents.values():
        assert len(set(chosen)) == 12
        assert max(Counter(c.colour for c in chosen).values()) == 2
        assert max(Counter(c.shape for c in chosen).values()) == 3
        assert max(Counter(c.background for c in chosen).values()) == 3
    assert len({tuple(chosen) for chosen in contents.values()}) == len(MOTIONS)
    assert training_contents("rain", 12, seed=0) == contents["rain"]


def test_eval_prompts_file_has_six_unseen_prompts_per_motion(tmp_path):
    training = {m: training_contents(m, 12, 0) for m in MOTIONS}
    table = write_eval_prompts(tmp_path / "prompts.csv", MOTIONS, training, n_prompts=6, seed=0)
    on_disk = pd.read_csv(tmp_path / "prompts.csv")
    assert list(on_disk.columns) == ["motion", "prompt"] and len(on_disk) == 48
    pd.testing.assert_frame_equal(on_disk, table)
    for motion, prompts in on_disk.groupby("motion").prompt:
        assert len(set(prompts)) == 6
        assert not {parse_caption(p) for p in prompts} & set(training[motion])
        assert all(p.endswith(", " + motion.replace("_", " ")) for p in prompts)  # frame 1 is drawn as the motion starts


def test_evaluation_prompts_avoid_whatever_training_set_is_given():
    training = training_contents("horse_run", 88, seed=2)  # leaves exactly 8 unseen combinations
    prompts = evaluation_prompts("horse_run", 8, 0, training)
    assert {parse_caption(p) for p in prompts}.isdisjoint(training)
    with pytest.raises(ValueError):
        evaluation_prompts("horse_run", 9, 0, training)


def test_captions_parse_back_into_the_grammar():
    content = Content("purple", "triangle", "sand")
    assert content.caption == "a purple triangle on a sand background"
    assert motion_caption(content, "play_the_guitar") == "a purple triangle on a sand background, play the guitar"
    assert parse_caption(content.caption) == parse_caption(motion_caption(content, "rain")) == content
    for bad in ("a purple triangle on sand", "a pink triangle on a sand background", "a red star on a sky background rain"):
        with pytest.raises(ValueError):
            parse_caption(bad)


def test_stills_show_the_captioned_colour_most(tmp_path):
    table = write_still_dataset(tmp_path, len(COLOURS) * len(SHAPES) * len(BACKGROUNDS), seed=0)
    palette = np.array([colour_rgb(c) for c in COLOURS], dtype=np.float64)
    for row in table.itertuples():
        with Image.open(tmp_path / row.file_name) as image:
            pixels = np.asarray(image).astype(np.float64)
        plain = render_background(row.background, *pixels.shape[:2])
        object_pixels = pixels[np.abs(pixels - plain).max(axis=-1) > 40]
        nearest = np.argmin(((object_pixels[:, None, :] - palette) ** 2).sum(axis=-1), axis=1)
        assert COLOURS[np.bincount(nearest).argmax()] == row.colour, row.caption

