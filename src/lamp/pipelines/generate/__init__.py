"""The evaluation set: first frames once per prompt, one video per prompt, contact sheets, a gallery."""

from lamp.pipelines.generate.pipeline import create_pipeline

__all__ = ["create_pipeline"]
