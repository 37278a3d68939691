"""Verdicts on every kind of file, resizing geometry, the manifest, and the failure policies."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lamp.data import (
    BadVideoError,
    IngestConfig,
    TooFewVideosError,
    ingest_motion,
    manifest_frame,
    motion_prompt,
    probe_video,
    resize_frames,
)
from lamp.data import file_kind, ingest, video_io

from .conftest import BROKEN_AT, FPS, HEIGHT, N_FRAMES, SHORT_FRAMES, WIDTH

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


# --- configuration and prompts -------------------------------------------------


def test_config_accepts_yaml_style_extensions_and_normalises_case() -> None:
    config = IngestConfig(height=8, width=8, n_sample_frames=4, extensions=[".MP4", ".gif"])
    assert config.extensions == (".mp4", ".gif")


def test_clip_span_is_the_span_of_one_strided_clip() -> None:
    assert IngestConfig(8, 8, n_sample_frames=16, sample_frame_rate=3).clip_span == 46
    assert IngestConfig(8, 8, n_sample_frames=1).clip_span == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"height": 0}, "height"),
        ({"width": -4}, "width"),
        ({"n_sample_frames": 2.5}, "n_sample_frames"),
        ({"sample_frame_rate": True}, "sample_frame_rate"),
        ({"min_videos": 0}, "min_videos"),
        ({"resize_mode": "pad"}, "resize_mode"),
        ({"on_bad_video": "ignore"}, "on_bad_video"),
        ({"extensions": ()}, "extensions"),
        ({"extensions": ("mp4",)}, "extensions"),
    ],
)
def test_config_rejects_bad_values(changes: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"IngestConfig.{field}"):
        IngestConfig(**({"height": 8, "width": 8, "n_sample_frames": 4} | changes))


def test_motion_prompt_from_folder_name_or_mapping() -> None:
    assert motion_prompt("horse_run") == "horse run"
    assert motion_prompt("firework__burst_") == "firework burst"
    assert motion_prompt("horse_run", {"horse_run": "a horse galloping"}) == "a horse galloping"
    assert motion_prompt("rain", {"horse_run": "a horse galloping"}) == "rain"
    with pytest.raises(ValueError, match="empty prompt"):
        motion_prompt("___")


# --- verdicts --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mp4", "webm", "avi", "mkv", "mov", "gif", "gray", "gray_gif"])
def test_good_videos_are_kept(videos: dict[str, Path], config: IngestConfig, name: str) -> None:
    record = probe_video(videos[name], config)
    assert record.kept, record.reason
    assert record.reason == ""
    assert (record.n_frames, record.height, record.width) == (N_FRAMES, HEIGHT, WIDTH)
    assert record.fps == pytest.approx(FPS, rel=0.05)
    assert record.motion == videos[name].parent.name
    assert record.path == videos[name].as_posix()
    assert record.sha256 == hashlib.sha256(videos[name].read_bytes()).hexdigest()


def test_unsupported_file_type_is_recorded_not_raised(
    videos: dict[str, Path], config: IngestConfig
) -> None:
    record = probe_video(videos["notes"], config)
    assert not record.kept
    assert record.reason.startswith("unsupported file type '.txt'")
    assert record.sha256 == hashlib.sha256(b"not a video\n").hexdigest()


def test_extension_outside_the_configured_list_is_unsupported(
    videos: dict[str, Path], config: IngestConfig
) -> None:
    record = probe_video(videos["gif"], replace(config, extensions=(".mp4",)))
    assert record.reason.startswith("unsupported file type '.gif'")


def test_zero_byte_file(videos: dict[str, Path], config: IngestConfig) -> None:
    record = probe_video(videos["empty"], config)
    assert not record.kept
    assert record.reason == "empty file (0 bytes)"
    assert record.sha256 == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("name", ["random", "truncated", "truncated_faststart"])
def test_corrupt_and_truncated_containers_are_unreadable(
    videos: dict[str, Path], config: IngestConfig, name: str
) -> None:
    # decord refuses all three at open: a plain mp4 keeps its index (moov) at the
    # end, so half of it has none; a faststart mp4 keeps the index but decord
    # reads every packet while opening and hits the missing data.
    record = probe_video(videos[name], config)
    assert not record.kept
    assert record.reason.startswith("unreadable or corrupt video: ")
    assert record.n_frames == 0
    assert "[" not in record.reason  # decord's timestamp and source-file prefixes are stripped


@pytest.mark.parametrize("name", ["broken_avi", "blank_frame_avi"])
def test_stream_broken_part_way_names_the_frame(
    videos: dict[str, Path], config: IngestConfig, name: str
) -> None:
    record = probe_video(videos[name], config)
    assert not record.kept
    assert record.reason.startswith(f"stream broken part-way: decoding failed at frame {BROKEN_AT}")
    assert f"only the first {BROKEN_AT} frames decode" in record.reason
    assert (record.n_frames, record.height, record.width) == (BROKEN_AT, HEIGHT, WIDTH)


def test_broken_stream_verdict_is_reproducible(
    videos: dict[str, Path], config: IngestConfig
) -> None:
    # decord raises at a frame, with a message, that vary from run to run (its
    # decoder thread runs ahead); the record must not, or the manifest would
    # change every run.
    for name in ("broken_avi", "blank_frame_avi"):
        records = {probe_video(videos[name], config) for _ in range(12)}
        assert len(records) == 1, records


def test_first_frame_undecodable_is_corrupt(videos: dict[str, Path], config: IngestConfig) -> None:
    record = probe_video(videos["blank_first_avi"], config)
    assert not record.kept
    assert record.reason.startswith("unreadable or corrupt video: decoding failed at frame 0")
    assert (record.n_frames, record.height, record.width) == (0, 0, 0)


def test_damage_that_ffmpeg_conceals_is_corrupt_without_a_frame(
    videos: dict[str, Path], config: IngestConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # decord rejecting a stream that FFmpeg decodes to the end is rare and hard
    # to make on purpose: simulate decord failing at frame 3 of a good file.
    class FailingReader(video_io.decord.VideoReader):
        served = 0

        def next(self):
            if self.served == 3:
                raise video_io.decord.DECORDError("simulated decoder error")
            self.served += 1
            return super().next()

    monkeypatch.setattr(video_io.decord, "VideoReader", FailingReader)
    record = probe_video(videos["mp4"], config)
    assert not record.kept
    assert record.reason == (
        "unreadable or corrupt video: decoding failed: simulated decoder error "
        "(FFmpeg conceals the damage, so no frame is named)"
    )


def test_truncated_gif_is_broken_part_way(videos: dict[str, Path], config: IngestConfig) -> None:
    record = probe_video(videos["broken_gif"], config)
    assert record.reason.startswith("stream broken part-way: decoding failed at frame ")
    assert 0 < record.n_frames < N_FRAMES


def test_video_without_frames(
    videos: dict[str, Path], config: IngestConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # decord refuses frameless containers at open, so an empty stream is simulated.
    monkeypatch.setattr(
        ingest, "open_video", lambda path: video_io.VideoStream(fps=8.0, frames=iter(()))
    )
    record = probe_video(videos["mp4"], config)
    assert not record.kept
    assert record.reason == "no video frames"


def test_too_short_states_needed_count_and_stride(
    videos: dict[str, Path], config: IngestConfig
) -> None:
    record = probe_video(videos["short"], replace(config, n_sample_frames=6, sample_frame_rate=2))
    assert not record.kept
    assert record.n_frames == SHORT_FRAMES
    assert record.reason == (
        f"too short: {SHORT_FRAMES} frames, needs at least 11 (6 sample frames at stride 2); "
        "use a longer video or lower n_sample_frames or sample_frame_rate"
    )


def test_short_video_is_long_enough_for_a_short_clip(
    videos: dict[str, Path], config: IngestConfig
) -> None:
    assert probe_video(videos["short"], replace(config, n_sample_frames=SHORT_FRAMES)).kept


@pytest.mark.parametrize(("height", "width"), [(64, 32), (32, 96), (320, 512)])
def test_smaller_than_target_is_rejected(
    videos: dict[str, Path], config: IngestConfig, height: int, width: int
) -> None:
    record = probe_video(videos["mp4"], replace(config, height=height, width=width))
    assert not record.kept
    assert record.reason.startswith(
        f"resolution {HEIGHT}x{WIDTH} (HxW) is smaller than the target {height}x{width}"
    )
    assert "use a larger video or lower the profile size" in record.reason


def test_exactly_the_target_size_is_kept(videos: dict[str, Path], config: IngestConfig) -> None:
    assert probe_video(videos["mp4"], replace(config, height=HEIGHT, width=WIDTH)).kept


# --- resizing --------------------------------------------------------------------


def thirds(height: int, width: int, axis: int) -> np.ndarray:
    """One frame split into red, green and blue thirds along ``axis`` (0 rows, 1 columns)."""
    frame = np.zeros((height, width, 3), np.uint8)
    size = frame.shape[axis] // 3
    for index, colour in enumerate((RED, GREEN, BLUE)):
        band = [slice(None), slice(None)]
        band[axis] = slice(index * size, (index + 1) * size)
        frame[tuple(band)] = colour
    return frame[np.newaxis]


def test_crop_keeps_the_middle_of_a_wide_frame() -> None:
    out = resize_frames(thirds(30, 90, axis=1), 20, 20, "crop")
    assert out.shape == (1, 20, 20, 3)
    assert (out == GREEN).all()


def test_crop_keeps_the_middle_of_a_tall_frame() -> None:
    out = resize_frames(thirds(90, 30, axis=0), 10, 10, "crop")
    assert (out == GREEN).all()


def test_crop_to_a_wide_target_trims_rows_not_columns() -> None:
    out = resize_frames(thirds(90, 90, axis=0), 10, 30, "crop")
    assert out.shape == (1, 10, 30, 3)
    assert (out == GREEN).all()


def test_stretch_keeps_the_whole_frame() -> None:
    out = resize_frames(thirds(30, 90, axis=1), 20, 30, "stretch")
    assert out.shape == (1, 20, 30, 3)
    assert (out[:, :, :10] == RED).all()
    assert (out[:, :, 10:20] == GREEN).all()
    assert (out[:, :, 20:] == BLUE).all()


def test_shrinking_is_antialiased() -> None:
    # A one-pixel checkerboard shrunk by a non-integer factor must average to
    # grey; bilinear or bicubic sampling of only nearby pixels swings towards
    # black and white (aliasing: values 46-209 bilinear, 14-241 bicubic).
    board = (np.indices((64, 64)).sum(axis=0) % 2 * 255).astype(np.uint8)
    out = resize_frames(board[np.newaxis], 20, 20, "stretch")
    assert np.abs(out.astype(int) - 127.5).max() <= 10


def test_resize_accepts_grayscale_and_rejects_unknown_mode() -> None:
    assert resize_frames(np.zeros((2, 8, 8), np.uint8), 4, 4, "crop").shape == (2, 4, 4, 3)
    with pytest.raises(ValueError, match="resize mode"):
        resize_frames(np.zeros((1, 8, 8, 3), np.uint8), 4, 4, "pad")


# --- ingesting a folder ----------------------------------------------------------


def test_ingest_motion_records_every_file_and_resizes_kept_ones(
    motion_folder: Callable[..., Path], config: IngestConfig
) -> None:
    folder = motion_folder(
        "horse_run", "mp4", "gif", "portrait", "short", "random", "notes", "empty"
    )
    (folder / ".DS_Store").write_bytes(b"junk")
    (folder / "subfolder").mkdir()
    result = ingest_motion(folder, config)

    assert result.motion == "horse_run"
    assert result.prompt == "horse run"
    names = [Path(r.path).name for r in result.records]
    assert names == sorted(names) == [
        ".DS_Store", "empty.mp4", "good.gif", "good.mp4", "notes.txt", "portrait.mp4", "random.mp4",
        "short.mp4", "subfolder",
    ]
    kept = {Path(r.path).name for r in result.records if r.kept}
    assert kept == {"good.gif", "good.mp4", "portrait.mp4"}
    assert all(r.motion == "horse_run" for r in result.records)
    # "good.gif" sorts first and keeps the bare stem.
    assert set(result.clips) == {"good", "good_mp4", "portrait"}
    for clip in result.clips.values():
        assert clip.shape == (N_FRAMES, 32, 32, 3)
        assert clip.dtype == np.uint8


def test_ingest_clips_match_resizing_the_decoded_video(
    motion_folder: Callable[..., Path], videos: dict[str, Path], config: IngestConfig
) -> None:
    folder = motion_folder("wave", "portrait")
    stretch = replace(config, resize_mode="stretch")
    clip = ingest_motion(folder, stretch).clips["portrait"]
    decoded = video_io.read_video(videos["portrait"]).frames
    assert np.array_equal(clip, resize_frames(decoded, 32, 32, "stretch"))


def test_explicit_prompt_wins(motion_folder: Callable[..., Path], config: IngestConfig) -> None:
    folder = motion_folder("horse_run", "mp4")
    assert ingest_motion(folder, config, prompt=" a horse galloping ").prompt == "a horse galloping"


def test_fail_policy_raises_naming_file_reason_and_fix(
    motion_folder: Callable[..., Path], config: IngestConfig
) -> None:
    folder = motion_folder("rain", "mp4", "short")
    with pytest.raises(BadVideoError) as caught:
        ingest_motion(folder, replace(config, on_bad_video="fail"))
    message = str(caught.value)
    assert (folder / "short.mp4").as_posix() in message
    assert "too short" in message
    assert "on_bad_video: skip" in message


def test_fail_policy_ignores_non_video_files(
    motion_folder: Callable[..., Path], config: IngestConfig
) -> None:
    folder = motion_folder("rain", "mp4", "notes")
    result = ingest_motion(folder, replace(config, on_bad_video="fail"))
    assert [r.kept for r in result.records] == [True, False]


def test_too_few_videos_names_motion_count_and_rejects(
    motion_folder: Callable[..., Path], config: IngestConfig
) -> None:
    folder = motion_folder("horse_run", "mp4", "random", "empty")
    with pytest.raises(TooFewVideosError) as caught:
        ingest_motion(folder, replace(config, min_videos=2))
    message = str(caught.value)
    assert "'horse_run'" in message
    assert "1 usable video(s)" in message
    assert "min_videos=2" in message
    assert f"{(folder / 'random.mp4').as_posix()}: unreadable or corrupt video" in message
    assert f"{(folder / 'empty.mp4').as_posix()}: empty file (0 bytes)" in message
    assert "good.mp4" not in message


def test_empty_folder_has_too_few_videos(tmp_path: Path, config: IngestConfig) -> None:
    (tmp_path / "empty_motion").mkdir()
    with pytest.raises(TooFewVideosError, match="'empty_motion' has 0 usable video"):
        ingest_motion(tmp_path / "empty_motion", config)


def test_too_few_without_rejects_asks_for_more_videos(
    motion_folder: Callable[..., Path], config: IngestConfig
) -> None:
    folder = motion_folder("rain", "mp4")
    with pytest.raises(TooFewVideosError) as caught:
        ingest_motion(folder, replace(config, min_videos=8))
    assert str(caught.value) == (
        f"motion 'rain' has 1 usable video(s), fewer than min_videos=8: "
        f"add videos to {folder.as_posix()}."
    )


def test_motion_is_the_folder_of_a_symlinked_motion_folder(
    motion_folder: Callable[..., Path], config: IngestConfig, tmp_path: Path
) -> None:
    link = tmp_path / "horse_run"
    link.symlink_to(motion_folder("stored_elsewhere", "mp4"))
    assert [r.motion for r in ingest_motion(link, config).records] == ["horse_run"]


def test_missing_folder_is_a_clear_error(tmp_path: Path, config: IngestConfig) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ingest_motion(tmp_path / "nope", config)


# --- manifest --------------------------------------------------------------------


def test_manifest_columns_dtypes_and_rows(
    motion_folder: Callable[..., Path], config: IngestConfig
) -> None:
    folder = motion_folder("horse_run", "mp4", "random")
    frame = manifest_frame(ingest_motion(folder, config).records)
    assert list(frame.columns) == [
        "motion", "path", "sha256", "n_frames", "fps", "height", "width", "kept", "reason"
    ]
    assert len(frame) == 2
    for column in ("motion", "path", "sha256", "reason"):
        assert pd.api.types.is_string_dtype(frame[column]), column
    for column in ("n_frames", "height", "width"):
        assert frame[column].dtype == np.int64, column
    assert frame["fps"].dtype == np.float64
    assert frame["kept"].dtype == bool
    assert frame["kept"].tolist() == [True, False]
    assert frame["reason"].iloc[0] == ""
    assert frame["reason"].iloc[1].startswith("unreadable or corrupt video")


def test_empty_manifest_keeps_columns_and_dtypes() -> None:
    frame = manifest_frame([])
    assert len(frame) == 0
    assert frame.columns.tolist() == list(ingest.MANIFEST_DTYPES)
    assert frame["kept"].dtype == bool
    assert frame["n_frames"].dtype == np.int64


# --- what a folder holds besides videos ----------------------------------------------


def test_a_link_out_of_the_motion_folder_is_refused_unread(
    motion_folder: Callable[..., Path], videos: dict[str, Path], config: IngestConfig
) -> None:
    # Even a good video: following links out of the folder would hash any file on the machine.
    folder = motion_folder("rain", "mp4")
    (folder / "outside.mp4").symlink_to(videos["mp4"])
    (folder / "inside.mp4").symlink_to("good.mp4")
    records = {Path(r.path).name: r for r in ingest_motion(folder, config).records}
    assert records["inside.mp4"].kept
    outside = records["outside.mp4"]
    assert (outside.kept, outside.sha256) == (False, "")
    assert outside.reason == (
        f"a link to {videos['mp4'].resolve().as_posix()}, outside the motion folder: not read "
        f"(links must stay inside {folder.as_posix()}); copy the video into the folder instead"
    )


def test_every_entry_of_the_folder_is_reported(
    motion_folder: Callable[..., Path], config: IngestConfig
) -> None:
    folder = motion_folder("rain", "mp4")
    (folder / "gone.mp4").symlink_to("missing.mp4")
    (folder / "loop.mp4").symlink_to("loop.mp4")
    (folder / "x.mp4").mkdir()
    os.mkfifo(folder / "pipe.mp4")  # never opened: that would block the scan
    reasons = {Path(r.path).name: r.reason for r in ingest_motion(folder, config).records}
    assert list(reasons) == ["gone.mp4", "good.mp4", "loop.mp4", "pipe.mp4", "x.mp4"]
    assert reasons["gone.mp4"] == (
        "a broken link: its target missing.mp4 does not exist; restore the target or remove the link"
    )
    assert reasons["loop.mp4"] == "a link that cannot be resolved (a loop of links?): not read; remove it"
    assert reasons["pipe.mp4"] == "a named pipe (FIFO), not a regular file: not read; remove it"
    assert reasons["x.mp4"].startswith("a folder, not a video: sub-folders are not read")


def test_fail_policy_stops_at_a_folder_named_as_a_video_not_at_a_hidden_file(
    motion_folder: Callable[..., Path], config: IngestConfig
) -> None:
    folder = motion_folder("rain", "mp4")
    (folder / "._good.mp4").write_bytes(b"\0\5\26\7")  # macOS's companion of a copied file
    fail = replace(config, on_bad_video="fail")
    assert ingest_motion(folder, fail).records[0].reason == "hidden (the name starts with '.'), not read"
    (folder / "x.mp4").mkdir()
    with pytest.raises(BadVideoError, match="x.mp4: a folder, not a video"):
        ingest_motion(folder, fail)


@pytest.mark.parametrize(
    ("name", "kind"), [("still.gif", "a PNG image"), ("photo.mp4", "a JPEG image"), ("notes.mp4", "a text file")]
)
def test_a_file_is_named_for_what_it_really_is(
    config: IngestConfig, tmp_path: Path, name: str, kind: str
) -> None:
    path = tmp_path / name
    image = Image.fromarray(np.full((HEIGHT, WIDTH, 3), 90, np.uint8))
    if kind == "a text file":
        path.write_text("not a video\n")
    else:
        image.save(path, format="PNG" if kind == "a PNG image" else "JPEG")
    assert probe_video(path, config).reason == (
        f"{kind}, not a video (by its content, whatever its name says); "
        "replace it with the video or remove it"
    )


def test_unsupported_type_says_what_the_file_is(videos: dict[str, Path], config: IngestConfig) -> None:
    assert probe_video(videos["notes"], config).reason.startswith("unsupported file type '.txt' (a text file)")


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("cut_faststart", f"; {BROKEN_AT} of the {N_FRAMES} frames it declares can be read; "),
        ("truncated_faststart", f"; 0 of the {N_FRAMES} frames it declares can be read; "),
        ("truncated", ", and its index (the 'moov' box) is missing; 0 frames can be read; "),
    ],
)
def test_a_cut_mp4_is_called_truncated_with_its_readable_frames_and_the_fix(
    videos: dict[str, Path], config: IngestConfig, name: str, fragment: str
) -> None:
    reason = probe_video(videos[name], config).reason
    assert reason.startswith(
        "unreadable or corrupt video: truncated (incomplete) file, an MP4/QuickTime container: "
        "its 'mdat' box declares "
    )
    assert fragment in reason
    assert reason.endswith(
        "re-copy the file (the copy or download stopped before the end) or re-export it"
    )


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"", file_kind.EMPTY),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", file_kind.PNG),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", file_kind.JPEG),
        ("déjà vu\n".encode()[:2], file_kind.TEXT),  # a character cut by the end of the head
        (b"\0\0\0\x20ftypisom\0\0\x02\0", file_kind.MP4),
        (b"\0\0\0\x18ftypheic\0\0\0\0", file_kind.HEIF),
        (b"\0\0\x04\x41moov\0\0\0\x6c", file_kind.MP4),
        (b"RIFF\x10\0\0\0AVI LIST", file_kind.AVI),
        (b"\x1aE\xdf\xa3\x9fB\x86\x81", file_kind.MATROSKA),
        (b"GIF89a\x40\0", file_kind.GIF),
        (bytes(range(256)), file_kind.UNKNOWN),
    ],
)
def test_file_kind_from_the_first_bytes(head: bytes, kind: file_kind.FileKind) -> None:
    assert file_kind.file_kind(head) == kind
