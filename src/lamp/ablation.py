"""The paper's ablations (Fig. 5) as variants of the full method: what each changes, and its video UNet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from lamp.params import from_params
from lamp.profiles import PretrainedModel

#: ``first_frame_model: video_base`` draws frame 1 with the video model's own base (full: SD v1.4).
VIDEO_BASE = "video_base"


@dataclass(frozen=True)
class Variant:
    """One ablation: overrides of ``params.yaml`` groups relative to the full method.

    Attributes:
        name: the row label.
        model: ``model`` (LAMPConfig) overrides; with ``train`` overrides, the variant is trained anew.
        train: ``train`` (TrainConfig) overrides.
        generate: sampling overrides (:class:`~lamp.sampling.evaluation_set.GenerationSettings`, plus
            ``first_frame_conditioning``).
        first_frame_model: None keeps the cached first frames of ``generate``; a model id/path (or
            ``video_base``) draws new ones with it and the ``first_frame`` settings.
        first_frame: :class:`~lamp.sampling.evaluation_set.FirstFrameSettings` overrides.
        untrained: the inflated base with its zero-initialised new layers, no training (a baseline).

    A profile changes a variant through its own ``ablate.variants`` values (``params.yaml``), merged
    in before the variant is built (:func:`lamp.profiles.resolve_parameters`).
    """

    name: str
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    generate: dict[str, Any] = field(default_factory=dict)
    first_frame_model: str | None = None
    first_frame: dict[str, Any] = field(default_factory=dict)
    untrained: bool = False

    @classmethod
    def from_params(cls, name: str, values: Mapping[str, Any] | None) -> Variant:
        """The variant ``name`` of ``params.yaml: ablate.variants``."""
        return from_params(cls, values, f"keys of ablation variant {name!r}", name=name)

    @property
    def trains(self) -> bool:
        """Whether the variant needs its own motion models (it changes the model or its training)."""
        return bool(self.model or self.train) and not self.untrained

    def first_frame_source(self, video_base: PretrainedModel) -> PretrainedModel | None:
        """The model that draws this variant's first frames, or None for the cached ones."""
        if self.first_frame_model == VIDEO_BASE:
            return video_base
        return PretrainedModel(self.first_frame_model) if self.first_frame_model else None

    def describe(self) -> str:
        """The overrides as ``group.key=value`` text, for tables and MLflow params."""
        parts = [f"{group}.{k}={v}" for group in ("model", "train", "generate", "first_frame")
                 for k, v in getattr(self, group).items()]
        if self.first_frame_model:
            parts.append(f"first_frame_model={self.first_frame_model}")
        if self.untrained:
            parts.append("untrained")
        return ", ".join(parts) or "the full method"
