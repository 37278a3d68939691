"""Video editing (paper Sec. 5.2): LAMP tuned on one video re-renders it with a new prompt."""

from lamp.pipelines.edit.pipeline import create_pipeline

__all__ = ["create_pipeline"]
