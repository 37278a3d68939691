"""LAMP: Learn A Motion Pattern for few-shot text-to-video generation."""

__version__ = "0.1.0"
