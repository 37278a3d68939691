"""Train the mini profile's base models: VAE, text-to-image UNet + text encoder, CLIP."""

from lamp.pipelines.pretrain.pipeline import create_pipeline

__all__ = ["create_pipeline"]
