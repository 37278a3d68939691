"""One CLIP interface for both profiles: OpenAI CLIP through open_clip (full), the mini CLIP (mini)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import open_clip
import torch
from PIL import Image
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from safetensors.torch import save_file

from lamp.io import atomic_path

CONFIG_NAME = "open_clip_config.json"
WEIGHTS_NAME = "open_clip_model.safetensors"


class OpenClip:
    """An open_clip model with its preprocess and tokenizer, and normalised embeddings.

    ``OpenClip.from_pretrained("ViT-L-14", pretrained="openai")`` loads OpenAI CLIP;
    ``OpenClip.from_pretrained("data/06_models/mini_clip")`` loads a folder that
    :meth:`save_pretrained` wrote (open_clip's own ``local-dir:`` layout).
    """

    def __init__(self, model: open_clip.CLIP, preprocess: Any, tokenizer: Any, model_cfg: dict | None = None):
        self.model = model.eval()
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.model_cfg = model_cfg

    @classmethod
    def from_pretrained(cls, model: str, pretrained: str | None = None) -> OpenClip:
        name = model if pretrained else f"local-dir:{model}"
        clip, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained)
        model_cfg = None if pretrained else json.loads((Path(model) / CONFIG_NAME).read_text())["model_cfg"]
        return cls(clip, preprocess, open_clip.get_tokenizer(name), model_cfg)

    @classmethod
    def from_config(cls, model_cfg: dict[str, Any]) -> OpenClip:
        """A randomly initialised model of ``model_cfg`` (open_clip's ``model_cfg`` format)."""
        clip = open_clip.CLIP(
            model_cfg["embed_dim"],
            open_clip.model.CLIPVisionCfg(**model_cfg["vision_cfg"]),
            open_clip.model.CLIPTextCfg(**model_cfg["text_cfg"]),
        )
        size = model_cfg["vision_cfg"]["image_size"]
        mean, std = OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
        clip.visual.image_mean, clip.visual.image_std = mean, std
        preprocess = open_clip.image_transform(size, is_train=False, mean=mean, std=std)
        tokenizer = open_clip.tokenizer.SimpleTokenizer(context_length=model_cfg["text_cfg"]["context_length"])
        return cls(clip, preprocess, tokenizer, model_cfg)

    def save_pretrained(self, directory: str | Path, **_: Any) -> Path:
        """Write ``open_clip_config.json`` and ``open_clip_model.safetensors``."""
        if self.model_cfg is None:
            raise ValueError("only a CLIP built from a model_cfg can be saved; hub models are loaded by name")
        directory = Path(directory)
        state = {k: v.detach().contiguous() for k, v in self.model.state_dict().items()}
        with atomic_path(directory / WEIGHTS_NAME) as tmp:
            save_file(state, tmp)
        preprocess_cfg = {"mean": list(self.model.visual.image_mean), "std": list(self.model.visual.image_std)}
        with atomic_path(directory / CONFIG_NAME) as tmp:
            tmp.write_text(json.dumps({"model_cfg": self.model_cfg, "preprocess_cfg": preprocess_cfg}, indent=2))
        return directory

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: torch.device | str) -> OpenClip:
        self.model.to(device)
        return self

    def pixels(self, images: np.ndarray | Sequence[np.ndarray]) -> torch.Tensor:
        """uint8 ``(N, H, W, 3)`` images as the model's input batch, on the model's device."""
        return torch.stack([self.preprocess(Image.fromarray(np.asarray(image))) for image in images]).to(self.device)

    @torch.no_grad()
    def image_embeddings(self, images: np.ndarray | Sequence[np.ndarray], batch_size: int = 64) -> torch.Tensor:
        """L2-normalised image embeddings ``(N, D)``."""
        chunks = [
            self.model.encode_image(self.pixels(images[i : i + batch_size]), normalize=True)
            for i in range(0, len(images), batch_size)
        ]
        return torch.cat(chunks).float().cpu()

    @torch.no_grad()
    def text_embeddings(self, texts: Sequence[str]) -> torch.Tensor:
        """L2-normalised text embeddings ``(N, D)``."""
        return self.model.encode_text(self.tokenizer(list(texts)).to(self.device), normalize=True).float().cpu()
