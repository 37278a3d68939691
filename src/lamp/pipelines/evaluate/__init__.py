"""CLIP metrics and motion fidelity of the generated evaluation set."""

from lamp.pipelines.evaluate.pipeline import create_pipeline

__all__ = ["create_pipeline"]
