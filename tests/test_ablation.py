import pytest

from lamp.ablation import Variant

PROFILE = {"name": "mini", "video_base_model": "data/06_models/mini_base"}


def test_profile_overrides_apply_to_their_profile_only():
    values = {"first_frame_model": "video_base", "by_profile": {"mini": {"first_frame": {"guidance_scale": 1.0}}}}
    mini = Variant.from_params("base_first_frame", values, "mini")
    full = Variant.from_params("base_first_frame", values, "full")
    assert mini.first_frame == {"guidance_scale": 1.0} and full.first_frame == {}
    assert mini.first_frame_source(PROFILE) == "data/06_models/mini_base"
    assert not mini.trains


def test_variants_that_change_the_model_or_training_are_trained():
    assert Variant.from_params("v", {"model": {"conv_mode": "vanilla"}}, "mini").trains
    assert Variant.from_params("f", {"train": {"first_frame_conditioning": False}}, "mini").trains
    assert not Variant.from_params("s", {"generate": {"shared_noise_alpha": None}}, "mini").trains
    assert not Variant.from_params("u", {"untrained": True}, "mini").trains
    assert Variant.from_params("full", {}, "mini").describe() == "the full method"


def test_a_misspelt_key_is_an_error():
    with pytest.raises(ValueError, match="modle"):
        Variant.from_params("v", {"modle": {}}, "mini")
