import copy

import pytest
import torch
from diffusers import UNet2DConditionModel

from lamp.models import LAMPConfig, LAMPVideoUNet, tiny_unet_config

FRAMES = 5
CROSS_DIM = 32


@pytest.fixture(scope="module")
def image_unet() -> UNet2DConditionModel:
    torch.manual_seed(0)
    return UNet2DConditionModel(**tiny_unet_config(cross_attention_dim=CROSS_DIM)).eval()


@pytest.fixture
def make_video_unet(image_unet):
    """Inflate a private copy of the tiny image UNet with the given switches."""

    def make(**switches) -> LAMPVideoUNet:
        return LAMPVideoUNet(copy.deepcopy(image_unet), LAMPConfig(**switches)).eval()

    return make


@pytest.fixture
def video_inputs():
    generator = torch.Generator().manual_seed(1)
    sample = torch.randn(2, 4, FRAMES, 16, 16, generator=generator)
    text = torch.randn(2, 7, CROSS_DIM, generator=generator)
    return sample, torch.tensor(10), text


def randomise_trainable(model: LAMPVideoUNet, seed: int = 2, scale: float = 0.05) -> None:
    """Give the new layers non-zero weights, as training would, so that they have an effect."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, param in model.trainable_named_parameters():
            param.add_(torch.randn(param.shape, generator=generator) * scale)
