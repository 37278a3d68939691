"""The numbers of a stage's record are what its DVC metrics file holds (lamp.records)."""

import numpy as np

from lamp.records import numeric_entries


def test_a_records_numbers_keep_their_place_and_its_text_stays_out():
    record = {
        "motion": "rain",
        "resumed_from": None,
        "final_loss": np.float64(0.03),
        "steps": np.int64(200),
        "untrained_equals_image_model": True,
        "max_abs_diff_per_frame": [0.0, 0.13],
        "lamp": {"conv_mode": "prediction", "temporal_attention": False, "layers": {"count": 3}},
    }
    assert numeric_entries(record) == {
        "final_loss": 0.03,
        "steps": 200,  # numpy scalars as the JSON writer takes them
        "untrained_equals_image_model": 1,
        "max_abs_diff_per_frame.0": 0.0,
        "max_abs_diff_per_frame.1": 0.13,
        "lamp.temporal_attention": 0,
        "lamp.layers.count": 3,
    }
    assert all(type(v) in (int, float) for v in numeric_entries(record).values())
