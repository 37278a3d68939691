"""The GPU benchmark suite runs end to end on tiny shapes, on the CPU (the check before a device is lent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import import_benchmark


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("suite")
    import_benchmark("gpu_suite").main(["--tiny", "--out", str(out)])
    return json.loads((out / "gpu_suite.json").read_text()), (out / "gpu_suite.md").read_text()


def test_every_case_is_measured_or_says_why_not(suite: tuple[dict, str]) -> None:
    results, table = suite[0]["results"], suite[1]
    names = [result["benchmark"] for result in results]
    assert names == ["train_step"] * 6 + ["train_motion", "generate_video", "first_frame"]
    for result in results:
        if "error" in result:
            # only the optional packages may be missing; everything else must run on any machine
            assert "xformers" in result["error"] or "bitsandbytes" in result["error"], result["error"]
        else:
            seconds = next(v for k, v in result.items() if k.startswith("seconds_per_"))
            assert seconds > 0 and result["peak_memory_gib"] > 0
    assert table.count("\n| ") == 1 + len(results)  # the header and one row per case


def test_training_cases_count_flops_and_differ_only_in_their_setting(suite: tuple[dict, str]) -> None:
    steps = [r for r in suite[0]["results"] if r["benchmark"] == "train_step" and "error" not in r]
    assert len(steps) >= 4
    for result in steps:
        assert result["tflop_per_step"] > 0 and result["tflops"] > 0
    by_checkpointing = {r["gradient_checkpointing"]: r["tflop_per_step"] for r in steps if r["precision"] == "fp16"}
    # checkpointing recomputes the forward pass in the backward one
    assert by_checkpointing[True] > by_checkpointing[False]


def test_a_result_file_logs_one_mlflow_run_per_case(suite: tuple[dict, str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow

    results_file = tmp_path / "gpu_suite.json"
    results_file.write_text(json.dumps(suite[0]))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    import_benchmark("gpu_suite").main(["--mlflow", str(results_file)])
    runs = mlflow.search_runs(experiment_names=["lamp-benchmarks"])
    assert sorted(runs["tags.mlflow.runName"]) == sorted(f"gpu_suite-{r['benchmark']}" for r in suite[0]["results"])
    measured = runs.dropna(subset=["metrics.peak_memory_gib"])
    assert len(measured) == sum("error" not in r for r in suite[0]["results"])
