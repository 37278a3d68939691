"""Validate each motion's source videos and resize them into training clips."""

from lamp.pipelines.ingest.pipeline import create_pipeline

__all__ = ["create_pipeline"]
