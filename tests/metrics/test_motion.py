import numpy as np
import pytest

from lamp.metrics import flow_statistics, motion_fidelity, reference_statistics


def textured_square(velocity: int, seed: int, n_frames: int = 8, size: int = 64) -> np.ndarray:
    """A random-textured 20 px square gliding ``velocity`` px per frame over a flat background."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    start = int(rng.integers(2, 8))
    top = int(rng.integers(8, 36))
    frames = np.full((n_frames, size, size, 3), 90, dtype=np.uint8)
    for f in range(n_frames):
        left = start + velocity * f if velocity >= 0 else size - 20 - start + velocity * f
        frames[f, top : top + 20, left : left + 20] = texture
    return frames


@pytest.fixture(scope="module")
def reference():
    return reference_statistics([textured_square(2, seed) for seed in range(4)])


def test_fidelity_ranks_right_over_left_over_static(reference):
    right = motion_fidelity(flow_statistics(textured_square(2, seed=10)), reference)
    left = motion_fidelity(flow_statistics(textured_square(-2, seed=10)), reference)
    static = motion_fidelity(flow_statistics(textured_square(0, seed=10)), reference)
    assert right > 60 and right > 2 * left and left > static
    assert static == 0.0


def test_faster_motion_in_the_right_direction_scores_lower_than_the_same_speed(reference):
    same = motion_fidelity(flow_statistics(textured_square(2, seed=11)), reference)
    faster = motion_fidelity(flow_statistics(textured_square(5, seed=11)), reference)
    assert same > faster


def test_statistics_round_trip_through_json_values(reference):
    from lamp.metrics import FlowStatistics

    again = FlowStatistics.from_dict(reference.to_dict())
    assert np.allclose(again.directions, reference.directions, rtol=1e-11)
    assert again.magnitude == pytest.approx(reference.magnitude, rel=1e-11)
    assert again.to_dict() == reference.to_dict()  # written once, the same bytes ever after
    assert reference.directions.sum() == pytest.approx(1.0)
