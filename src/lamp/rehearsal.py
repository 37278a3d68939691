"""Tiny random-weight stand-ins for the ``full`` profile's hub models, for rehearsing it offline.

The ``full`` profile (the paper) loads SD v1.4 (``CompVis/stable-diffusion-v1-4``) for the video
model, SD-XL base (``stabilityai/stable-diffusion-xl-base-1.0``) with the canny ControlNet
(``diffusers/controlnet-canny-sdxl-1.0``) for first frames, and OpenAI CLIP ViT-L/14 for the metrics.
:func:`make_rehearsal_models` writes a tiny, randomly initialised model in the on-disk layout of
each, so the paper's pipeline runs end to end on a CPU without the hub: every loader, pipeline class,
conditioning path (SD-XL's two text encoders and size/crop ids, the ControlNet's residuals, the UNet
inflation) and file format is exercised; only the weights are not the paper's. Point the ``full``
profile's model entries at the returned folders (``python -m lamp.rehearsal DIR`` prints them).

The models are written by hand because no tiny checkpoint is reachable offline (the hub's tiny test
repositories need a download too). Tokenizers are OpenAI's CLIP BPE, rebuilt from the vocabulary
file open_clip ships (:func:`lamp.mini.tokenizer.build_clip_tokenizer`), so token ids and the
77-token truncation are the real models'.

Sizes: the SD v1 folder's VAE downsamples once (factor 2) and its UNet once more, so video heights
and widths must be multiples of :data:`SIZE_MULTIPLE` = 4 (32 x 48 works; SD v1.4's is 64). The
SD-XL folder keeps SD-XL's factor-8 VAE and the ControlNet its factor-8 conditioning embedding, so
SD-XL draws at multiples of 8 (as the real one: its pipeline requires them), e.g. 64 x 96: any video
frame size, doubled by the ControlNet's default upscale of 2, is one. The whole root is about 16 MB, two thirds
of it the four text towers' 49408-token embedding tables (1.6 MB each at width 8) and the three
tokenizers' BPE files (1.5 MB each).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import torch
from diffusers import (
    AutoencoderKL,
    ControlNetModel,
    EulerDiscreteScheduler,
    PNDMScheduler,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

from lamp.clip import OpenClip
from lamp.profiles import deep_merge
from lamp.mini.base_models import build_text_encoder, build_unet, build_vae
from lamp.mini.settings import MiniBaseConfig, MiniClipConfig
from lamp.mini.tokenizer import build_clip_tokenizer, clip_bpe_files

#: Video heights and widths must be multiples of this: the SD v1 VAE's factor 2 times the UNet's 2.
SIZE_MULTIPLE = 4
#: The tokenizers' and text encoders' length, as in every CLIP of the full profile.
MAX_TOKENS = 77

#: The SD v1 folder's sizes (VAE factor 2, UNet levels (32, 32), text width 8: every text tower here is
#: 8 wide, because each carries a 49408-token embedding table, 1.6 MB at that width).
SD_V1 = MiniBaseConfig(
    image_size=32,
    vae_channels=(16, 16),
    latent_channels=4,
    vae_norm_groups=4,
    unet_channels=(32, 32),
    text_width=8,
    text_layers=1,
    text_heads=2,
    max_tokens=MAX_TOKENS,
)
#: The CLIP folder's sizes (a ViT of 16 patches of 8 pixels, 16-dimensional embeddings, a text tower 8 wide).
CLIP = MiniClipConfig(
    image_size=32,
    patch_size=8,
    embed_dim=16,
    vision_width=32,
    vision_layers=1,
    text_width=8,
    text_layers=1,
    heads=2,
    context_length=MAX_TOKENS,
)

# SD-XL: text_encoder (CLIP ViT-L's, 768 wide) and text_encoder_2 (OpenCLIP bigG's, 1280 wide with a
# 1280 projection) at tiny widths. The UNet attends to both encoders' penultimate states side by side
# and adds six size/crop ids of ADD_TIME_DIM each plus the pooled projection to its time embedding.
# The projection differs from the widths so a pooled-state mix-up shows as a shape error.
SDXL_TEXT_WIDTH, SDXL_TEXT_2_WIDTH, SDXL_PROJECTION = 8, 8, 16
SDXL_ADD_TIME_DIM = 8
SDXL_UNET = {
    "sample_size": 8,  # 64 pixels (SD-XL: 128 latents, 1024 pixels)
    "in_channels": 4,
    "out_channels": 4,
    "block_out_channels": (32, 32),
    "layers_per_block": 1,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),  # SD-XL: no attention at the top level
    "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
    "attention_head_dim": (2, 4),  # diffusers' name for SD-XL's head counts
    "transformer_layers_per_block": (1, 2),
    "use_linear_projection": True,
    "cross_attention_dim": SDXL_TEXT_WIDTH + SDXL_TEXT_2_WIDTH,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": SDXL_ADD_TIME_DIM,
    "projection_class_embeddings_input_dim": 6 * SDXL_ADD_TIME_DIM + SDXL_PROJECTION,
}


@dataclass(frozen=True)
class SDXLSizes:
    """The sizes of an SD-XL base model: UNet config, the two text towers, the VAE."""

    unet: dict[str, Any]
    text_width: int
    text_layers: int
    text_heads: int
    text_2_width: int
    text_2_layers: int
    text_2_heads: int
    projection: int
    vae_channels: tuple[int, ...]
    vae_layers_per_block: int
    vae_norm_groups: int
    vae_sample_size: int


#: The rehearsal's SD-XL (two text layers: SD-XL takes the penultimate layer's states).
TINY_SD_XL = SDXLSizes(
    unet=SDXL_UNET,
    text_width=SDXL_TEXT_WIDTH, text_layers=2, text_heads=2,
    text_2_width=SDXL_TEXT_2_WIDTH, text_2_layers=2, text_2_heads=2,
    projection=SDXL_PROJECTION,
    vae_channels=(8, 8, 16, 16), vae_layers_per_block=1, vae_norm_groups=4, vae_sample_size=64,
)
#: stabilityai/stable-diffusion-xl-base-1.0's architecture (its ``unet/``, ``text_encoder*/`` and ``vae/``
#: configs): CLIP ViT-L's text tower, OpenCLIP bigG's with its 1280 projection, a 2.6 B-parameter UNet.
PAPER_SD_XL = SDXLSizes(
    unet={
        "sample_size": 128,
        "in_channels": 4,
        "out_channels": 4,
        "block_out_channels": (320, 640, 1280),
        "layers_per_block": 2,
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        "attention_head_dim": (5, 10, 20),
        "transformer_layers_per_block": (1, 2, 10),
        "use_linear_projection": True,
        "cross_attention_dim": 2048,
        "addition_embed_type": "text_time",
        "addition_time_embed_dim": 256,
        "projection_class_embeddings_input_dim": 2816,
    },
    text_width=768, text_layers=12, text_heads=12,
    text_2_width=1280, text_2_layers=32, text_2_heads=20,
    projection=1280,
    vae_channels=(128, 256, 512, 512), vae_layers_per_block=2, vae_norm_groups=32, vae_sample_size=1024,
)

#: The ControlNet's conditioning embedding (real: (16, 32, 96, 256)): four levels, factor 8 like the VAE.
CONTROLNET_EMBEDDING_CHANNELS = (16, 16, 32, 32)

FOLDERS = {
    "video_base": "sd-v1",
    "first_frame": "sd-xl",
    "controlnet": "sd-xl-controlnet-canny",
    "clip": "open-clip-vit",
}


def make_rehearsal_models(root: str | Path, seed: int = 0) -> dict[str, Path]:
    """Writes and returns {"video_base": root/"sd-v1", "first_frame": root/"sd-xl", "controlnet": root/"sd-xl-controlnet-canny", "clip": root/"open-clip-vit"}.

    - ``sd-v1``: a Stable Diffusion v1 folder (``StableDiffusionPipeline``: ``unet/`` of SD v1.x's
      block layout, which :class:`lamp.models.LAMPVideoUNet` inflates, ``vae/``, ``text_encoder/``,
      ``tokenizer/``, SD v1.4's PNDM ``scheduler/``); frame heights and widths must be multiples of
      :data:`SIZE_MULTIPLE` (4 = VAE factor 2 x UNet downsampling 2), e.g. 32 x 48.
    - ``sd-xl``: an SD-XL base folder (``StableDiffusionXLPipeline``: both text encoders and
      tokenizers, a ``text_time``-conditioned UNet, SD-XL's VAE config and Euler scheduler); it
      draws at multiples of 8 pixels, as SD-XL does.
    - ``sd-xl-controlnet-canny``: a ``ControlNetModel`` made from that UNet, as
      ``diffusers/controlnet-canny-sdxl-1.0`` is laid out.
    - ``open-clip-vit``: an open_clip ViT CLIP in open_clip's hub layout
      (``open_clip_config.json`` + ``open_clip_model.safetensors``), loaded by
      :meth:`lamp.clip.OpenClip.from_pretrained`.

    All weights are safetensors; the same ``seed`` writes the same bytes. The global torch RNG
    state is restored afterwards.
    """
    root = Path(root)
    paths = {key: root / name for key, name in FOLDERS.items()}
    with torch.random.fork_rng(devices=[]):
        write_sd_v1(paths["video_base"], seed)
        unet = write_sd_xl(paths["first_frame"], seed + 1)
        write_controlnet(paths["controlnet"], unet, seed + 2)
        write_clip(paths["clip"], seed + 3)
    return paths


def sd_v1_scheduler() -> PNDMScheduler:
    """``scheduler/`` of CompVis/stable-diffusion-v1-4 (the project samples with DDIM of the same betas)."""
    return PNDMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        num_train_timesteps=1000,
        set_alpha_to_one=False,
        skip_prk_steps=True,
        steps_offset=1,
    )


def sd_xl_scheduler() -> EulerDiscreteScheduler:
    """``scheduler/`` of stabilityai/stable-diffusion-xl-base-1.0 (the keys Euler knows)."""
    return EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        num_train_timesteps=1000,
        prediction_type="epsilon",
        interpolation_type="linear",
        use_karras_sigmas=False,
        steps_offset=1,
        timestep_spacing="leading",
    )


def write_sd_v1(directory: Path, seed: int) -> None:
    torch.manual_seed(seed)
    tokenizer = build_clip_tokenizer(model_max_length=MAX_TOKENS)
    pipe = StableDiffusionPipeline(
        vae=build_vae(SD_V1),
        text_encoder=build_text_encoder(SD_V1, tokenizer),
        tokenizer=tokenizer,
        unet=build_unet(SD_V1),
        scheduler=sd_v1_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(directory, safe_serialization=True)
    _hub_tokenizer_files(directory / "tokenizer")


def write_sd_xl(directory: Path, seed: int) -> UNet2DConditionModel:
    """Write the SD-XL folder; return its UNet (the ControlNet is made from it)."""
    torch.manual_seed(seed)
    pipe = sd_xl_pipeline(TINY_SD_XL)
    pipe.save_pretrained(directory, safe_serialization=True)
    for name in ("tokenizer", "tokenizer_2"):
        _hub_tokenizer_files(directory / name)
    return pipe.unet


def sd_xl_pipeline(sizes: SDXLSizes) -> StableDiffusionXLPipeline:
    """An SD-XL base pipeline of ``sizes`` with random weights (drawn from the global torch RNG, on the
    default device): the rehearsal's tiny one, or the paper's size for benchmarks (no download)."""
    tokenizer = build_clip_tokenizer(model_max_length=MAX_TOKENS)
    tokenizer_2 = _clip_tokenizer_padded_with_bang()
    text = dict(
        vocab_size=len(tokenizer),
        max_position_embeddings=MAX_TOKENS,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(**text, hidden_size=sizes.text_width, intermediate_size=4 * sizes.text_width,
                       num_hidden_layers=sizes.text_layers, num_attention_heads=sizes.text_heads,
                       pad_token_id=tokenizer.pad_token_id)
    )
    text_encoder_2 = CLIPTextModelWithProjection(
        CLIPTextConfig(**text, hidden_size=sizes.text_2_width, intermediate_size=4 * sizes.text_2_width,
                       num_hidden_layers=sizes.text_2_layers, num_attention_heads=sizes.text_2_heads,
                       projection_dim=sizes.projection, hidden_act="gelu", pad_token_id=tokenizer_2.pad_token_id)
    )
    unet = UNet2DConditionModel(**sizes.unet)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=sizes.vae_channels,
        layers_per_block=sizes.vae_layers_per_block,
        latent_channels=4,
        norm_num_groups=sizes.vae_norm_groups,
        sample_size=sizes.vae_sample_size,
        scaling_factor=0.13025,  # SD-XL's
        force_upcast=True,  # SD-XL's VAE overflows in float16; the pipeline decodes in float32
    )
    return StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        unet=unet,
        scheduler=sd_xl_scheduler(),
        force_zeros_for_empty_prompt=True,
        add_watermarker=False,
    )


def write_controlnet(directory: Path, unet: UNet2DConditionModel, seed: int) -> None:
    """A ControlNet initialised from ``unet`` as ControlNet training starts, re-initialised so the image counts.

    As made, its output convolutions are zero (a no-op), and PyTorch's default init shrinks the canny
    image through the conditioning embedding's eight convolutions until it changes nothing; He-scaled
    embedding convolutions and LeCun-scaled output convolutions let the image reach the UNet, as a
    trained ControlNet's do.
    """
    torch.manual_seed(seed)
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=CONTROLNET_EMBEDDING_CHANNELS)
    embedding = controlnet.controlnet_cond_embedding
    with torch.no_grad():
        for conv in (embedding.conv_in, *embedding.blocks, embedding.conv_out):
            fan_in = conv.weight[0].numel()
            conv.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
            conv.bias.zero_()
        for conv in (*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block):
            conv.weight.normal_(0.0, conv.weight[0].numel() ** -0.5)
            conv.bias.zero_()
    controlnet.save_pretrained(directory, safe_serialization=True)


def write_clip(directory: Path, seed: int) -> None:
    torch.manual_seed(seed)
    directory.mkdir(parents=True, exist_ok=True)
    OpenClip.from_config(CLIP.open_clip_config()).save_pretrained(directory)


def _hub_tokenizer_files(directory: Path) -> None:
    """A saved CLIP tokenizer in the hub's layout: ``vocab.json`` and ``merges.txt`` instead of ``tokenizer.json``.

    transformers 5 saves only ``tokenizer.json`` (3.6 MB); the hub's SD folders hold the two BPE files
    (1.5 MB), which load to the same tokenizer (ids, padding, length from ``tokenizer_config.json``).
    """
    (directory / "tokenizer.json").unlink()
    clip_bpe_files(directory)


def _clip_tokenizer_padded_with_bang() -> CLIPTokenizer:
    """SD-XL's ``tokenizer_2``: the same CLIP BPE, but padding with ``!`` (id 0) as OpenCLIP does."""
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file, merges_file = clip_bpe_files(Path(tmp))
        return CLIPTokenizer(str(vocab_file), str(merges_file), model_max_length=MAX_TOKENS, pad_token="!")


#: The overlay that scales the full profile down to a rehearsal (``{models}``: the tiny models' folder).
OVERLAY = Path("conf/rehearsal.yaml")
#: Where a rehearsal copy keeps the tiny models (outside data/, which holds what the run makes).
MODELS_DIR = "rehearsal_models"


def prepare_rehearsal(project: str | Path, into: str | Path) -> Path:
    """A scratch copy of ``project`` that runs the full profile at toy scale with ``dvc repro``.

    The copy holds the project's files (git's tracked and untracked, not ignored: params.yaml,
    dvc.yaml, conf/, src/), its ``data/01_raw`` (your videos, prompts, edit sources), the tiny models
    of :func:`make_rehearsal_models`, and params.yaml with ``conf/rehearsal.yaml`` merged in and
    ``profile: *full``; it is a git and DVC repository of its own. Nothing of ``project`` is changed.
    """
    # here, not at the top: the benchmarks build models of this module on machines without Kedro
    from lamp.config_loader import PARAMS_FILE, read_params_file, write_params_file

    project, into = Path(project).resolve(), Path(into).resolve()
    into.mkdir(parents=True, exist_ok=True)
    for name in project_files(project):
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project / name, target)
    if (project / "data/01_raw").is_dir():
        shutil.copytree(project / "data/01_raw", into / "data/01_raw", dirs_exist_ok=True)
    models = make_rehearsal_models(into / MODELS_DIR)
    values = rehearsal_params(read_params_file(into / PARAMS_FILE), (into / OVERLAY).read_text(),
                              models["video_base"].parent)
    write_params_file(into / PARAMS_FILE, values)
    subprocess.run(["git", "init", "-q"], cwd=into, check=True)
    return into


def project_files(project: Path) -> list[str]:
    """The project's own files, as git lists them (tracked, and untracked but not ignored)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=project,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return [name for name in listed if (project / name).is_file()]


def rehearsal_params(values: dict[str, Any], overlay: str, models: Path) -> dict[str, Any]:
    """``values`` (params.yaml) with the rehearsal ``overlay`` merged in and the full profile selected."""
    merged = deep_merge(values, yaml.safe_load(overlay.replace("{models}", models.as_posix())))
    merged["profile"] = merged["profiles"]["full"]
    return merged


def main(argv: list[str] | None = None) -> dict[str, Path]:
    parser = argparse.ArgumentParser(
        prog="python -m lamp.rehearsal",
        description="Write tiny random-weight models in the full profile's hub layouts (offline rehearsal).",
    )
    parser.add_argument(
        "directory", type=Path, help="folder to write sd-v1/, sd-xl/, sd-xl-controlnet-canny/, open-clip-vit/ into"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    paths = make_rehearsal_models(args.directory, seed=args.seed)
    for key, path in paths.items():
        print(f"{key}: {path}")
    return paths


if __name__ == "__main__":
    main()
