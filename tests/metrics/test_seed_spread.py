"""The seed-spread benchmark summarises each seed's evaluation table and the spread over seeds."""

from __future__ import annotations

import pytest

from ..conftest import import_benchmark


@pytest.fixture(scope="module")
def seed_spread():
    return import_benchmark("seed_spread")


def test_a_seed_scores_takes_evaluates_scores_over_all_videos_and_per_motion_and_nothing_else(seed_spread):
    metrics = {"motion_recognition": 50.0, "motion_recognition.rain": 66.7, "motion_recognition.horse_run": 33.3,
               "keeps_frame1": 0.0, "recognition_ceiling": 99.5, "recognition_ceiling.rain": 100.0,
               "text_alignment": 30.1}

    scores = seed_spread.seed_scores(metrics)

    assert scores == {"motion_recognition": 50.0, "motion_recognition.rain": 66.7,
                      "motion_recognition.horse_run": 33.3, "keeps_frame1": 0.0}
    assert "motion_fidelity" not in scores  # a score the metrics lack is left out, not made up


def test_the_spread_gives_each_seed_and_the_mean_std_min_max(seed_spread):
    result = seed_spread.spread({0: {"motion_recognition": 62.5}, 1: {"motion_recognition": 77.1},
                                 2: {"motion_recognition": 58.3}})

    assert result["motion_recognition@seed1"] == 77.1
    assert result["motion_recognition.mean"] == pytest.approx(65.97, abs=0.01)
    assert result["motion_recognition.std"] == pytest.approx(9.87, abs=0.01)
    assert (result["motion_recognition.min"], result["motion_recognition.max"]) == (58.3, 77.1)


def test_one_seed_has_no_spread(seed_spread):
    assert seed_spread.spread({0: {"keeps_frame1": 20.0}})["keeps_frame1.std"] == 0.0
