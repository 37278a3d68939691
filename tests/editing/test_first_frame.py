"""The edited first frame: canny conditioning, the ControlNet + SD-XL call and the image-to-image pass.

Neither SD-XL nor a ControlNet can be downloaded here, so the full profile's call runs on an SD-XL
ControlNet pipeline of tiny random models: everything but the hub weights is exercised.
"""

import numpy as np
import PIL.Image
import torch
from diffusers import (
    AutoencoderKL,
    ControlNetModel,
    EulerDiscreteScheduler,
    StableDiffusionImg2ImgPipeline,
    StableDiffusionXLControlNetPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from lamp.data import resize_frames
from lamp.editing import (
    ControlNetSettings,
    Img2ImgSettings,
    canny_edges,
    controlnet_first_frame,
    img2img_first_frame,
)
from lamp.mini.base_models import build_text_encoder, build_tokenizer, build_vae, sd_scheduler
from lamp.models import tiny_unet_config

from .conftest import CONFIG, moving_square

SDXL_BLOCKS = {
    "block_out_channels": (32, 64),
    "layers_per_block": 1,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
    "attention_head_dim": (2, 4),
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 8,
    "transformer_layers_per_block": (1, 2),
    "projection_class_embeddings_input_dim": 6 * 8 + 32,  # six size/crop ids of 8 + the pooled text
    "cross_attention_dim": 64,  # the two text encoders' states side by side
}


def tiny_sdxl_controlnet() -> StableDiffusionXLControlNetPipeline:
    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=16, up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), **SDXL_BLOCKS)
    controlnet = ControlNetModel(conditioning_embedding_out_channels=(16, 32), **SDXL_BLOCKS)
    tokenizer = build_tokenizer(CONFIG)
    text = CLIPTextConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=2, max_position_embeddings=CONFIG.max_tokens, projection_dim=32,
                          bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                          pad_token_id=tokenizer.pad_token_id)
    vae = AutoencoderKL(block_out_channels=(32, 64), down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4)
    pipe = StableDiffusionXLControlNetPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(text),
        text_encoder_2=CLIPTextModelWithProjection(text),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        controlnet=controlnet,
        scheduler=EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                         steps_offset=1),
        add_watermarker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_canny_edges_outline_the_content_in_three_equal_channels():
    frame = np.zeros((32, 32, 3), np.uint8)
    frame[8:24, 8:24] = 255
    edges = np.asarray(canny_edges(frame, 100, 200))
    assert edges.shape == (32, 32, 3)
    assert (edges[..., 0] == edges[..., 1]).all() and (edges[..., 1] == edges[..., 2]).all()
    assert set(np.unique(edges)) == {0, 255}
    assert edges[7:25, 7:25].sum() == edges.sum()  # only along the square's border
    assert edges[10:22, 10:22].sum() == 0


def test_controlnet_first_frame_is_conditioned_on_the_canny_edges_at_twice_the_size():
    pipe = tiny_sdxl_controlnet()
    conditions = []

    def keep_condition(module, args, kwargs):
        conditions.append(kwargs["controlnet_cond"])

    pipe.controlnet.register_forward_pre_hook(keep_condition, with_kwargs=True)
    source = moving_square(1, 16, 16)[0]
    settings = ControlNetSettings(num_inference_steps=2, upscale=2)
    image = controlnet_first_frame(pipe, source, "a red star", torch.Generator().manual_seed(0), settings)
    assert isinstance(image, PIL.Image.Image) and image.size == (16, 16)
    large = resize_frames(source[None], 32, 32, "crop")[0]
    expected = torch.from_numpy(np.array(canny_edges(large, 100, 200))).permute(2, 0, 1).float() / 255
    assert expected.sum() > 0
    torch.testing.assert_close(conditions[0][-1], expected)  # the pipeline scales the image to [0, 1]


def test_img2img_first_frame_redraws_the_source_frame_at_its_size():
    torch.manual_seed(0)
    tokenizer = build_tokenizer(CONFIG)
    pipe = StableDiffusionImg2ImgPipeline(
        vae=build_vae(CONFIG).eval(),
        text_encoder=build_text_encoder(CONFIG, tokenizer).eval(),
        tokenizer=tokenizer,
        unet=UNet2DConditionModel(**tiny_unet_config(cross_attention_dim=32, sample_size=16)).eval(),
        scheduler=sd_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    source = moving_square(1, 32, 32)[0]
    settings = Img2ImgSettings(strength=0.5, num_inference_steps=4, guidance_scale=2.0)
    first = img2img_first_frame(pipe, source, "a red star", torch.Generator().manual_seed(0), settings)
    again = img2img_first_frame(pipe, source, "a red star", torch.Generator().manual_seed(0), settings)
    assert first.size == (32, 32) and np.array_equal(np.asarray(first), np.asarray(again))
