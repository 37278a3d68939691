"""Every setting as each profile resolves it, side by side: the README's table, generated, never typed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterator, Mapping

from omegaconf import OmegaConf

from lamp.config_loader import read_params_file, resolved_params
from lamp.profiles import PROFILE_TOKEN

#: Groups both profiles read; the mini world's own groups (synthesize, pretrain) have one column.
SHARED_GROUPS = ("data", "encode", "model", "model_card", "train", "generate", "edit", "ablate")
PROFILE_KEYS = ("height", "width", "n_frames", "video_base_model", "video_base_revision", "first_frame_model",
                "clip_model", "clip_pretrained", "prompts_file", "stages", "motions", "edits")
#: Where the profile's name appears inside a value (paths), so equal settings read as equal.
NAME = PROFILE_TOKEN


def resolved_by_profile(params_file: str | Path) -> dict[str, dict[str, Any]]:
    """Each profile's resolved parameters, as a run with ``profile: *<name>`` sees them."""
    raw = OmegaConf.create(read_params_file(params_file))
    resolved = {}
    for name in raw.profiles:
        config = copy.deepcopy(raw)
        config.profile = raw.profiles[name]
        resolved[name] = resolved_params(config)
    return resolved


def settings_table(params_file: str | Path) -> str:
    """A Markdown table: a row per setting, a column per profile; settings that differ in bold."""
    resolved = resolved_by_profile(params_file)
    names = list(resolved)
    rows = {}
    for name, params in resolved.items():
        profile = params["active_profile"]
        values = {f"profile.{key}": profile.get(key) for key in PROFILE_KEYS}
        values |= {"profile.motions": sorted(profile["motions"]), "profile.edits": sorted(profile.get("edits") or {})}
        for group in SHARED_GROUPS:
            values |= dict(flatten(params[group], group))
        for key, value in values.items():
            rows.setdefault(key, {})[name] = _shown(value, name)
    lines = [f"| setting | {' | '.join(names)} |", "|---" * (len(names) + 1) + "|"]
    for key, cells in rows.items():
        shown = [cells.get(name, "") for name in names]
        label = f"**{key}**" if len(set(shown)) > 1 else key
        lines.append(f"| {label} | {' | '.join(shown)} |")
    return "\n".join(lines)


def flatten(values: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    """``{"a": {"b": 1}}`` as ``("prefix.a.b", 1)``; empty mappings stay one row."""
    for key, value in values.items():
        if isinstance(value, Mapping) and value:
            yield from flatten(value, f"{prefix}.{key}")
        else:
            yield f"{prefix}.{key}", value


def _shown(value: Any, profile: str) -> str:
    text = json.dumps(value, separators=(", ", ": ")) if not isinstance(value, str) else value
    return "`" + text.replace(f"data/{profile}/", f"data/{NAME}/").replace("|", "\\|") + "`"


#: The README block that holds the table (``lamp settings --readme README.md`` rewrites it).
README_BLOCK = "settings"
