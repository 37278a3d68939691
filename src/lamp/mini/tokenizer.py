"""A CLIP BPE tokenizer for the mini text encoder, built offline from open_clip's vocabulary file."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

from open_clip.tokenizer import bytes_to_unicode, default_bpe
from transformers import CLIPTokenizer

#: Merges that OpenAI's CLIP vocabulary uses (open_clip's SimpleTokenizer takes the same slice).
_N_MERGES = 49152 - 256 - 2


def clip_bpe_files(directory: Path) -> tuple[Path, Path]:
    """Write ``vocab.json`` and ``merges.txt`` of OpenAI's CLIP BPE from the file open_clip ships.

    ``CLIPTokenizer.from_pretrained("openai/clip-vit-large-patch14")`` would download the same two
    files; the vocabulary is rebuilt here exactly as open_clip's ``SimpleTokenizer`` builds it, so the
    token ids match OpenAI's.
    """
    lines = gzip.open(default_bpe()).read().decode("utf-8").split("\n")[1 : _N_MERGES + 1]
    merges = [tuple(line.split()) for line in lines]
    byte_symbols = list(bytes_to_unicode().values())
    tokens = byte_symbols + [s + "</w>" for s in byte_symbols] + ["".join(m) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab_file, merges_file = directory / "vocab.json", directory / "merges.txt"
    vocab_file.write_text(json.dumps({token: i for i, token in enumerate(tokens)}, ensure_ascii=False))
    merges_file.write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    return vocab_file, merges_file


def build_clip_tokenizer(model_max_length: int = 77) -> CLIPTokenizer:
    """The transformers ``CLIPTokenizer`` of Stable Diffusion v1, made without a download."""
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file, merges_file = clip_bpe_files(Path(tmp))
        return CLIPTokenizer(
            str(vocab_file),
            str(merges_file),
            model_max_length=model_max_length,
            pad_token="<|endoftext|>",
        )
