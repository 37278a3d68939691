"""Will every model a run needs load here? Answered before any GPU time is spent, in seconds, downloading nothing.

A model is a local folder (diffusers or open_clip layout) or a Hugging Face hub id. For a hub id this module
composes huggingface_hub's own pieces (``try_to_load_from_cache`` for the cache, ``HfApi.model_info`` for the
repo's file listing, its error classes for why the hub said no) instead of reading the cache layout or calling
the hub API itself: diffusers, transformers and open_clip load through those same functions, so the cache
layout, revisions, tokens and endpoint seen here are the ones loading will see, and follow huggingface_hub
when it changes. Two settings are re-read at call time because huggingface_hub reads them once, at import:
the cache folder (HF_HUB_CACHE, HF_HOME) and HF_HUB_OFFLINE. In a ``lamp check`` process, which sets neither
after import, both readings agree.
"""

from __future__ import annotations

import os
import posixpath
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import httpx2  # huggingface_hub's HTTP client: its connection errors are not OSErrors
from huggingface_hub import HfApi, constants, hf_hub_url, try_to_load_from_cache
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.file_download import repo_folder_name
from huggingface_hub.hf_api import ModelInfo
from huggingface_hub.utils import validate_repo_id

LOCAL_FOLDER = "local folder"
HUB_CACHE = "hub cache"
HUB = "hub"

HUB_TIMEOUT_S = 10.0  # huggingface_hub's own HTTP client has no timeout

DIFFUSERS_WEIGHTS = (
    "diffusion_pytorch_model.safetensors",
    "diffusion_pytorch_model.bin",
    "diffusion_pytorch_model.fp16.safetensors",
)
TRANSFORMERS_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.fp16.safetensors")
TRANSFORMERS_COMPONENTS = ("text_encoder", "text_encoder_2", "text_encoder_3", "safety_checker", "image_encoder")
# open_clip.constants HF_CONFIG_NAME, HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME, without importing torch
OPEN_CLIP_FILES = ("open_clip_config.json", "open_clip_model.safetensors|open_clip_pytorch_model.bin")

WEIGHTS_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt", ".ckpt")
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")  # huggingface_hub honours both

T = TypeVar("T")


@dataclass(frozen=True)
class ModelNeed:
    """One model a run will load and the files it will read from it.

    Attributes:
        role: what the model is for, e.g. ``"video base model (profiles.full.video_base_model)"``: problems
            name it so that the reader knows which parameter to change.
        model: a hub id (``org/name`` or ``name``) or a local folder.
        revision: hub branch, tag or commit (None: the default branch); unused for a local folder.
        files: paths relative to the model root; an entry ``"a|b"`` is met by either file.
    """

    role: str
    model: str
    revision: str | None = None
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelStatus:
    """Where a need was found and what stops it loading there.

    Attributes:
        need: the need this answers.
        found: ``"local folder"``, ``"hub cache"`` or ``"hub"`` (downloaded at load time); None when the model
            is in none of them, or the hub could not say.
        problems: sentences naming the model, its role, what is missing and how to get it.
    """

    need: ModelNeed
    found: str | None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.found is not None and not self.problems


def diffusers_pipeline_files(components: Sequence[str]) -> tuple[str, ...]:
    """``model_index.json`` and, per component subfolder, the config and weights its loader reads."""
    return ("model_index.json", *(path for name in components for path in component_files(name)))


def component_files(name: str) -> tuple[str, ...]:
    """The files of one pipeline component, by the library that loads it (diffusers, transformers)."""
    if name == "scheduler":
        return (f"{name}/scheduler_config.json",)
    if name.startswith("tokenizer"):
        return (f"{name}/tokenizer_config.json|{name}/vocab.json",)
    if name == "feature_extractor":
        return (f"{name}/preprocessor_config.json",)
    if name in TRANSFORMERS_COMPONENTS:
        return (f"{name}/config.json", either(name, TRANSFORMERS_WEIGHTS))
    return diffusers_model_files(name)


def diffusers_model_files(subfolder: str = "") -> tuple[str, ...]:
    """A diffusers model (a ControlNet, a UNet): ``config.json`` and one of its weights files."""
    return (f"{subfolder}/config.json" if subfolder else "config.json", either(subfolder, DIFFUSERS_WEIGHTS))


def open_clip_files() -> tuple[str, ...]:
    """An open_clip model in hub layout, as ``timm/vit_large_patch14_clip_224.openai`` is."""
    return OPEN_CLIP_FILES


def either(subfolder: str, names: Sequence[str]) -> str:
    return "|".join(f"{subfolder}/{name}" if subfolder else name for name in names)


def locate_models(
    needs: Sequence[ModelNeed], offline: bool | None = None, cache_dir: str | Path | None = None
) -> list[ModelStatus]:
    """Where each need is and what it lacks, asking the hub at most once per model and not at all once it failed.

    ``offline`` None follows HF_HUB_OFFLINE; ``cache_dir`` None is the hub cache huggingface_hub would use
    if imported now.
    """
    hub = Hub(offline_reason(offline), str(cache_dir) if cache_dir is not None else hub_cache_dir())
    return [locate_model(need, hub) for need in needs]


def offline_reason(offline: bool | None) -> str | None:
    """Why the hub must not be asked (None: it may be)."""
    if offline is not None:
        return "offline checking was asked for" if offline else None
    return "HF_HUB_OFFLINE is set" if hub_offline() else None


def hub_offline() -> bool:
    """HF_HUB_OFFLINE as huggingface_hub read it at import, or as it is set now."""
    set_now = (os.environ.get(name, "").upper() in constants.ENV_VARS_TRUE_VALUES for name in OFFLINE_VARIABLES)
    return constants.HF_HUB_OFFLINE or any(set_now)


def hub_cache_dir() -> str:
    """The hub cache as huggingface_hub resolves it from the environment as it is now, not at its import."""
    folder = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if folder is None and "HF_HOME" in os.environ:
        folder = os.path.join(os.environ["HF_HOME"], "hub")
    return os.path.expandvars(os.path.expanduser(folder)) if folder else constants.HF_HUB_CACHE


def locate_model(need: ModelNeed, hub: Hub) -> ModelStatus:
    folder = Path(need.model).expanduser()
    if need.model and folder.is_dir():
        return locate_in_folder(need, folder)
    if looks_local(need.model):
        file = " (it is a file)" if folder.exists() else ""
        problem = f"{subject(need)}: no such folder{file}; fix the path, or name a hub id such as org/name"
        return ModelStatus(need, None, (problem,))
    try:
        validate_repo_id(need.model)
    except HFValidationError:
        problem = f"{subject(need)}: neither an existing folder nor a hub id (org/name); fix the parameter"
        return ModelStatus(need, None, (problem,))
    return locate_on_hub(need, hub)


def looks_local(model: str) -> bool:
    """A path rather than a hub id, so a missing folder is reported as such instead of asking the hub for it."""
    return model.startswith(("/", "./", "../", "~")) or model.count("/") > 1 or Path(model).exists()


def locate_in_folder(need: ModelNeed, folder: Path) -> ModelStatus:
    missing = [entry for entry in need.files if not any((folder / name).is_file() for name in alternatives(entry))]
    if not missing:
        return ModelStatus(need, LOCAL_FOLDER)
    problem = (
        f"{subject(need)}: the folder lacks {describe(missing)}; copy the complete model into it "
        "(or re-run the stage that writes it), or point the parameter at a hub id"
    )
    return ModelStatus(need, LOCAL_FOLDER, (problem,))


def locate_on_hub(need: ModelNeed, hub: Hub) -> ModelStatus:
    missing = [entry for entry in need.files if not hub.cached(need, entry)]
    if not missing:
        return ModelStatus(need, HUB_CACHE)
    if hub.offline_reason:
        problem = (
            f"{subject(need)}: {describe(missing)} not in the Hugging Face cache ({hub.cache_dir}) and "
            f"{hub.offline_reason}, so the hub is not asked; {download_fix(need, missing, hub.cache_dir)}"
        )
        return ModelStatus(need, None, (problem,))
    info = hub.model_info(need)
    if not isinstance(info, ModelInfo):
        return ModelStatus(need, None, (hub_problem(need, info, missing, hub),))
    listing = None if info.siblings is None else {sibling.rfilename for sibling in info.siblings}
    absent = [entry for entry in missing if listing is not None and not listing.intersection(alternatives(entry))]
    if absent:
        problem = f"{subject(need)}: the hub repo has no {describe(absent)}; name a model or revision that has it"
        return ModelStatus(need, HUB, (problem,))
    if info.gated:
        listed = [name for name in alternatives(missing[0]) if listing is None or name in listing]
        denied = hub.download_denied(need, listed[0])
        if denied is not None:
            return ModelStatus(need, None, (hub_problem(need, denied, missing, hub),))
    return ModelStatus(need, HUB)


class Hub:
    """The hub as one ``locate_models`` call sees it: each repo asked once, nothing asked after it failed to answer."""

    def __init__(self, offline_reason: str | None, cache_dir: str):
        self.offline_reason = offline_reason
        self.cache_dir = cache_dir
        self.unreachable: Exception | None = None
        self.answers: dict[tuple[str, str | None], ModelInfo | Exception] = {}
        self.api = HfApi()

    def cached(self, need: ModelNeed, entry: str) -> bool:
        return any(
            isinstance(try_to_load_from_cache(need.model, name, cache_dir=self.cache_dir, revision=need.revision), str)
            for name in alternatives(entry)
        )

    def model_info(self, need: ModelNeed) -> ModelInfo | Exception:
        key = (need.model, need.revision)
        if key not in self.answers:
            if self.unreachable is not None:
                return self.unreachable
            self.answers[key] = self.ask(
                lambda: self.api.model_info(
                    need.model, revision=need.revision, timeout=HUB_TIMEOUT_S, files_metadata=False
                )
            )
        return self.answers[key]

    def download_denied(self, need: ModelNeed, filename: str) -> Exception | None:
        """Why one file of a gated repo cannot be downloaded: its listing is public, its files are not."""
        url = hf_hub_url(need.model, filename, revision=need.revision)
        answer = self.ask(lambda: self.api.get_hf_file_metadata(url=url, timeout=HUB_TIMEOUT_S))
        return answer if isinstance(answer, Exception) else None

    def ask(self, request: Callable[[], T]) -> T | Exception:
        try:
            return request()
        except (httpx2.HTTPError, OSError) as error:  # HfHubHTTPError is both; OfflineModeIsEnabled an OSError
            if unreachable(error):
                self.unreachable = error
            return error


def unreachable(error: Exception) -> bool:
    """The hub did not answer, or answered nothing about the repo (5xx, rate limit): asking again is no use."""
    if isinstance(error, (RepositoryNotFoundError, RevisionNotFoundError)):
        return False
    return not (isinstance(error, HfHubHTTPError) and status_code(error) in (401, 403))


def status_code(error: HfHubHTTPError) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def hub_problem(need: ModelNeed, error: Exception, missing: Sequence[str], hub: Hub) -> str:
    if isinstance(error, GatedRepoError) or (isinstance(error, HfHubHTTPError) and status_code(error) in (401, 403)):
        return (
            f"{subject(need)} is gated on the hub and this account may not download it: accept its license at "
            f"{constants.ENDPOINT}/{need.model} and run `hf auth login`"
        )
    if isinstance(error, RevisionNotFoundError):
        return f"{subject(need)}: the hub repo has no revision {need.revision!r}; set an existing branch, tag or commit"
    if isinstance(error, RepositoryNotFoundError):
        return (
            f"{subject(need)}: no such repo on the hub, and no such local folder; fix the id, or run `hf auth login` "
            "if it is private"
        )
    return (
        f"{subject(need)}: {describe(missing)} not in the Hugging Face cache ({hub.cache_dir}) and the hub is "
        f"unreachable ({one_line(error)}); {download_fix(need, missing, hub.cache_dir)}"
    )


def download_fix(need: ModelNeed, missing: Sequence[str], cache_dir: str) -> str:
    """How to put the missing files where loading looks, without the whole repo: it holds every weights format."""
    command = ["hf", "download", need.model, *download_names(need, missing)]
    if need.revision:
        command += ["--revision", need.revision]
    folder = repo_folder_name(repo_id=need.model, repo_type="model")
    return (
        f"run `{shlex.join(command)}` where the hub is reachable and copy the {folder} folder of its cache into "
        f"{cache_dir}, or add `--local-dir DIR` to it and point the parameter at a copy of DIR"
    )


def download_names(need: ModelNeed, missing: Sequence[str]) -> list[str]:
    """``hf download`` arguments for the missing entries: the first weights file of each alternative, every
    alternative of the small files (names a repo lacks match nothing), and whole folders that hold no weights
    (``tokenizer/``), since a tokenizer reads more files (``merges.txt``) than the one that marks it present.
    """
    weights_folders = {posixpath.dirname(name) for name in map(first, need.files) if is_weights(name)}
    names: list[str] = []
    for entry in missing:
        folder = posixpath.dirname(first(entry))
        if is_weights(first(entry)):
            names.append(first(entry))
        elif folder and folder not in weights_folders:
            names.append(f"{folder}/")
        else:
            names.extend(alternatives(entry))
    return list(dict.fromkeys(names))


def first(entry: str) -> str:
    return alternatives(entry)[0]


def is_weights(name: str) -> bool:
    return name.endswith(WEIGHTS_SUFFIXES)


def subject(need: ModelNeed) -> str:
    revision = f" at revision {need.revision}" if need.revision else ""
    return f"{need.role} {need.model}{revision}"


def alternatives(entry: str) -> tuple[str, ...]:
    return tuple(entry.split("|"))


def describe(entries: Sequence[str]) -> str:
    """``a, b (or c)``: each entry by its first name, its alternatives in brackets."""
    return ", ".join(
        names[0] + (f" (or {', '.join(names[1:])})" if len(names) > 1 else "") for names in map(alternatives, entries)
    )


def one_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
