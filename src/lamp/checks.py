"""``lamp check``: before a run deletes or computes anything, will it get through?

A full run trains for hours on a GPU; a misspelt setting, a missing model or a full disk should
stop it in seconds, with what to do, not after the first motion. :func:`check_project` checks
every parameter (:mod:`lamp.parameters`: unknown keys, types, ranges), finds
every source folder and file the run will read, locates every model it will load
(:mod:`lamp.hub`: a local folder, the Hugging Face cache or the hub, honouring HF_HUB_OFFLINE),
checks that the device can run the precisions asked for, and that the disk has room for the
outputs. Inputs the run makes itself (everything under ``data/<profile>/``, such as the mini
profile's base models) are noted, not looked for.

The DVC stage ``check`` runs it first and writes :meth:`CheckResult.report`, which every other
stage depends on; the report holds nothing that changes between runs of the same parameters.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping

from lamp.hub import (
    HUB,
    HUB_CACHE,
    LOCAL_FOLDER,
    ModelNeed,
    ModelStatus,
    diffusers_model_files,
    diffusers_pipeline_files,
    hub_cache_dir,
    locate_models,
    open_clip_files,
)
from lamp.io import atomic_path, file_sha256
from lamp.parameters import parameter_problems

VIDEO_BASE_COMPONENTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
#: A fresh full run's disk use per trained motion, beyond the weights: AdamW's two moments.
ADAM_STATES = 2
FLOAT_BYTES = 4


@dataclass(frozen=True)
class CheckResult:
    """What ``lamp check`` found: problems stop a run; notes say what was checked and what the run makes."""

    profile: str
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    models: tuple[ModelStatus, ...]
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_project(params: Mapping[str, Any], device: Any = None) -> CheckResult:
    """Everything a run of ``params`` (resolved, :func:`lamp.config_loader.load_params_file`) needs, checked."""
    profile = params["active_profile"]
    made = made_by_run(profile["name"])
    problems: list[str] = parameter_problems(params)
    notes: list[str] = []
    problems += motion_problems(params, made, notes)
    problems += input_file_problems(params, made, notes)
    needs = model_needs(params, made, notes)
    statuses = locate_models(needs)
    problems += [p for status in statuses for p in status.problems]
    problems += device_problems(params, device, notes)
    problems += disk_problems(params, statuses, notes)
    report = {
        "profile": profile["name"],
        "motions": dict(profile["motions"]),
        "edits": sorted(profile.get("edits") or {}),
        "models": {need.role: {"model": need.model, "revision": need.revision} for need in needs},
    }
    return CheckResult(profile["name"], tuple(problems), tuple(notes), tuple(statuses), report)


def made_by_run(profile: str) -> Callable[[str], bool]:
    """Whether a path is one of the run's own outputs (``data/<profile>/...``), not yet made when it is checked."""
    root = PurePosixPath("data", profile)
    return lambda path: PurePosixPath(Path(path).as_posix()).is_relative_to(root)


# --- inputs ---------------------------------------------------------------------------------------


def motion_problems(params: Mapping[str, Any], made: Callable[[str], bool], notes: list[str]) -> list[str]:
    """Each motion's folder exists and holds at least ``data.min_videos`` videos, or the run makes it."""
    from lamp.data.ingest import VIDEO_EXTENSIONS

    profile, data = params["active_profile"], params["data"]
    synthesized = set(params["synthesize"]["motions"]) if profile["stages"]["mini_world"] else set()
    videos_dir = Path(params["synthesize"]["videos_dir"])
    problems = []
    for motion, folder in profile["motions"].items():
        where = f"profiles.{profile['name']}.motions.{motion}"
        if made(folder):
            if motion in synthesized and Path(folder) == videos_dir / motion:
                notes.append(f"motion {motion}: {folder} is rendered by stage synthesize@{profile['name']}-{motion}")
            else:
                problems.append(
                    f"{where} is {folder}, inside data/{profile['name']}/, which holds what the run makes and "
                    f"nothing makes this folder; put the videos in data/01_raw/videos/{motion}/ and point {where} there"
                )
            continue
        path = Path(folder)
        if not path.is_dir():
            problems.append(f"{where}: {folder} does not exist; put the motion's 8-16 videos there "
                            f"({', '.join(VIDEO_EXTENSIONS)}) or fix the path")
            continue
        count = sum(1 for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                    and p.suffix.lower() in VIDEO_EXTENSIONS)
        if count < data["min_videos"]:
            problems.append(f"{where}: {folder} holds {count} videos and data.min_videos is {data['min_videos']}; "
                            "add videos or lower data.min_videos")
        else:
            notes.append(f"motion {motion}: {count} videos in {folder}")
    return problems


def input_file_problems(params: Mapping[str, Any], made: Callable[[str], bool], notes: list[str]) -> list[str]:
    """The evaluation prompts cover every motion; every edit's video and first frame exist."""
    profile = params["active_profile"]
    problems = []
    prompts_file = profile["prompts_file"]
    if made(prompts_file):
        notes.append(f"evaluation prompts: {prompts_file} is made by the run")
    elif not Path(prompts_file).is_file():
        problems.append(f"profiles.{profile['name']}.prompts_file: {prompts_file} does not exist; "
                        "give a motion,prompt CSV")
    else:
        problems += prompt_problems(params)
    for name, spec in (profile.get("edits") or {}).items():
        for key in ("video", "first_frame"):
            path = spec.get(key)
            if path and not made(path) and not Path(path).is_file():
                problems.append(f"profiles.{profile['name']}.edits.{name}.{key}: {path} does not exist")
    return problems


def prompt_problems(params: Mapping[str, Any]) -> list[str]:
    from lamp.sampling.prompts import read_prompts

    profile = params["active_profile"]
    motions = params["generate"].get("motions") or list(profile["motions"])
    try:
        prompts = read_prompts(profile["prompts_file"], motions)
    except ValueError as error:
        return [str(error)]
    missing = sorted(set(motions) - set(prompts.motion))
    if missing:
        return [f"{profile['prompts_file']} has no evaluation prompt for {missing}: add rows `motion,prompt`, "
                f"or point profiles.{profile['name']}.prompts_file at a file of your own"]
    return []


# --- models ---------------------------------------------------------------------------------------


def model_needs(params: Mapping[str, Any], made: Callable[[str], bool], notes: list[str]) -> list[ModelNeed]:
    """Every model the run loads, with the files it reads; models the run makes are noted instead."""
    profile, edit = params["active_profile"], params["edit"]
    where = f"profiles.{profile['name']}"
    needs = [ModelNeed(f"video base model ({where}.video_base_model)", profile["video_base_model"],
                       profile.get("video_base_revision"), diffusers_pipeline_files(VIDEO_BASE_COMPONENTS))]
    if profile["first_frame_model"] != profile["video_base_model"]:
        needs.append(ModelNeed(f"first-frame model ({where}.first_frame_model)", profile["first_frame_model"],
                               None, pipeline_files(profile["first_frame_model"])))
    redrawn = [name for name, spec in (profile.get("edits") or {}).items() if not spec.get("first_frame")]
    if redrawn and edit.get("first_frame_drawer") == "controlnet":
        controlnet = edit["controlnet"]
        needs.append(ModelNeed(f"ControlNet of edits {redrawn} (edit.controlnet.model)", controlnet["model"],
                               controlnet.get("revision"), diffusers_model_files()))
    needs.append(clip_need(profile))
    kept = []
    for need in needs:
        if made(need.model):
            notes.append(f"{need.role}: {need.model} is made by the run")
        else:
            kept.append(need)
    return kept


def pipeline_files(model: str) -> tuple[str, ...]:
    """A text-to-image pipeline's files: the components its ``model_index.json`` lists, where it can be read here."""
    index = Path(model) / "model_index.json"
    if not index.is_file():
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model, "model_index.json", cache_dir=hub_cache_dir())
        index = Path(cached) if isinstance(cached, str) else None
    if index is None:  # only on the hub: its components are known once model_index.json is downloaded
        return ("model_index.json",)
    components = [name for name, value in json.loads(index.read_text()).items()
                  if isinstance(value, list) and value[0] is not None]
    return diffusers_pipeline_files(components)


def clip_need(profile: Mapping[str, Any]) -> ModelNeed:
    """The CLIP model: a hub id or folder in open_clip's layout, or an architecture name with weights."""
    role = f"CLIP (profiles.{profile['name']}.clip_model)"
    if profile.get("clip_pretrained"):
        import open_clip

        config = open_clip.pretrained.get_pretrained_cfg(profile["clip_model"], profile["clip_pretrained"])
        if not config.get("hf_hub"):
            return ModelNeed(role, f"{profile['clip_model']}/{profile['clip_pretrained']}", None, ())
        repo = config["hf_hub"].rstrip("/")
        return ModelNeed(role, repo, None, ("open_clip_pytorch_model.bin|open_clip_model.safetensors",))
    return ModelNeed(role, profile["clip_model"], None, open_clip_files())


# --- device and disk ------------------------------------------------------------------------------


def precisions(params: Mapping[str, Any]) -> dict[str, str]:
    """Where the run asks for mixed precision: ``{"train.mixed_precision": "fp16", ...}``."""
    asked = {
        "train.mixed_precision": params["train"].get("mixed_precision", "no"),
        "generate.mixed_precision": params["generate"].get("mixed_precision", "no"),
        "edit.train.mixed_precision": params["edit"]["train"].get("mixed_precision", "no"),
    }
    return {key: value for key, value in asked.items() if value != "no"}


def device_problems(params: Mapping[str, Any], device: Any, notes: list[str]) -> list[str]:
    """fp16 needs a CUDA GPU (and bf16 one that supports it); whatever device is there must run a tensor."""
    import torch
    from accelerate import PartialState

    device = torch.device(device) if device is not None else PartialState().device
    name = params["active_profile"]["name"]
    problems = []
    try:
        torch.ones(2, device=device).sum().item()
    except RuntimeError as error:
        return [f"the device {device} cannot run a tensor ({error}); check its driver or use another machine"]
    notes.append(f"device: {device}")
    for key, precision in precisions(params).items():
        if device.type != "cuda":
            if precision == "fp16":
                problems.append(f"{key} is fp16 (profile {name}), which needs a CUDA GPU, and this machine runs on "
                                f"{device}: run on a GPU machine, or set profiles.{name}.{key}: 'no'")
            continue
        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[precision]
        if precision == "bf16" and not torch.cuda.is_bf16_supported():
            problems.append(f"{key} is bf16, which {torch.cuda.get_device_name(device)} does not support; use fp16")
            continue
        try:
            (torch.ones(2, 2, device=device, dtype=dtype) @ torch.ones(2, 2, device=device, dtype=dtype)).sum().item()
        except RuntimeError as error:
            problems.append(f"{key} is {precision}, which fails on {device} ({error})")
    return problems + process_problems(params, torch.cuda.device_count() if device.type == "cuda" else None)


def process_problems(params: Mapping[str, Any], gpus: int | None) -> list[str]:
    """``train.processes`` and ``generate.processes`` launch one process per GPU: no more than the machine's
    ``gpus`` (None: a machine without one, where they are CPU processes, as many as asked). Too many would
    stop only at the stage's launch, after the stages before it."""
    if gpus is None:
        return []
    asked = {"train.processes": params["train"].get("processes", 1), "generate.processes": params["generate"].get("processes", 1)}
    return [f"{key} is {count}, one process per GPU, and this machine has {gpus}: set {key} to {gpus} or less"
            for key, count in asked.items() if count > gpus]


def disk_problems(params: Mapping[str, Any], statuses: tuple[ModelStatus, ...] | list[ModelStatus],
                  notes: list[str]) -> list[str]:
    """The outputs' disk holds what the run writes: motion weights, checkpoints, the ablation's and the edits' weights."""
    profile = params["active_profile"]
    trained = trained_parameters(profile, params["model"], statuses)
    if trained is None:
        notes.append("disk: not estimated (the base model's UNet config cannot be read here yet)")
        return []
    need = output_bytes(params, trained)
    root = Path("data", profile["name"])
    existing = next(p for p in (root, *root.parents) if p.exists())
    free = shutil.disk_usage(existing).free
    notes.append(f"disk: the run writes up to {need / 2**30:.1f} GiB ({trained:,} trained parameters per model); "
                 f"{free / 2**30:.1f} GiB free at {existing.resolve()}")
    if free < need:
        return [f"the disk of {existing.resolve()} has {free / 2**30:.1f} GiB free and the run writes up to "
                f"{need / 2**30:.1f} GiB (motion weights and checkpoints of {len(profile['motions'])} motions, "
                "the ablation and the edits): free space, or lower train.checkpoints_total_limit"]
    return []


def output_bytes(params: Mapping[str, Any], trained: int) -> int:
    """Bytes of trained weights the run keeps: per motion the weights and ``checkpoints_total_limit`` checkpoints."""
    from lamp.ablation import Variant

    profile, train, ablate = params["active_profile"], params["train"], params["ablate"]
    limit = train.get("checkpoints_total_limit") or 1
    per_training = trained * FLOAT_BYTES * (1 + limit * (1 + ADAM_STATES))
    variants = ablate.get("run_variants") or list(ablate.get("variants") or {})
    retrained = sum(Variant.from_params(v, ablate["variants"][v]).trains for v in variants if v in ablate["variants"])
    ablated = len(ablate.get("motions") or profile["motions"])
    edits = len(profile.get("edits") or {})
    return per_training * (len(profile["motions"]) + retrained * ablated) + trained * FLOAT_BYTES * edits


def trained_parameters(profile: Mapping[str, Any], model: Mapping[str, Any],
                       statuses: tuple[ModelStatus, ...] | list[ModelStatus]) -> int | None:
    """The trained parameter count of the inflated base UNet, built without weights from its config."""
    config = unet_config(profile, statuses)
    if config is None:
        return None
    from accelerate import init_empty_weights
    from diffusers import UNet2DConditionModel

    from lamp.models import LAMPConfig, LAMPVideoUNet

    with init_empty_weights():
        unet = UNet2DConditionModel.from_config(config)
        return LAMPVideoUNet(unet, LAMPConfig.from_dict(model)).parameter_counts().trainable


def unet_config(profile: Mapping[str, Any], statuses: tuple[ModelStatus, ...] | list[ModelStatus]) -> dict | None:
    base = profile["video_base_model"]
    local = Path(base) / "unet" / "config.json"
    if local.is_file():
        return json.loads(local.read_text())
    if any(s.need.model == base and s.found == HUB_CACHE for s in statuses):
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(base, "unet/config.json", cache_dir=hub_cache_dir(),
                                        revision=profile.get("video_base_revision"))
        return json.loads(Path(cached).read_text()) if isinstance(cached, str) else None
    return None


# --- the record of the hub models a run uses -------------------------------------------------------


def model_record(status: ModelStatus) -> dict[str, Any]:
    """What identifies a located model's content: the hub commit, or the SHA-256 of a local folder's files."""
    need = status.need
    record = {"role": need.role, "model": need.model, "revision": need.revision, "found": status.found}
    if status.found == LOCAL_FOLDER:
        folder = Path(need.model)
        record["files"] = {p.relative_to(folder).as_posix(): file_sha256(p)
                           for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}
    elif status.found == HUB_CACHE:
        from huggingface_hub import try_to_load_from_cache

        first = need.files[0].split("|")[0] if need.files else "model_index.json"
        cached = try_to_load_from_cache(need.model, first, cache_dir=hub_cache_dir(), revision=need.revision)
        record["commit"] = Path(cached).parents[len(PurePosixPath(first).parts) - 1].name
    elif status.found == HUB:
        from huggingface_hub import HfApi

        record["commit"] = HfApi().model_info(need.model, revision=need.revision, timeout=10).sha
    return record


def write_model_records(result: CheckResult, directory: str | Path) -> list[Path]:
    """``<directory>/base/models.json`` (video base, first-frame model, ControlNet) and ``clip/models.json``."""
    directory = Path(directory)
    records = [model_record(status) for status in result.models]
    groups = {"clip": [r for r in records if r["role"].startswith("CLIP")],
              "base": [r for r in records if not r["role"].startswith("CLIP")]}
    written = []
    for name, group in groups.items():
        path = directory / name / "models.json"
        with atomic_path(path) as temporary:
            temporary.write_text(json.dumps(group, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


def write_report(result: CheckResult, path: str | Path) -> Path:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(result.report, indent=2, sort_keys=True) + "\n")
    return Path(path)
