"""The mini world's data: synthetic motion videos, captioned stills, evaluation prompts."""

from lamp.pipelines.synthesize.pipeline import create_pipeline

__all__ = ["create_pipeline"]
