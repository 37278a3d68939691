"""Kedro configuration that reads the project's one parameter file, ``params.yaml``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException, OmegaConfigLoader
from omegaconf import OmegaConf

from lamp.profiles import active_profile

PARAMS_FILE = "params.yaml"


class LAMPConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` whose parameters are ``params.yaml`` (shared with DVC) under ``conf/``.

    Kedro reads parameters only from ``conf/``, DVC only from ``params.yaml``; one file must serve
    both, so this loader puts ``params.yaml`` beneath the ``conf/`` parameter files and the
    ``--params`` runtime overrides, and adds ``active_profile``: the settings of the profile that
    ``profile:`` selects, so nodes need not look it up.
    """

    def __getitem__(self, key: str) -> Any:
        if key != "parameters":
            return super().__getitem__(key)
        try:
            value = super().__getitem__(key)
        except MissingConfigException:
            value = {}
        params_file = Path(self.conf_source).parent / PARAMS_FILE
        base = OmegaConf.load(params_file) if params_file.is_file() else OmegaConf.create({})
        merged = OmegaConf.to_container(OmegaConf.merge(base, value, self.runtime_params or {}), resolve=True)
        merged["active_profile"] = active_profile(merged)
        return merged


def env_or_default(name: str, default: str) -> str:
    """OmegaConf resolver for conf files: an environment variable or a default."""
    return os.environ.get(name, default)
