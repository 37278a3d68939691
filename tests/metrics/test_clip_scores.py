import itertools
import math

import pytest
import torch

from lamp.metrics import diversity, diversity_cosine, frame_consistency, mean_frame_embedding, text_alignment


def test_text_alignment_is_the_mean_cosine_times_100():
    frames = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    text = torch.tensor([1.0, 0.0])
    assert text_alignment(frames, text) == pytest.approx(100 * (1 + 0 + math.sqrt(0.5)) / 3)


def test_consistency_averages_every_pair_of_frames_once():
    frames = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    cosines = [
        float(torch.nn.functional.cosine_similarity(a, b, dim=0)) for a, b in itertools.combinations(frames, 2)
    ]
    assert len(cosines) == 6
    assert frame_consistency(frames) == pytest.approx(100 * sum(cosines) / 6)
    # hand-computed: pairs (0,1) 0, (0,2) .7071, (0,3) -1, (1,2) .7071, (1,3) 0, (2,3) -.7071
    assert frame_consistency(frames) == pytest.approx(100 * (math.sqrt(0.5) - 1) / 6)


def test_diversity_is_the_authors_dot_product_of_mean_frame_embeddings():
    a = mean_frame_embedding(torch.tensor([[1.0, 0.0], [1.0, 0.0]]))
    b = mean_frame_embedding(torch.tensor([[0.0, 1.0], [0.0, 3.0]]))
    c = mean_frame_embedding(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    assert torch.allclose(c, torch.tensor([0.5, 0.5], dtype=torch.float64)), "the mean is not renormalised"
    # pairs (a, b) 0, (a, c) .5, (b, c) .5
    assert diversity(torch.stack([a, b, c])) == pytest.approx(100 * (0 + 0.5 + 0.5) / 3)
    assert diversity(torch.stack([a, a])) == pytest.approx(100)
    assert diversity(torch.stack([c, c])) == pytest.approx(50), "a video whose frames vary scores lower against itself"


def test_diversity_cosine_renormalises_the_means():
    a, b, c = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), torch.tensor([0.5, 0.5])
    assert diversity_cosine(torch.stack([a, b, c])) == pytest.approx(100 * (0 + 2 * math.sqrt(0.5)) / 3)
    assert diversity_cosine(torch.stack([c, c])) == pytest.approx(100)


def test_a_single_video_has_no_pairs():
    for metric in (diversity, diversity_cosine):
        with pytest.raises(ValueError, match="at least two"):
            metric(torch.ones(1, 4))
