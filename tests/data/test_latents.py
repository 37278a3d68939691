import numpy as np
import torch
from diffusers import AutoencoderKL

from lamp.data.latents import (
    cached_videos,
    encode_clips,
    encode_frames,
    encode_prompts,
    frames_to_pixels,
    latent_key,
    sample_latents,
)
from lamp.mini.base_models import build_text_encoder, build_tokenizer, build_vae
from lamp.mini.settings import MiniBaseConfig


def tiny_vae() -> AutoencoderKL:
    torch.manual_seed(0)
    return build_vae(MiniBaseConfig(image_size=16, vae_channels=(16, 16))).eval()


def clips() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"a": rng.integers(0, 256, (5, 16, 16, 3), dtype=np.uint8), "b": rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)}


def test_cached_distribution_matches_encoding_a_frame_directly():
    vae, videos = tiny_vae(), clips()
    cached = encode_clips(vae, videos, batch_size=2, flip=True)
    assert cached_videos(cached) == ["a", "b"]
    assert cached[latent_key("a", False, "mean")].shape == (5, 4, 8, 8)
    with torch.no_grad():
        direct = vae.encode(frames_to_pixels(videos["a"][3:4])).latent_dist
        mirrored = vae.encode(frames_to_pixels(videos["a"][3:4, :, ::-1])).latent_dist
    torch.testing.assert_close(cached["a.mean"][3:4], direct.mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(cached["a.logvar"][3:4], direct.logvar, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(cached["a.flip.mean"][3:4], mirrored.mean, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(cached["a.flip.mean"], cached["a.mean"])


def test_batch_size_does_not_change_the_cache():
    vae, videos = tiny_vae(), clips()
    one, many = encode_frames(vae, videos["a"], 1), encode_frames(vae, videos["a"], 4)
    torch.testing.assert_close(one[0], many[0], rtol=1e-5, atol=1e-6)


def test_no_flip_means_no_mirrored_latents():
    assert not any(".flip." in key for key in encode_clips(tiny_vae(), clips(), flip=False))


def test_sampling_is_deterministic_for_a_seed_and_matches_the_posterior():
    vae, videos = tiny_vae(), clips()
    cached = encode_clips(vae, videos, flip=False)
    draw = lambda seed: sample_latents(cached, "a", slice(1, 4), False, torch.Generator().manual_seed(seed))  # noqa: E731
    assert torch.equal(draw(7), draw(7))
    assert not torch.equal(draw(7), draw(8))
    with torch.no_grad():
        posterior = vae.encode(frames_to_pixels(videos["a"][1:4])).latent_dist
    expected = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(draw(7), expected, rtol=1e-4, atol=1e-5)


def test_prompt_embeddings_are_the_text_encoder_hidden_states():
    config = MiniBaseConfig(text_width=16, text_layers=1, text_heads=2, max_tokens=8)
    tokenizer = build_tokenizer(config)
    text_encoder = build_text_encoder(config, tokenizer).eval()
    embeddings = encode_prompts(tokenizer, text_encoder, {"prompt": "horse run", "empty": ""})
    assert embeddings["prompt"].shape == embeddings["empty"].shape == (1, 8, 16)
    ids = tokenizer(["horse run"], padding="max_length", max_length=8, return_tensors="pt").input_ids
    with torch.no_grad():
        torch.testing.assert_close(embeddings["prompt"], text_encoder(ids)[0])
