import numpy as np
import open_clip
import torch

from lamp.clip import OpenClip
from lamp.mini.base_models import build_vae
from lamp.mini.pretrain import reconstruction_psnr, train_decoder_on_noisy_latents, train_vae
from lamp.mini.settings import MiniBaseConfig, MiniClipConfig, PretrainLoop
from lamp.mini.tokenizer import build_clip_tokenizer


def test_tokenizer_built_offline_gives_openai_clip_ids():
    tokenizer = build_clip_tokenizer()
    reference = open_clip.tokenizer.SimpleTokenizer()
    for text in ["a red circle on a sky background", "Guan Yu rides a red horse!", "fireworks, grass land"]:
        ids = tokenizer(text).input_ids
        assert ids[0] == 49406 and ids[-1] == 49407
        assert ids[1:-1] == reference.encode(text)


def test_mini_clip_round_trips_through_open_clip_local_dir(tmp_path):
    config = MiniClipConfig(image_size=32, patch_size=8, embed_dim=16, vision_width=32, vision_layers=1,
                            text_width=32, text_layers=1, heads=2, context_length=8)
    torch.manual_seed(0)
    clip = OpenClip.from_config(config.open_clip_config())
    clip.save_pretrained(tmp_path)
    loaded = OpenClip.from_pretrained(str(tmp_path))
    images = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    torch.testing.assert_close(loaded.image_embeddings(images), clip.image_embeddings(images))
    texts = ["a red circle", "a blue star"]
    torch.testing.assert_close(loaded.text_embeddings(texts), clip.text_embeddings(texts))
    assert torch.allclose(loaded.text_embeddings(texts).norm(dim=-1), torch.ones(2))


def test_vae_training_improves_reconstruction():
    config = MiniBaseConfig(image_size=16, vae_channels=(16, 16))
    images = torch.zeros(8, 3, 16, 16)
    images[:, 0, 4:12, 4:12] = 1.0
    images[:, 2] = -0.5
    torch.manual_seed(0)
    before = reconstruction_psnr(build_vae(config).eval(), images)
    vae, result = train_vae(images, config, PretrainLoop(steps=40, batch_size=8, learning_rate=3e-3), crop_size=16)
    assert reconstruction_psnr(vae, images) > before + 5
    assert np.mean(result.losses[-5:]) < np.mean(result.losses[:5])
    assert vae.config.scaling_factor > 0


def test_decoder_training_on_noisy_latents_keeps_the_encoder_and_cleans_noisy_decodes():
    config = MiniBaseConfig(image_size=16, vae_channels=(16, 16))
    images = torch.full((8, 3, 16, 16), -0.8)
    images[:, 0, 4:12, 4:12] = 0.9
    torch.manual_seed(0)
    vae, _ = train_vae(images, config, PretrainLoop(steps=40, batch_size=8, learning_rate=3e-3), crop_size=16)
    encoder = {k: v.clone() for k, v in vae.state_dict().items() if k.startswith(("encoder.", "quant_conv."))}

    def noisy_decode_error() -> float:
        with torch.no_grad():
            latents = vae.encode(images).latent_dist.mean
            noise = torch.randn(latents.shape, generator=torch.Generator().manual_seed(1))
            decoded = vae.decode(latents + 0.4 / vae.config.scaling_factor * noise).sample
        return float((decoded - images).abs().mean())

    before = noisy_decode_error()
    result = train_decoder_on_noisy_latents(vae, images, PretrainLoop(steps=40, batch_size=8, learning_rate=3e-3), noise=0.4, crop_size=16)
    assert noisy_decode_error() < 0.7 * before
    assert all(torch.equal(vae.state_dict()[k], v) for k, v in encoder.items())  # every latent is unchanged
    assert len(result.losses) == 40 and not vae.training
    assert all(p.requires_grad for p in vae.parameters())
