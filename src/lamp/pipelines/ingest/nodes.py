"""Nodes of the ``ingest`` pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lamp.data import IngestConfig, MotionIngest, check_motion, manifest_frame, motion_prompt, scan_motion
from lamp.profiles import Profile


def ingest_config(profile: Profile, data: dict[str, Any]) -> IngestConfig:
    return IngestConfig(
        height=profile.height,
        width=profile.width,
        n_sample_frames=profile.n_frames,
        sample_frame_rate=data["sample_frame_rate"],
        resize_mode=data["resize_mode"],
        on_bad_video=data["on_bad_video"],
        min_videos=data["min_videos"],
    )


def scan_videos(
    videos: Path, active_profile: dict[str, Any], data: dict[str, Any], *, motion: str
) -> tuple[pd.DataFrame, pd.DataFrame, MotionIngest]:
    """Check every file of one motion's folder: the manifest, the human-readable report, the scan."""
    profile = Profile.from_active(active_profile)
    ingest = scan_motion(videos, ingest_config(profile, data), motion_prompt(motion, data["prompts"]), motion)
    manifest = manifest_frame(ingest.records)
    return manifest, manifest[["motion", "path", "kept", "reason", "n_frames", "height", "width"]], ingest


def checked_clips(
    ingest: MotionIngest, manifest: pd.DataFrame, active_profile: dict[str, Any], data: dict[str, Any]
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The kept clips and a summary, once the ``on_bad_video`` / ``min_videos`` policy passes.

    Takes the saved manifest as an input only so that Kedro writes it (and the report) before this
    node can fail: a failing run still reports every file's verdict.
    """
    profile = Profile.from_active(active_profile)
    check_motion(ingest, ingest_config(profile, data))
    summary = {
        "motion": ingest.motion,
        "prompt": ingest.prompt,
        "kept": int(manifest.kept.sum()),
        "rejected": int((~manifest.kept).sum()),
        "frames": {video: int(len(clip)) for video, clip in ingest.clips.items()},
    }
    return dict(ingest.clips), summary


def ingest_report(*reports: pd.DataFrame) -> pd.DataFrame:
    """Every motion's per-file verdicts in one table."""
    return pd.concat(reports, ignore_index=True)
