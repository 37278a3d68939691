"""The paper's CLIP metrics (Table 1) on L2-normalised embeddings, each a mean of 100 x cosine."""

from __future__ import annotations

import torch


def _pairwise_mean(embeddings: torch.Tensor) -> float:
    """Mean of 100 x cosine over every unordered pair ``i < j`` of rows, each pair once."""
    if len(embeddings) < 2:
        raise ValueError(f"need at least two embeddings for a pairwise mean, got {len(embeddings)}")
    unit = torch.nn.functional.normalize(embeddings.double(), dim=-1)
    i, j = torch.triu_indices(len(unit), len(unit), offset=1)
    return float(100 * (unit[i] * unit[j]).sum(-1).mean())


def text_alignment(frames: torch.Tensor, text: torch.Tensor) -> float:
    """Mean over frames of 100 x cos(frame embedding ``(F, D)``, prompt embedding ``(D,)``)."""
    unit = torch.nn.functional.normalize(frames.double(), dim=-1)
    return float(100 * (unit @ torch.nn.functional.normalize(text.double(), dim=-1)).mean())


def frame_consistency(frames: torch.Tensor) -> float:
    """Mean over all pairs of frames of 100 x cosine of their embeddings ``(F, D)``."""
    return _pairwise_mean(frames)


def mean_frame_embedding(frames: torch.Tensor) -> torch.Tensor:
    """A video's embedding for diversity: the mean of its unit frame embeddings."""
    return torch.nn.functional.normalize(frames.double(), dim=-1).mean(0)


def diversity(videos: torch.Tensor) -> float:
    """Mean over all pairs of videos of 100 x cosine of their mean-frame embeddings ``(N, D)``; lower is more diverse."""
    return _pairwise_mean(videos)
