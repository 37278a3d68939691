"""Plain-Python ingest of user videos: reading, validating, resizing, manifest rows, writing."""

from lamp.data.ingest import (
    BadVideoError,
    IngestConfig,
    MotionIngest,
    TooFewVideosError,
    VideoRecord,
    ingest_motion,
    scan_motion,
    check_motion,
    manifest_frame,
    motion_prompt,
    probe_video,
    resize_frames,
)
from lamp.data.video_io import (
    VideoClip,
    VideoDecodeError,
    VideoReadError,
    VideoStream,
    as_rgb,
    open_video,
    read_video,
    write_video,
)

__all__ = [
    "BadVideoError",
    "IngestConfig",
    "MotionIngest",
    "TooFewVideosError",
    "VideoClip",
    "VideoDecodeError",
    "VideoReadError",
    "VideoRecord",
    "VideoStream",
    "as_rgb",
    "check_motion",
    "ingest_motion",
    "manifest_frame",
    "motion_prompt",
    "open_video",
    "probe_video",
    "read_video",
    "resize_frames",
    "scan_motion",
    "write_video",
]
