"""The LAMP authors' released checkpoints (RQ-Wu/LAMP, ``train_lamp.py`` output) as lamp video UNets.

Their checkpoint is a diffusers 0.11 ``UNet3DConditionModel`` folder: ``config.json`` plus
``diffusion_pytorch_model.bin`` (a pickled state dict) or ``.safetensors``. Its names differ from
lamp's in one way only: the base conv of every inflated conv is ``<name>.conv2d.*`` where lamp keeps
the image UNet's ``<name>.*``. Everything else (``conv1d``, ``conv_gate``, ``attn_temp``,
``norm_temp`` and the diffusers 0.11 names of the image UNet) is named as in lamp. Their model is
lamp with the switches of :data:`AUTHORS_SWITCHES`. diffusers has no loader for it: its own
``UNet3DConditionModel`` (ModelScope's text-to-video UNet) is another architecture under the same
class name.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import load_file

from lamp.models.config import LAMPConfig
from lamp.models.video_unet import LAMPVideoUNet, is_added, is_trainable

#: The authors' model: every conv inflated with the causal 1D conv, first-frame and temporal
#: attention, their constructor's init, ``norm_temp`` not trained, GroupNorm pooled over frames.
AUTHORS_SWITCHES = LAMPConfig(motion_init="code", train_temporal_norm=False, group_norm="video")

CONFIG_FILE = "config.json"
WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")

_BLOCKS_2D = {
    "CrossAttnDownBlock3D": "CrossAttnDownBlock2D",
    "DownBlock3D": "DownBlock2D",
    "CrossAttnUpBlock3D": "CrossAttnUpBlock2D",
    "UpBlock3D": "UpBlock2D",
    "UNetMidBlock3DCrossAttn": "UNetMidBlock2DCrossAttn",
}
# The arguments of the authors' UNet3DConditionModel that diffusers' UNet2DConditionModel takes as they are.
_SHARED_CONFIG = {
    "sample_size", "in_channels", "out_channels", "center_input_sample", "flip_sin_to_cos", "freq_shift",
    "only_cross_attention", "block_out_channels", "layers_per_block", "downsample_padding",
    "mid_block_scale_factor", "act_fn", "norm_num_groups", "norm_eps", "cross_attention_dim",
    "attention_head_dim", "dual_cross_attention", "use_linear_projection", "class_embed_type",
    "num_class_embeds", "upcast_attention", "resnet_time_scale_shift",
}
_BLOCK_KEYS = {"down_block_types", "up_block_types", "mid_block_type"}
# Bookkeeping, and use_temp, which their code reads but never acts on (every conv gets its motion layer).
_IGNORED_CONFIG = {"_class_name", "_diffusers_version", "_name_or_path", "use_temp"}
_INFLATED_CONV = re.compile(r"\.conv2d\.(weight|bias)$")


class AuthorsCheckpointError(ValueError):
    """A folder that is not a checkpoint of the authors' UNet3DConditionModel, or does not fit lamp's port."""


class BaseWeightsDifferWarning(UserWarning):
    """The checkpoint's frozen weights are not those of the base model named beside it."""


def import_authors_checkpoint(
    unet_dir: str | os.PathLike,
    base_unet: UNet2DConditionModel | None = None,
    base_model: str | None = None,
) -> LAMPVideoUNet:
    """The authors' checkpoint in ``unet_dir`` as a :class:`LAMPVideoUNet` (eval mode, float32).

    Every weight, frozen ones included, is the checkpoint's, so the model computes what the authors'
    model computes. Saved with :func:`~lamp.models.save_motion_weights` it keeps only the trained
    set and is loaded onto a base UNet, so it reproduces their model only on the base it was tuned
    from: with ``base_unet`` (that base, e.g. SD v1.4's UNet) the frozen weights are compared with
    it, and a :class:`BaseWeightsDifferWarning` names those that differ. ``base_model`` is recorded.

    Raises:
        AuthorsCheckpointError: another architecture, unknown or missing keys, wrong shapes, a
            ``norm_temp`` that is not at its initial value, or a base UNet of other shapes; the
            message names the keys.
    """
    unet_dir = Path(unet_dir)
    with torch.device("meta"):  # no random init of weights that the checkpoint replaces
        model = LAMPVideoUNet(UNet2DConditionModel(**_image_unet_config(unet_dir)), AUTHORS_SWITCHES, base_model)
    tensors = {_INFLATED_CONV.sub(r".\1", name): t for name, t in _read_weights(unet_dir).items()}
    _check_names_and_shapes(model.unet.state_dict(), "the authors' model", tensors, "the checkpoint",
                            f"{unet_dir} does not fit the authors' model of its config.json")
    model.unet.load_state_dict(tensors, assign=True)
    _check_untrained_norms(model, unet_dir)
    if base_unet is not None:
        _warn_if_base_differs(model, base_unet)
    return model.eval()


def frozen_weight_differences(model: LAMPVideoUNet, base_unet: UNet2DConditionModel) -> dict[str, float]:
    """Max abs difference of each frozen base tensor of ``model`` from ``base_unet``'s, where not zero.

    Raises :class:`AuthorsCheckpointError` naming the keys when ``base_unet`` has other names or shapes.
    """
    ours = {n: t for n, t in model.unet.state_dict().items() if not is_added(n)}
    theirs = base_unet.state_dict()
    _check_names_and_shapes(ours, "the checkpoint", theirs, "the base",
                            "the base UNet is not the one this checkpoint was tuned from")
    frozen = (n for n in ours if not is_trainable(n, model.lamp_config))
    diffs = {n: float((ours[n].float() - theirs[n].float().to(ours[n].device)).abs().max()) for n in frozen}
    return {n: d for n, d in diffs.items() if d > 0}


def _image_unet_config(unet_dir: Path) -> dict[str, Any]:
    """The UNet2DConditionModel arguments of the authors' ``config.json``, which must be theirs."""
    path = unet_dir / CONFIG_FILE
    if not path.is_file():
        raise AuthorsCheckpointError(f"{path} not found: {unet_dir} is not a diffusers UNet folder")
    config = json.loads(path.read_text())
    if config.get("_class_name") != "UNet3DConditionModel":
        raise AuthorsCheckpointError(
            f"{path} describes a {config.get('_class_name')!r}, not the authors' UNet3DConditionModel"
        )
    unknown = sorted(set(config) - _SHARED_CONFIG - _BLOCK_KEYS - _IGNORED_CONFIG)
    if unknown:
        raise AuthorsCheckpointError(f"{path} has keys the authors' UNet3DConditionModel does not: {unknown}")
    blocks = [*config.get("down_block_types", []), *config.get("up_block_types", []), config.get("mid_block_type")]
    other = sorted({str(b) for b in blocks if b not in _BLOCKS_2D})
    if other:
        raise AuthorsCheckpointError(f"{path} names blocks the authors' model does not have: {other}")
    image = {key: value for key, value in config.items() if key in _SHARED_CONFIG}
    image["down_block_types"] = [_BLOCKS_2D[b] for b in config["down_block_types"]]
    image["up_block_types"] = [_BLOCKS_2D[b] for b in config["up_block_types"]]
    image["mid_block_type"] = _BLOCKS_2D[config["mid_block_type"]]
    return image


def _read_weights(unet_dir: Path) -> dict[str, torch.Tensor]:
    """The state dict, float32, from safetensors if the folder has it, else with ``torch.load(weights_only=True)``.

    ``weights_only`` unpickles tensors and plain containers only, so a file carrying any other
    object is refused instead of running its code.
    """
    path = next((unet_dir / name for name in WEIGHT_FILES if (unet_dir / name).is_file()), None)
    if path is None:
        raise AuthorsCheckpointError(f"{unet_dir} has neither of {list(WEIGHT_FILES)}")
    if path.suffix == ".safetensors":
        state = load_file(path)
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
            raise AuthorsCheckpointError(
                f"{path} is not a plain state dict of tensors (read with torch.load(weights_only=True), "
                f"which refuses other objects): {error}"
            ) from error
    if not isinstance(state, dict):
        raise AuthorsCheckpointError(f"{path} holds a {type(state).__name__}, not a state dict")
    others = sorted(str(k) for k, v in state.items() if not isinstance(v, torch.Tensor))
    if others:
        raise AuthorsCheckpointError(f"{path} is not a state dict of tensors; not tensors: {others[:10]}")
    return {name: t.float() if t.is_floating_point() else t for name, t in state.items()}


def _check_names_and_shapes(
    expected: dict[str, torch.Tensor], model: str, found: dict[str, torch.Tensor], source: str, what: str
) -> None:
    """Raise an :class:`AuthorsCheckpointError` naming every key of ``found`` that does not fit ``expected``."""
    problems = [f"missing in {source}: {n}" for n in expected if n not in found]
    problems += [f"not in {model}: {n}" for n in found if n not in expected]
    problems += [
        f"shape of {n}: {source} {tuple(found[n].shape)}, {model} {tuple(t.shape)}"
        for n, t in expected.items()
        if n in found and found[n].shape != t.shape
    ]
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise AuthorsCheckpointError(f"{what} ({len(problems)} problems):\n  {shown}{more}")


def _check_untrained_norms(model: LAMPVideoUNet, unet_dir: Path) -> None:
    """``norm_temp`` is not saved with ``train_temporal_norm: false``, so it must be LayerNorm's initial (1, 0)."""
    def initial(name: str, t: torch.Tensor) -> bool:
        return bool((t == (1 if name.endswith("weight") else 0)).all())

    moved = [n for n, t in model.unet.named_parameters() if ".norm_temp." in n and not initial(n, t)]
    if moved:
        raise AuthorsCheckpointError(
            f"{unet_dir}: norm_temp differs from its initial value in {len(moved)} tensors ({moved[:3]} ...); "
            "the authors' code never trains it, and a lamp motion model of their switches does not keep it"
        )


def _warn_if_base_differs(model: LAMPVideoUNet, base_unet: UNet2DConditionModel) -> None:
    differences = frozen_weight_differences(model, base_unet)
    if differences:
        worst = max(differences, key=differences.get)
        frozen = sum(1 for n, _ in model.unet.named_parameters() if not is_added(n) and not is_trainable(n, model.lamp_config))
        warnings.warn(
            f"{len(differences)} of the checkpoint's {frozen} frozen tensors differ from the base UNet's "
            f"(largest: {worst}, max abs {differences[worst]:.3g}): a lamp motion model keeps only the trained "
            "tensors, so on this base it will not reproduce the authors' model; use the base they tuned "
            "(SD v1.4 for their releases) or the checkpoint's own frozen weights (lamp import-authors-checkpoint --base-out)",
            BaseWeightsDifferWarning,
            stacklevel=3,
        )
