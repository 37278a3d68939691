"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from lamp.pipelines.motions import project_profile

#: The pipelines of each optional stage group (``profiles.<name>.stages``, params.yaml).
STAGE_GROUP_PIPELINES = {"mini_world": ("synthesize", "pretrain")}


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline under ``lamp.pipelines``; ``__default__`` is the active profile's whole chain.

    Kedro orders the default run by the catalog's datasets alone (the base models, each motion's
    latents and model, the first frames, ...), as DVC orders the stages; the pipelines of a stage
    group the profile does not have (the mini world's, in the full profile) are left out, since they
    would write the models the profile takes from the hub.
    """
    pipelines = find_pipelines(raise_errors=True)
    stages = project_profile().get("stages") or {}
    absent = {name for group, names in STAGE_GROUP_PIPELINES.items() if not stages.get(group, [True]) for name in names}
    pipelines["__default__"] = sum((p for name, p in pipelines.items() if name not in absent), Pipeline([]))
    return pipelines
