"""The gallery: the page that shows a run's results (evaluation set, ablation, edits) to a person."""

from lamp.pipelines.report.pipeline import create_pipeline

__all__ = ["create_pipeline"]
