"""The profiles: ``full`` (the paper's models) and ``mini`` (small models the project trains itself).

``params.yaml`` selects one with ``profile: *mini`` or ``profile: *full`` (a YAML alias of the
profile, so that ``dvc.yaml`` can read its settings: DVC has no conditionals and no nested
look-ups). Each profile holds its sizes and models, its motions and edits, and its own values of
the groups in :data:`PROFILE_GROUPS`; :func:`resolve_parameters` merges those over the shared
values, so every node and command sees one set of resolved parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from lamp.params import from_params

#: The parameter groups a profile gives its own values of (deep-merged over the shared group).
PROFILE_GROUPS = ("data", "train", "generate", "edit", "ablate")
#: The stage groups only some profiles have (``profiles.<name>.stages``): see params.yaml.
OPTIONAL_STAGES = ("mini_world", "hub_models")
#: The CLIPs of the paper's Table 1 metrics (the authors' code: OpenAI's ViT-L/14), as a hub id in
#: open_clip's layout or an open_clip architecture name with its weights tag.
PAPER_CLIPS = (("timm/vit_large_patch14_clip_224.openai", None), ("ViT-L-14", "openai"))
#: Stands for the active profile's name in any value of params.yaml (``data/<profile>/09_checkpoints``). Not
#: an interpolation (``${profile.name}``): ``dvc exp run -S`` rewrites params.yaml with its interpolations
#: resolved, which would pin the paths of every later run to the profile active then.
PROFILE_TOKEN = "<profile>"
#: Motion and edit names become folder names, Kedro namespaces and DVC stage names.
NAME = re.compile(r"[a-z0-9][a-z0-9_]*")


@dataclass(frozen=True)
class PretrainedModel:
    """A pretrained model by where it is: a Hugging Face hub id (at ``revision``) or a local folder; for
    an open_clip architecture name (``ViT-L-14``), ``revision`` is its weights tag (``openai``).

    What the catalog's model datasets (``video_base``, ``first_frame_model``, ``clip_model``) hold: the
    location, not the weights, so that each node loads only the parts it needs (encode the VAE, train
    the UNet, ...), and a stage loads SD v1.4 once, not once per dataset and again per node.
    """

    location: str
    revision: str | None = None

    def component(self, cls: Any, subfolder: str) -> Any:
        """``cls.from_pretrained`` of one component (``vae``, ``scheduler``, ``unet``, ...)."""
        return cls.from_pretrained(self.location, subfolder=subfolder, revision=self.revision)


@dataclass(frozen=True)
class Profile:
    """The models, sizes, motions and edits of one profile; every model is a hub id or a local folder.

    Attributes:
        name: the profile's key under ``profiles`` (``"full"``, ``"mini"``); its outputs go to ``data/<name>/``.
        height, width: frame size of training clips and generated videos (paper: 320 x 512).
        n_frames: frames per training clip and generated video (paper: 16).
        video_base_model: the image model inflated to video (full: SD v1.4), diffusers layout.
        video_base_revision: hub revision of ``video_base_model`` (None: the default branch).
        first_frame_model: the text-to-image model that makes frame 1 (full: SD-XL).
        clip_model: the CLIP that scores videos: a hub id or folder in open_clip's layout, or an
            open_clip architecture name when ``clip_pretrained`` names its weights.
        clip_pretrained: open_clip weights tag for an architecture name in ``clip_model``.
        prompts_file: ``motion,prompt`` CSV of the evaluation set.
        stages: for each of :data:`OPTIONAL_STAGES`, ``[name]`` (the profile has those stages) or ``[]``.
        motions: motion name -> the folder of its source videos.
        edits: edit name -> ``video``, ``source_prompt``, ``prompt``, ``first_frame`` (an image or None).
        data, train, generate, edit, ablate: this profile's values of those groups.
    """

    name: str
    height: int
    width: int
    n_frames: int
    video_base_model: str
    first_frame_model: str
    clip_model: str
    prompts_file: str
    stages: Mapping[str, list[str]]
    motions: Mapping[str, str]
    video_base_revision: str | None = None
    clip_pretrained: str | None = None
    edits: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    train: Mapping[str, Any] = field(default_factory=dict)
    generate: Mapping[str, Any] = field(default_factory=dict)
    edit: Mapping[str, Any] = field(default_factory=dict)
    ablate: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"params.yaml: profiles.{self.name}"
        if set(self.stages) != set(OPTIONAL_STAGES) or any(v not in ([], [self.name]) for v in self.stages.values()):
            raise ValueError(
                f"{where}.stages is {dict(self.stages)}; it must give each of {list(OPTIONAL_STAGES)} "
                f"the list [{self.name}] (the profile has those stages) or []"
            )
        if not self.motions:
            raise ValueError(f"{where}.motions is empty: list each motion and the folder of its videos")
        for kind, names in (("motions", self.motions), ("edits", self.edits)):
            bad = [n for n in names if not NAME.fullmatch(str(n))]
            if bad:
                raise ValueError(f"{where}.{kind}: {bad} are not valid names; use lower-case letters, digits and _")
        for edit, spec in self.edits.items():
            from_params(EditSpec, spec, f"keys of {where}.edits.{edit}")

    @classmethod
    def from_params(cls, name: str, values: Mapping[str, Any]) -> Profile:
        if values.get("name", name) != name:
            raise ValueError(f"params.yaml: profiles.{name}.name is {values['name']!r}; it must be {name!r}")
        return from_params(cls, {k: v for k, v in values.items() if k != "name"}, f"keys of profile {name!r}", name=name)

    @classmethod
    def from_active(cls, active_profile: Mapping[str, Any]) -> Profile:
        """The typed ``params:active_profile``: the selected profile without its group values, as a node gets it."""
        return cls.from_params(active_profile["name"], active_profile)

    def in_project(self, project: str | Path) -> Profile:
        """This profile with its models that are folders of ``project`` given by their path there, so that
        a command run elsewhere (``lamp generate --project P``) loads the project's own models."""
        def located(model: str) -> str:
            return str(Path(project) / model) if not Path(model).is_absolute() and (Path(project) / model).exists() else model
        return replace(self, video_base_model=located(self.video_base_model), first_frame_model=located(self.first_frame_model))

    def models(self) -> dict[str, PretrainedModel]:
        """The profile's pretrained models by catalog dataset name (:class:`~lamp.config_loader.LAMPConfigLoader`
        adds a dataset for each). A model used in two roles is one dataset, named after its first role:
        the mini profile draws frame 1 with its video base, so it has no ``first_frame_model`` of its own."""
        models = {"video_base": PretrainedModel(self.video_base_model, self.video_base_revision)}
        if self.first_frame_model != self.video_base_model:
            models["first_frame_model"] = PretrainedModel(self.first_frame_model)
        models["clip_model"] = PretrainedModel(self.clip_model, self.clip_pretrained)
        return models

    @property
    def first_frame_dataset(self) -> str:
        """The catalog dataset of the model that draws frame 1 (see :meth:`models`)."""
        return "first_frame_model" if "first_frame_model" in self.models() else "video_base"

    @property
    def scores_like_the_paper(self) -> bool:
        """Whether the profile's CLIP is the paper's, so that its Table 1 metrics compare with the paper's."""
        return (self.clip_model, self.clip_pretrained) in PAPER_CLIPS


@dataclass(frozen=True)
class EditSpec:
    """One video edit of a profile: the source video, what it shows, the new content, an optional frame 1."""

    video: str
    prompt: str
    source_prompt: str = ""
    first_frame: str | None = None


def profile_name(parameters: Mapping[str, Any]) -> str:
    """The active profile's name: ``profile`` is the profile itself (``*mini``) or, for Kedro and tests, its name."""
    selected = parameters.get("profile")
    name = selected.get("name") if isinstance(selected, Mapping) else selected
    profiles = parameters.get("profiles") or {}
    if name not in profiles:
        raise ValueError(
            f"params.yaml: profile is {name!r}, but profiles defines {sorted(profiles)}; "
            f"set `profile:` to one of {['*' + p for p in sorted(profiles)]}"
        )
    return name


def resolve_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``parameters`` as nodes see them: the profile's group values merged in, ``active_profile`` added,
    :data:`PROFILE_TOKEN` replaced by the profile's name.

    ``active_profile`` is the selected profile without its group values (``name``, sizes, models,
    motions, edits); ``profile`` becomes the selected profile whole.
    """
    name = profile_name(parameters)
    values = dict(parameters["profiles"][name])
    profile = Profile.from_params(name, values)
    resolved = dict(parameters)
    for group in PROFILE_GROUPS:
        resolved[group] = deep_merge(parameters.get(group) or {}, getattr(profile, group))
    resolved["profile"] = {"name": name, **values}
    resolved["active_profile"] = {"name": name, **{k: v for k, v in values.items() if k not in PROFILE_GROUPS}}
    return _named(resolved, name)


def _named(value: Any, name: str) -> Any:
    """``value`` with :data:`PROFILE_TOKEN` replaced by ``name`` in every string it holds."""
    if isinstance(value, str):
        return value.replace(PROFILE_TOKEN, name)
    if isinstance(value, Mapping):
        return {key: _named(item, name) for key, item in value.items()}
    if isinstance(value, list):
        return [_named(item, name) for item in value]
    return value


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` applied key by key, recursing where both hold a mapping."""
    merged = dict(base)
    for key, value in override.items():
        both = isinstance(value, Mapping) and isinstance(base.get(key), Mapping)
        merged[key] = deep_merge(base[key], value) if both else value
    return merged
