"""Kedro configuration that reads the project's one parameter file, ``params.yaml``."""

from __future__ import annotations

import copy
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException, OmegaConfigLoader
from omegaconf import OmegaConf

from lamp.parameters import check_parameters
from lamp.profiles import Profile, profile_name, resolve_parameters

PARAMS_FILE = "params.yaml"


class LAMPConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` whose parameters are ``params.yaml`` (shared with DVC) under ``conf/``.

    Kedro reads parameters only from ``conf/``, DVC only from ``params.yaml``; one file must serve
    both, so this loader puts ``params.yaml`` beneath the ``conf/`` parameter files and the
    ``--params`` runtime overrides, resolves the active profile (:func:`lamp.profiles.resolve_parameters`)
    and checks every group (:mod:`lamp.parameters`): a run with a bad value stops before any node runs.
    The profile also reaches the catalog: ``${globals:profile}`` is its name (outputs live under
    ``data/<profile>/``), each of its motions gets a ``<motion>.videos`` dataset, the folder
    ``params.yaml`` names for it, each of its pretrained models a dataset (:meth:`Profile.models`), and
    its prompts file the dataset ``prompts_file``.
    """

    def __getitem__(self, key: str) -> Any:
        if key == "parameters":
            return self._parameters()
        if key == "globals":
            return {**self._file_globals(), "profile": self._parameters()["profile"]["name"]}
        value = super().__getitem__(key)
        if key == "catalog":
            profile = Profile.from_active(self._parameters()["active_profile"])
            makes_its_own = bool(profile.stages["mini_world"])  # the mini world writes its videos, models and prompts
            rendered = Path((self._parameters().get("synthesize") or {}).get("videos_dir", "")) if makes_its_own else None
            videos = {f"{m}.videos": {"type": "lamp.datasets.VideoFolderDataset", "path": p,
                                      "writable": rendered is not None and Path(p) == rendered / m}
                      for m, p in profile.motions.items()}
            models = {name: {"type": "lamp.datasets.PretrainedModelDataset", "location": model.location,
                             "revision": model.revision, "writable": makes_its_own}
                      for name, model in profile.models().items()}
            prompts = {"prompts_file": {"type": "lamp.datasets.PromptsFileDataset", "filepath": profile.prompts_file,
                                        "writable": makes_its_own}}
            value = {**videos, **models, **prompts, **value}
        return value

    def _parameters(self) -> dict[str, Any]:
        if getattr(self, "_resolved", None) is None:
            try:
                conf = super().__getitem__("parameters")
            except MissingConfigException:
                conf = {}
            params_file = Path(self.conf_source).parent / PARAMS_FILE
            base = OmegaConf.create(read_params_file(params_file) if params_file.is_file() else {})
            resolved = resolved_params(OmegaConf.merge(base, conf, self.runtime_params or {}))
            self._resolved = check_parameters(resolved)
        return self._resolved

    def _file_globals(self) -> dict[str, Any]:
        try:
            return super().__getitem__("globals")
        except MissingConfigException:
            return {}


def resolved_params(config: Any) -> dict[str, Any]:
    """Merged parameters (an OmegaConf config) with ``profile`` pointing at the selected profile, resolved.

    ``profile`` is a copy of ``profiles.<name>`` in the file (a YAML alias); taking it from
    ``profiles`` again lets ``conf/local`` and ``--params`` overrides of the profile apply, and
    interpolations such as ``data/${profile.name}/...`` (in ``conf/`` files) resolve against it.
    """
    name = profile_name(OmegaConf.to_container(config, resolve=False))
    config.profile = config.profiles[name]
    return resolve_parameters(OmegaConf.to_container(config, resolve=True))


def load_params_file(path: str | Path) -> dict[str, Any]:
    """``params.yaml`` alone (no ``conf/`` overrides), resolved as :class:`LAMPConfigLoader` resolves it."""
    return resolved_params(OmegaConf.create(read_params_file(path)))


def read_params_file(path: str | Path) -> dict[str, Any]:
    """A params.yaml's values as DVC reads them: YAML 1.2, with ruamel.yaml (DVC's reader).

    PyYAML (and so ``OmegaConf.load``) reads YAML 1.1, where an unquoted ``no``, ``yes``, ``on`` or ``off``
    is a boolean; to DVC it is a string, and ``dvc exp run -S`` rewrites the file with ``mixed_precision: no``
    unquoted. Read by one rule, the file means to the pipeline what it means to DVC's params tracking.
    """
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(Path(path).read_text()) or {}


def write_params_file(path: str | Path, values: dict[str, Any]) -> None:
    """``values`` as a params.yaml that DVC and Kedro read alike: ``profile`` an alias of the profile it selects.

    YAML writes an object that appears twice once, with an anchor, and an alias where it repeats,
    so ``profile`` must be the very object in ``profiles`` (as loading the file makes it).
    """
    import yaml

    values = {**values, "profile": values["profiles"][profile_name(values)]}
    Path(path).write_text(yaml.safe_dump(values, sort_keys=False))


def env_or_default(name: str, default: str) -> str:
    """OmegaConf resolver for conf files: an environment variable or a default."""
    return os.environ.get(name, default)


#: The arguments the project's settings (``lamp.settings``) give this loader: kept here, with the
#: loader, so that code outside a Kedro session (the ``lamp`` command, pipeline registration) loads the
#: parameters as a run does.
LOADER_ARGS: dict[str, Any] = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"lamp.env": env_or_default},
}


def project_parameters(project: str | Path, env: str | None = None) -> dict[str, Any]:
    """The parameters of the project folder ``project`` exactly as its Kedro runs read them: params.yaml,
    the ``conf/`` overrides (environment ``env``, else ``KEDRO_ENV``, else local), the profile resolved and
    every group checked (a :class:`~lamp.parameters.ParametersError` lists what is wrong).

    Loaded once per state of those files: registering the pipelines asks a dozen times, and each load
    checks every parameter.
    """
    conf = Path(project) / "conf"
    files = sorted([Path(project) / PARAMS_FILE, *conf.rglob("*.y*ml")])
    stamp = tuple((str(f), f.stat().st_mtime_ns) for f in files if f.is_file())
    return copy.deepcopy(_loaded_parameters(str(conf), env or os.environ.get("KEDRO_ENV"), stamp))  # callers may edit theirs


@lru_cache(maxsize=4)
def _loaded_parameters(conf: str, env: str | None, files: tuple[tuple[str, int], ...]) -> dict[str, Any]:
    return LAMPConfigLoader(conf, env=env, **LOADER_ARGS)["parameters"]
