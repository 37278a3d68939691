"""The paper's ablations (Fig. 5): each variant trained where needed, generated and evaluated alike."""

from lamp.pipelines.ablate.pipeline import create_pipeline

__all__ = ["create_pipeline"]
