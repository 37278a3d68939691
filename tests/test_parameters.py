"""Every parameter is checked for its key, type and range when it is read: a bad value stops a run
before any node deletes or computes anything, and the message names the key, the value and what is
allowed."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Literal

import pytest
from dataclasses import dataclass

from lamp.parameters import ParametersError, parameter_problems
from lamp.params import from_params

from .conftest import REPO, make_kedro_project, project_params, run_kedro


def problems_with(override: dict, profile: str | None = None) -> list[str]:
    from lamp.profiles import resolve_parameters

    return parameter_problems(resolve_parameters(project_params(override, profile)))


def test_the_projects_parameters_have_no_problem_in_either_profile():
    assert problems_with({}) == [] and problems_with({}, "full") == []


@pytest.mark.parametrize(
    "override, message",
    [
        ({"profiles": {"mini": {"train": {"learning_rate": "fast"}}}}, "learning_rate is 'fast'; expected a number"),
        ({"data": {"min_vidoes": 8}}, "'min_vidoes': did you mean 'min_videos'?"),
        ({"data": {"colour": "red"}}, "unknown data settings ['colour']"),
        ({"profiles": {"mini": {"data": {"flip": "yes"}}}}, "flip is 'yes'; expected true or false"),
        ({"data": {"resize_mode": "squash"}}, "resize_mode is 'squash'; expected one of ['crop', 'stretch']"),
        ({"encode": {"batch_size": 0}}, "batch_size must be at least 1, got 0"),
        ({"profiles": {"mini": {"generate": {"num_inference_steps": -3}}}}, "num_inference_steps must be at least 1"),
        ({"profiles": {"mini": {"generate": {"guidance_scale": -1.0}}}}, "guidance_scale must be at least 0"),
        ({"generate": {"first_frame": {"guidance_scal": 1}}}, "'guidance_scal': did you mean 'guidance_scale'?"),
        ({"train": {"validation": {"evry": 3}}}, "'evry': did you mean 'every'?"),
        ({"train": {"processes": 0}}, "processes is 0; expected a whole number of processes, 1 or more"),
        ({"train": {"processes": 2, "validation": {"prompt": "a cat"}}}, "validation GIFs are drawn by one-process"),
        ({"pretrain": {"vae": {"train": {"steps": "many"}}}}, "steps is 'many'; expected an integer"),
        ({"profiles": {"mini": {"ablate": {"motions": ["volcano"]}}}}, "['volcano']: the profile's motions"),
        ({"trian": {}}, "unknown top-level keys ['trian']"),
        ({"profiles": {"mini": {"train": {"mixed_precision": False}}}},  # `mixed_precision: no`, unquoted
         'mixed_precision is False; expected one of [\'no\', \'fp16\', \'bf16\'] (YAML reads an unquoted no as false: write "no", in quotes)'),
        ({"profiles": {"mini": {"edit": {"sampling": {"guidance_scale": "high"}}}}}, "guidance_scale is 'high'"),
    ],
)
def test_a_bad_parameter_is_named_with_its_value_and_what_is_allowed(override, message):
    problems = problems_with(override)
    assert any(message in problem for problem in problems), problems


def test_the_types_of_a_settings_class_are_checked_before_it_is_built():
    @dataclass(frozen=True)
    class Settings:
        steps: int
        rate: float = 1.0
        mode: Literal["a", "b"] = "a"
        sizes: tuple[int, ...] = ()
        label: str | None = None

    assert from_params(Settings, {"steps": 3, "rate": 2, "sizes": [1, 2]}, "s") == Settings(3, 2, "a", [1, 2])
    for values, expected in [({"steps": True}, "steps is True; expected an integer"),
                             ({"steps": 1, "sizes": [1, "x"]}, "expected a list of an integer"),
                             ({"steps": 1, "label": 3}, "expected a string or null"),
                             ({"steps": 1, "mode": "c"}, "expected one of ['a', 'b']")]:
        with pytest.raises(ValueError, match=expected.replace("[", r"\[").replace("]", r"\]")):
            from_params(Settings, values, "s")


#: Libraries that take seconds to import; a stage that needs none (synthesize, say) must not pay for them.
HEAVY = ("torch", "diffusers", "transformers", "open_clip")
STARTUP = """
import sys
import lamp.datasets, lamp.pipeline_registry
from lamp.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS  # as `kedro run` loads its configuration
for profile in ("mini", "full"):
    CONFIG_LOADER_CLASS(sys.argv[1], **CONFIG_LOADER_ARGS, runtime_params={"profile": profile})["parameters"]
print("imported:", sorted(set(sys.argv[2:]) & set(sys.modules)))
"""


def test_starting_a_run_and_checking_its_parameters_imports_no_heavy_library():
    """Issue 19: every `kedro run` checks all parameters; importing torch and diffusers for it cost 7 s a stage."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run([sys.executable, "-c", STARTUP, str(REPO / "conf"), *HEAVY], env=env,
                            capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "imported: []"  # the last line: Kedro logs to stdout before it


def test_a_bad_value_stops_a_training_before_its_checkpoints_are_touched(tmp_path, monkeypatch):
    """Finding 2 of issue 14: `learning_rate: "fast"` deleted checkpoints 100 and 200, then failed."""
    project = make_kedro_project(tmp_path, monkeypatch, {"profiles": {"mini": {"train": {"learning_rate": "fast"}}}})
    checkpoint = project / "data/mini/09_checkpoints/rain/checkpoint-100"
    checkpoint.mkdir(parents=True)
    (checkpoint / "training_state.json").write_text("{}")
    with pytest.raises(ParametersError, match="learning_rate is 'fast'"):
        run_kedro(project, "train", namespaces=["rain"])
    assert (checkpoint / "training_state.json").is_file()
