"""The schema of ``params.yaml``: every group, every key, its type and range, checked when it is read.

Each group is checked by the settings classes that the code consuming it builds (``TrainConfig``,
``GenerationSettings``, ``LAMPConfig``, ...), and the keys no such class holds by the small frozen
classes below, so an unknown key is refused at every level and a wrong type or range is named with
its key, its value and what is allowed. :func:`parameter_problems` runs all of it on resolved
parameters (:func:`lamp.profiles.resolve_parameters`); the Kedro config loader refuses a run whose
parameters have problems before any node runs, and ``lamp check`` (DVC's first stage) lists them
before any stage deletes or computes anything. Every ``kedro run`` thus imports the settings
classes, so they live in modules that import no torch, diffusers, transformers or open_clip (the
``settings.py`` or ``config.py`` of their package): a stage pays for those only when it uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

from lamp.ablation import Variant
from lamp.editing.settings import ControlNetSettings, Img2ImgSettings, SamplingSettings, tune_config
from lamp.mini.scenes import MOTIONS
from lamp.mini.settings import MiniBaseConfig, MiniClipConfig, PretrainLoop
from lamp.models.config import LAMPConfig
from lamp.params import at_least, from_params, positive
from lamp.profiles import Profile
from lamp.sampling.settings import RUN_LEVEL_KEYS, FirstFrameSettings, GenerationSettings
from lamp.training.config import train_config

#: Top-level keys of params.yaml (``active_profile`` is added when it is read).
GROUPS = ("profiles", "profile", "data", "encode", "synthesize", "pretrain", "train", "generate", "ablate", "model",
          "model_card", "edit", "active_profile")
MixedPrecision = Literal["no", "fp16", "bf16"]


class ParametersError(ValueError):
    """params.yaml (with conf/ and --params overrides) has problems; each is a line of the message."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("params.yaml has problems; nothing was run:\n" + "\n".join(f"- {p}" for p in problems))


@dataclass(frozen=True)
class DataSettings:
    """``data``: how source videos become training clips (see lamp.data.IngestConfig)."""

    prompts: dict[str, str] = field(default_factory=dict)
    sample_frame_rate: int = 1
    resize_mode: Literal["crop", "stretch"] = "crop"
    on_bad_video: Literal["skip", "fail"] = "skip"
    min_videos: int = 8
    flip: bool = True

    def __post_init__(self) -> None:
        at_least("sample_frame_rate", self.sample_frame_rate, 1)
        at_least("min_videos", self.min_videos, 1)


@dataclass(frozen=True)
class EncodeSettings:
    """``encode``: frames per VAE call."""

    batch_size: int = 16

    def __post_init__(self) -> None:
        at_least("batch_size", self.batch_size, 1)


@dataclass(frozen=True)
class ModelCardSettings:
    """``model_card``: the zero-init check of the inflated base UNet."""

    frames: int = 4
    seed: int = 0
    tolerance: float = 1e-5

    def __post_init__(self) -> None:
        at_least("frames", self.frames, 2)
        positive("tolerance", self.tolerance)


@dataclass(frozen=True)
class ValidationSettings:
    """``train.validation``: a GIF of ``prompt`` every ``every`` steps (off while ``prompt`` is null)."""

    prompt: str | None = None
    every: int = 100
    num_inference_steps: int = 25
    guidance_scale: float = 12.5
    dir: str = "data/mini/08_reporting/validation"

    def __post_init__(self) -> None:
        at_least("every", self.every, 1)
        at_least("num_inference_steps", self.num_inference_steps, 1)
        at_least("guidance_scale", self.guidance_scale, 0)


@dataclass(frozen=True)
class GenerateRunSettings:
    """The keys of ``generate`` that choose what to generate and how to load, not how to sample."""

    motions: list[str] | None = None
    mixed_precision: MixedPrecision = "no"
    processes: int = 1

    def __post_init__(self) -> None:
        at_least("processes", self.processes, 1)


@dataclass(frozen=True)
class AblationSettings:
    """``ablate``: which variants, on which motions, with how many prompts each."""

    variants: dict[str, dict] = field(default_factory=dict)
    run_variants: list[str] | None = None
    output_dir: str = "data/mini/06_models/ablation"
    motions: list[str] | None = None
    prompts_per_motion: int = 3

    def __post_init__(self) -> None:
        at_least("prompts_per_motion", self.prompts_per_motion, 1)
        unknown = sorted(set(self.run_variants or []) - set(self.variants))
        if unknown:
            raise ValueError(f"run_variants names {unknown}, which variants does not define: {sorted(self.variants)}")


@dataclass(frozen=True)
class EditSettings:
    """``edit``: the keys beside its ``train``, ``sampling``, ``img2img`` and ``controlnet`` settings."""

    output_dir: str
    stride: int = 2
    n_frames: int | None = None
    first_frame_drawer: Literal["controlnet", "img2img"] = "img2img"
    train: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)
    img2img: dict[str, Any] = field(default_factory=dict)
    controlnet: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        at_least("stride", self.stride, 1)
        if self.n_frames is not None:
            at_least("n_frames", self.n_frames, 2)


@dataclass(frozen=True)
class SynthesizeSettings:
    """``synthesize``: the mini world's procedural data."""

    motions: list[str]
    videos_dir: str
    stills_dir: str
    seed: int = 0
    videos_per_motion: int = 12
    n_frames: int = 24
    height: int = 72
    width: int = 96
    fps: int = 8
    n_stills: int = 2048
    still_size: int = 64
    eval_prompts_per_motion: int = 6

    def __post_init__(self) -> None:
        for name in ("videos_per_motion", "n_frames", "height", "width", "fps", "n_stills", "still_size",
                     "eval_prompts_per_motion"):
            at_least(name, getattr(self, name), 1)


@dataclass(frozen=True)
class PretrainSettings:
    """``pretrain``: the mini base models' training (nested groups checked by :func:`pretrain_checks`)."""

    base: dict[str, Any]
    vae: dict[str, Any]
    text_to_image: dict[str, Any]
    clip: dict[str, Any]
    check: dict[str, Any]
    seed: int = 0
    heldout_videos_per_motion: int = 1
    frame_stride: int = 3

    def __post_init__(self) -> None:
        at_least("heldout_videos_per_motion", self.heldout_videos_per_motion, 1)
        at_least("frame_stride", self.frame_stride, 1)


@dataclass(frozen=True)
class VaeTraining:
    crop_size: int
    train: dict[str, Any]
    decoder: dict[str, Any]


@dataclass(frozen=True)
class DecoderTraining:
    """``pretrain.vae.decoder``: the decoder's fine-tuning on latents with noise up to ``noise`` x their spread."""

    noise: float
    crop_size: int
    train: dict[str, Any]

    def __post_init__(self) -> None:
        at_least("noise", self.noise, 0)
        at_least("crop_size", self.crop_size, 8)


@dataclass(frozen=True)
class ClipTraining:
    model: dict[str, Any]
    train: dict[str, Any]


@dataclass(frozen=True)
class PretrainCheck:
    num_inference_steps: int = 25
    guidance_scale: float = 5.0


def parameter_problems(params: Mapping[str, Any]) -> list[str]:
    """Every problem of resolved ``params``, each naming its key, its value and what is allowed."""
    unknown = sorted(set(params) - set(GROUPS))
    problems = [f"params.yaml: unknown top-level keys {unknown}; known: {list(GROUPS[:-1])}"] if unknown else []
    for where, build in group_checks(params):
        try:
            build()
        except (ValueError, TypeError, KeyError) as error:
            problems.append(f"params.yaml {where} (profile {params['active_profile']['name']}): {error}")
    return problems


def check_parameters(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """``params`` unchanged, or :class:`ParametersError` listing every problem."""
    problems = parameter_problems(params)
    if problems:
        raise ParametersError(problems)
    return params


def group_checks(params: Mapping[str, Any]) -> list[tuple[str, Callable[[], Any]]]:
    """``(where, build)`` for each part of the parameters: ``build()`` raises on a bad key, type or value."""
    profile = params["active_profile"]
    data, train, generate, edit, ablate = (params[g] for g in ("data", "train", "generate", "edit", "ablate"))
    checks: list[tuple[str, Callable[[], Any]]] = [
        ("data", lambda: from_params(DataSettings, data, "data settings")),
        ("encode", lambda: from_params(EncodeSettings, params["encode"], "encode settings")),
        ("model", lambda: LAMPConfig.from_dict(params["model"])),
        ("model_card", lambda: from_params(ModelCardSettings, params["model_card"], "model_card settings")),
        ("train", lambda: train_config(Profile.from_active(profile), data, train)),
        ("train.validation", lambda: from_params(ValidationSettings, train.get("validation"), "train.validation settings")),
        ("train", lambda: _string(train, "checkpoints_dir")),
        ("train", lambda: _processes(train, "processes")),
        ("generate", lambda: GenerationSettings.for_profile(generate, Profile.from_active(profile))),
        ("generate.first_frame", lambda: FirstFrameSettings.for_profile(generate)),
        ("generate", lambda: from_params(GenerateRunSettings, {k: generate[k] for k in RUN_LEVEL_KEYS
                                                                if k in generate and k != "first_frame"},
                                         "generate settings")),
        ("generate.motions", lambda: _subset(generate.get("motions") or [], profile["motions"], "the profile's motions")),
        ("edit", lambda: from_params(EditSettings, edit, "edit settings")),
        ("edit.train", lambda: tune_config(edit["train"], edit.get("n_frames") or profile["n_frames"])),
        ("edit.sampling", lambda: SamplingSettings.from_dict(edit["sampling"])),
        ("edit.img2img", lambda: Img2ImgSettings.from_dict(edit.get("img2img"))),
        ("edit.controlnet", lambda: ControlNetSettings.from_dict(edit.get("controlnet"))),
        ("ablate", lambda: from_params(AblationSettings, ablate, "ablate settings")),
        ("ablate.motions", lambda: _subset(ablate.get("motions") or [], profile["motions"], "the profile's motions")),
    ]
    for name, values in (ablate.get("variants") or {}).items():
        checks.append((f"ablate.variants.{name}", lambda n=name, v=values: _variant(Variant.from_params(n, v), params)))
    if profile["stages"]["mini_world"]:
        checks += mini_world_checks(params)
    return checks


def mini_world_checks(params: Mapping[str, Any]) -> list[tuple[str, Callable[[], Any]]]:
    """The groups only the mini world reads (profiles whose ``stages.mini_world`` lists them)."""
    synthesize, pretrain = params["synthesize"], params["pretrain"]
    return [
        ("synthesize", lambda: from_params(SynthesizeSettings, synthesize, "synthesize settings")),
        ("synthesize.motions", lambda: _subset(synthesize["motions"], MOTIONS, "the mini world renders only")),
        ("pretrain", lambda: from_params(PretrainSettings, pretrain, "pretrain settings")),
        ("pretrain.base", lambda: MiniBaseConfig.from_dict({"image_size": params["active_profile"]["height"],
                                                            **pretrain["base"]})),
        ("pretrain.vae", lambda: from_params(VaeTraining, pretrain["vae"], "pretrain.vae settings")),
        ("pretrain.vae.train", lambda: PretrainLoop.from_dict(pretrain["vae"]["train"], "pretrain.vae.train settings")),
        ("pretrain.vae.decoder", lambda: from_params(DecoderTraining, pretrain["vae"]["decoder"], "pretrain.vae.decoder settings")),
        ("pretrain.vae.decoder.train", lambda: PretrainLoop.from_dict(pretrain["vae"]["decoder"]["train"],
                                                                       "pretrain.vae.decoder.train settings")),
        ("pretrain.text_to_image", lambda: PretrainLoop.from_dict(pretrain["text_to_image"],
                                                                   "pretrain.text_to_image settings")),
        ("pretrain.clip", lambda: from_params(ClipTraining, pretrain["clip"], "pretrain.clip settings")),
        ("pretrain.clip.model", lambda: MiniClipConfig.from_dict(pretrain["clip"]["model"])),
        ("pretrain.clip.train", lambda: PretrainLoop.from_dict(pretrain["clip"]["train"], "pretrain.clip.train settings")),
        ("pretrain.check", lambda: from_params(PretrainCheck, pretrain["check"], "pretrain.check settings")),
    ]


def _variant(variant: Variant, params: Mapping[str, Any]) -> None:
    """A variant's overrides applied to the groups it changes, built as its run builds them."""
    profile = Profile.from_active(params["active_profile"])
    LAMPConfig.from_dict({**params["model"], **variant.model})
    train_config(profile, params["data"], {**params["train"], **variant.train})
    GenerationSettings.for_profile(params["generate"], profile, **variant.generate)
    FirstFrameSettings.for_profile(params["generate"], **variant.first_frame)


def _subset(values: Any, allowed: Any, what: str) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValueError(f"{unknown}: {what} {sorted(allowed)}")


def _processes(group: Mapping[str, Any], key: str) -> None:
    value = group.get(key, 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{key} is {value!r}; expected a whole number of processes, 1 or more")
    if value > 1 and (group.get("validation") or {}).get("prompt"):
        raise ValueError(f"{key} is {value}, but validation GIFs are drawn by one-process training only: "
                         "set validation.prompt to null, or processes to 1")


def _string(group: Mapping[str, Any], key: str) -> None:
    if not isinstance(group.get(key), str):
        raise ValueError(f"{key} is {group.get(key)!r}; expected a path")
