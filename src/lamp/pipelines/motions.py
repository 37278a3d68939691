"""The motions and edits a run processes: Kedro builds one namespaced copy of a template for each."""

from __future__ import annotations

from functools import partial, update_wrapper
from pathlib import Path
from typing import Any, Callable

from kedro.pipeline import Pipeline

from lamp.config_loader import PARAMS_FILE
from lamp.config_loader import project_parameters as load_project_parameters
from lamp.profiles import Profile


def project_parameters() -> dict[str, Any]:
    """The parameters of the project in the working folder, as its runs read them (conf/local included):
    pipelines are registered before Kedro loads parameters, and shaped by params.yaml alone a
    ``conf/local`` override of ``ablate.motions`` (the README's all-motion check) gave a pipeline without
    the models its nodes then asked for. No params.yaml: none."""
    return load_project_parameters(Path.cwd()) if (Path.cwd() / PARAMS_FILE).is_file() else {}


def project_profile() -> dict[str, Any]:
    """The active profile of the project's params.yaml."""
    return project_parameters().get("active_profile") or {}


def project_motions() -> list[str]:
    """The active profile's motions."""
    return list(project_profile().get("motions") or {})


def first_frame_dataset() -> str:
    """The catalog dataset of the model that draws frame 1 (:attr:`lamp.profiles.Profile.first_frame_dataset`)."""
    profile = project_profile()
    return Profile.from_active(profile).first_frame_dataset if profile else "first_frame_model"


def chosen_motions(group: str) -> list[str]:
    """The motions ``params.yaml: <group>.motions`` names (``generate``, ``ablate``), or all of the profile's."""
    return list(project_parameters().get(group, {}).get("motions") or project_motions())


def motion_models(motions: list[str]) -> dict[str, str]:
    """Node inputs ``{motion: "<motion>.motion_model"}``: each motion's trained model from the catalog."""
    return {motion: f"{motion}.motion_model" for motion in motions}


def project_edits() -> list[str]:
    """The active profile's edits."""
    return list(project_profile().get("edits") or {})


def per_motion(template: Pipeline, shared: set[str]) -> Pipeline:
    """``template`` once per motion, namespaced by the motion name (``rain.clips``, ...), except the
    parameters and datasets in ``shared`` (``params:train``, the base model ``video_base``)."""
    parameters = {name for name in shared if name.startswith("params:")}
    return sum(
        (Pipeline(template, namespace=motion, inputs=shared - parameters or None, parameters=parameters)
         for motion in project_motions()),
        Pipeline([]),
    )


def bound(function: Callable[..., Any], **arguments: Any) -> Callable[..., Any]:
    """``function`` with keyword ``arguments`` fixed (the motion or edit a node serves), keeping its name for Kedro."""
    return update_wrapper(partial(function, **arguments), function)
