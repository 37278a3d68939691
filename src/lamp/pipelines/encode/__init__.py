"""Encode each motion's clips once with the profile's VAE, and its prompt with the text encoder."""

from lamp.pipelines.encode.pipeline import create_pipeline

__all__ = ["create_pipeline"]
