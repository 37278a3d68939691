"""The paper's CLIP metrics (Table 1) as the authors' code computes them, on L2-normalised frame embeddings.

Text alignment and frame consistency are means of 100 x cosine; diversity is a mean of 100 x the dot
product of mean frame embeddings that are not renormalised (:func:`diversity`), with the cosine
version beside it (:func:`diversity_cosine`).
"""

from __future__ import annotations

import torch


def _pairwise_mean(embeddings: torch.Tensor, normalise: bool = True) -> float:
    """Mean of 100 x cosine (or x dot product, ``normalise=False``) over every unordered pair ``i < j`` of rows."""
    if len(embeddings) < 2:
        raise ValueError(f"need at least two embeddings for a pairwise mean, got {len(embeddings)}")
    rows = embeddings.double()
    if normalise:
        rows = torch.nn.functional.normalize(rows, dim=-1)
    i, j = torch.triu_indices(len(rows), len(rows), offset=1)
    return float(100 * (rows[i] * rows[j]).sum(-1).mean())


def text_alignment(frames: torch.Tensor, text: torch.Tensor) -> float:
    """Mean over frames of 100 x cos(frame embedding ``(F, D)``, prompt embedding ``(D,)``)."""
    unit = torch.nn.functional.normalize(frames.double(), dim=-1)
    return float(100 * (unit @ torch.nn.functional.normalize(text.double(), dim=-1)).mean())


def frame_consistency(frames: torch.Tensor) -> float:
    """Mean over all pairs of frames of 100 x cosine of their embeddings ``(F, D)``."""
    return _pairwise_mean(frames)


def mean_frame_embedding(frames: torch.Tensor) -> torch.Tensor:
    """A video's embedding for diversity: the mean of its unit frame embeddings, not renormalised.

    The authors' code divides the sum by 16, the mean for their 16-frame videos; this is the mean
    for any frame count.
    """
    return torch.nn.functional.normalize(frames.double(), dim=-1).mean(0)


def diversity(videos: torch.Tensor) -> float:
    """The paper's diversity (Table 1), as the authors' code computes it; lower is more diverse.

    Mean over all pairs of videos of 100 x the dot product of their mean-frame embeddings ``(N, D)``,
    not renormalised: the cosine times ``|m_i| |m_j|``, so it is lower both when videos differ and
    when a video's frames vary.
    """
    return _pairwise_mean(videos, normalise=False)


def diversity_cosine(videos: torch.Tensor) -> float:
    """:func:`diversity` on renormalised mean-frame embeddings (100 x cosine): how much videos differ
    from each other only, whatever their frames do. Not the paper's number."""
    return _pairwise_mean(videos)
