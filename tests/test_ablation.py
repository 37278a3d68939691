import pytest

from lamp.ablation import Variant

from lamp.profiles import PretrainedModel

BASE = PretrainedModel("data/06_models/mini_base")


def test_a_variant_drawing_with_the_video_base_names_the_profiles_base():
    variant = Variant.from_params("base_first_frame", {"first_frame_model": "video_base", "first_frame": {"guidance_scale": 1.0}})
    assert variant.first_frame == {"guidance_scale": 1.0}
    assert variant.first_frame_source(BASE) == BASE
    assert Variant.from_params("sd_xl", {"first_frame_model": "xl"}).first_frame_source(BASE) == PretrainedModel("xl")
    assert Variant.from_params("full", {}).first_frame_source(BASE) is None
    assert not variant.trains


def test_variants_that_change_the_model_or_training_are_trained():
    assert Variant.from_params("v", {"model": {"conv_mode": "vanilla"}}).trains
    assert Variant.from_params("f", {"train": {"first_frame_conditioning": False}}).trains
    assert not Variant.from_params("s", {"generate": {"shared_noise_alpha": None}}).trains
    assert not Variant.from_params("u", {"untrained": True}).trains
    assert Variant.from_params("full", {}).describe() == "the full method"


def test_a_misspelt_key_is_an_error():
    with pytest.raises(ValueError, match="modle"):
        Variant.from_params("v", {"modle": {}})
