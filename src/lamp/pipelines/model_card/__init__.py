"""Inflate the profile's base UNet and check that the untrained video model is the image model."""

from lamp.pipelines.model_card.pipeline import create_pipeline

__all__ = ["create_pipeline"]
