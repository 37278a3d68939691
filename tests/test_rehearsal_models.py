"""The rehearsal models: tiny random models in the full profile's hub layouts, loaded by the full profile's code."""

from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import (
    ControlNetModel,
    DiffusionPipeline,
    EulerDiscreteScheduler,
    StableDiffusionPipeline,
    StableDiffusionXLControlNetPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextModel, CLIPTextModelWithProjection

from lamp.clip import OpenClip
from lamp.editing.first_frame import ControlNetSettings, controlnet_first_frame, load_controlnet_pipeline
from lamp.models import SD14_UNET_CONFIG, LAMPConfig, LAMPVideoUNet
from lamp.rehearsal import SIZE_MULTIPLE, main, make_rehearsal_models
from lamp.sampling import LAMPPipeline
from lamp.sampling.evaluation_set import draw_first_frame, load_first_frame_pipeline
from lamp.profiles import PretrainedModel
from lamp.sampling.settings import FirstFrameSettings
from lamp.video_size import base_shape, model_parameters

HEIGHT, WIDTH = 32, 48


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    return make_rehearsal_models(tmp_path_factory.mktemp("rehearsal"), seed=0)


@pytest.fixture(scope="module")
def sd_xl(models) -> StableDiffusionXLPipeline:
    return load_first_frame_pipeline(PretrainedModel(str(models["first_frame"])))


def square_frame() -> np.ndarray:
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    frame[8:24, 12:36] = 255
    return frame


def weight_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.safetensors"))}


def test_the_four_folders_are_written_in_the_hub_layouts_as_safetensors(models):
    root = models["video_base"].parent
    assert {k: p.name for k, p in models.items()} == {
        "video_base": "sd-v1", "first_frame": "sd-xl", "controlnet": "sd-xl-controlnet-canny", "clip": "open-clip-vit",
    }
    assert all(path.parent == root and path.is_dir() for path in models.values())
    for folder in ("unet", "vae"):
        assert (models["video_base"] / folder / "diffusion_pytorch_model.safetensors").is_file()
        assert (models["first_frame"] / folder / "diffusion_pytorch_model.safetensors").is_file()
    for tokenizer in ("sd-v1/tokenizer", "sd-xl/tokenizer", "sd-xl/tokenizer_2"):
        assert {"vocab.json", "merges.txt", "tokenizer_config.json"} <= {p.name for p in (root / tokenizer).iterdir()}
    assert (models["controlnet"] / "diffusion_pytorch_model.safetensors").is_file()
    assert {p.name for p in models["clip"].iterdir()} == {"open_clip_config.json", "open_clip_model.safetensors"}
    assert not list(root.rglob("*.bin"))


def test_sd_v1_is_a_stable_diffusion_v1_folder_whose_unet_has_sd_v1s_blocks(models):
    pipe = DiffusionPipeline.from_pretrained(models["video_base"])
    assert isinstance(pipe, StableDiffusionPipeline) and isinstance(pipe.text_encoder, CLIPTextModel)
    assert pipe.safety_checker is None and pipe.tokenizer.model_max_length == 77
    assert tuple(pipe.unet.config.down_block_types) == SD14_UNET_CONFIG["down_block_types"][-2:]
    assert tuple(pipe.unet.config.up_block_types) == SD14_UNET_CONFIG["up_block_types"][:2]
    assert pipe.vae_scale_factor * 2 ** (len(pipe.unet.config.block_out_channels) - 1) == SIZE_MULTIPLE


def test_sd_xl_draws_a_first_frame_through_the_profiles_loader(sd_xl):
    assert isinstance(sd_xl, StableDiffusionXLPipeline) and isinstance(sd_xl.scheduler, EulerDiscreteScheduler)
    assert isinstance(sd_xl.text_encoder, CLIPTextModel) and isinstance(sd_xl.text_encoder_2, CLIPTextModelWithProjection)
    assert sd_xl.unet.config.addition_embed_type == "text_time" and sd_xl.vae.config.force_upcast
    image = sd_xl("a red circle", height=64, width=96, num_inference_steps=2,
                  generator=torch.Generator().manual_seed(0)).images[0]
    assert image.size == (96, 64)
    assert np.asarray(image).std() > 0


def test_the_controlnet_redraws_a_video_frame_along_its_canny_edges(models):
    settings = ControlNetSettings(model=str(models["controlnet"]), num_inference_steps=2)
    pipe = load_controlnet_pipeline(str(models["first_frame"]), settings, torch.device("cpu"))
    pipe.set_progress_bar_config(disable=True)
    assert isinstance(pipe, StableDiffusionXLControlNetPipeline) and isinstance(pipe.controlnet, ControlNetModel)

    def draw(frame):
        return np.asarray(controlnet_first_frame(pipe, frame, "a prompt", torch.Generator().manual_seed(0), settings))

    edges, blank = draw(square_frame()), draw(np.zeros_like(square_frame()))
    assert edges.shape == (HEIGHT, WIDTH, 3)  # PIL size (48, 32)
    assert not np.array_equal(edges, blank)  # the canny image reaches the UNet


def test_lamp_inflates_the_sd_v1_unet_and_samples_a_video_from_an_sd_xl_first_frame(models, sd_xl):
    base = str(models["video_base"])
    unet = LAMPVideoUNet(UNet2DConditionModel.from_pretrained(base, subfolder="unet"), LAMPConfig()).eval()
    latents = torch.randn(1, 4, 3, HEIGHT // 2, WIDTH // 2)  # the VAE's factor 2
    with torch.no_grad():
        prediction = unet(latents, 10, torch.randn(1, 77, unet.config.cross_attention_dim))
    assert prediction.shape == latents.shape

    pipe = LAMPPipeline.around(unet, base)
    pipe.set_progress_bar_config(disable=True)
    assert pipe.size_multiple == SIZE_MULTIPLE == base_shape(base).size_multiple  # lamp generate's, before loading
    assert model_parameters(base, ("vae",)) == sum(p.numel() for p in pipe.vae.parameters())
    first_frame = draw_first_frame(sd_xl, "a red circle", FirstFrameSettings(num_inference_steps=2), HEIGHT, WIDTH, 0)
    out = pipe("a red circle", first_frame, num_frames=3, height=HEIGHT, width=WIDTH, num_inference_steps=2,
               generator=torch.Generator().manual_seed(0))
    assert out.frames.shape == (3, HEIGHT, WIDTH, 3) and out.frames.dtype == np.uint8


def test_the_clip_gives_normalised_image_and_text_embeddings_of_one_dimension(models):
    clip = OpenClip.from_pretrained(str(models["clip"]))
    images = clip.image_embeddings(np.stack([square_frame(), np.zeros_like(square_frame())]))
    texts = clip.text_embeddings(["a red circle", "a horse running"])
    assert images.shape == texts.shape == (2, 16)
    torch.testing.assert_close(images.norm(dim=1), torch.ones(2))
    torch.testing.assert_close(texts.norm(dim=1), torch.ones(2))


def test_the_command_writes_the_same_bytes_for_the_same_seed_and_leaves_the_global_rng_alone(models, tmp_path, capsys):
    torch.manual_seed(123)
    expected_draw = torch.rand(3)
    torch.manual_seed(123)
    paths = main([str(tmp_path / "again")])
    assert torch.equal(torch.rand(3), expected_draw)
    assert capsys.readouterr().out.split() == [word for key, path in paths.items() for word in (f"{key}:", str(path))]
    same = weight_files(tmp_path / "again")
    assert same == weight_files(models["video_base"].parent) and len(same) == 9
    other = weight_files(make_rehearsal_models(tmp_path / "other", seed=1)["video_base"].parent)
    assert other.keys() == same.keys() and all(other[name] != same[name] for name in same)


def test_the_whole_root_stays_under_20_mb(models):
    root = models["video_base"].parent
    assert sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) < 20e6
