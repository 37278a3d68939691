"""How many source frames one clip spans: the one formula ingest, training and editing share."""

from __future__ import annotations


def clip_span(n_frames: int, stride: int) -> int:
    """Frames of a source that a clip of ``n_frames`` taken every ``stride`` frames spans, first to last inclusive."""
    return (n_frames - 1) * stride + 1
