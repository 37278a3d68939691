"""First-frame-conditioned few-shot tuning: one motion model per motion."""

from lamp.pipelines.train.pipeline import create_pipeline

__all__ = ["create_pipeline"]
