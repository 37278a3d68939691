"""The seed-spread benchmark summarises each seed's evaluation table and the spread over seeds."""

from __future__ import annotations

import pandas as pd
import pytest

from ..conftest import import_benchmark


@pytest.fixture(scope="module")
def seed_spread():
    return import_benchmark("seed_spread")


def _table(recognised: dict[str, list[bool]]) -> pd.DataFrame:
    rows = [{"motion": motion, "motion_recognition": 100.0 * hit, "keeps_frame1": 0.0}
            for motion, hits in recognised.items() for hit in hits]
    return pd.DataFrame(rows)


def test_a_seed_scores_the_share_recognised_and_counts_each_motions_videos(seed_spread):
    scores = seed_spread.seed_scores(_table({"rain": [True, True, False], "horse_run": [False, False, True]}))

    assert scores["motion_recognition"] == pytest.approx(50.0)
    assert scores["recognised.rain"] == 2 and scores["recognised.horse_run"] == 1
    assert "motion_fidelity" not in scores  # a score the table lacks is left out, not made up


def test_the_spread_gives_each_seed_and_the_mean_std_min_max(seed_spread):
    result = seed_spread.spread({0: {"motion_recognition": 62.5}, 1: {"motion_recognition": 77.1},
                                 2: {"motion_recognition": 58.3}})

    assert result["motion_recognition@seed1"] == 77.1
    assert result["motion_recognition.mean"] == pytest.approx(65.97, abs=0.01)
    assert result["motion_recognition.std"] == pytest.approx(9.87, abs=0.01)
    assert (result["motion_recognition.min"], result["motion_recognition.max"]) == (58.3, 77.1)


def test_one_seed_has_no_spread(seed_spread):
    assert seed_spread.spread({0: {"keeps_frame1": 20.0}})["keeps_frame1.std"] == 0.0
