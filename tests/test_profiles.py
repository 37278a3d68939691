"""The profiles: one switch selects every setting, each profile's values apply to it alone, full is the paper."""

from __future__ import annotations

import copy

import pytest
import yaml

from lamp.config_loader import load_params_file, resolved_params
from lamp.profiles import Profile, resolve_parameters
from lamp.readme import readme_with_block
from lamp.settings_table import README_BLOCK, resolved_by_profile, settings_table

from .conftest import REPO


@pytest.fixture(scope="module")
def resolved() -> dict[str, dict]:
    return resolved_by_profile(REPO / "params.yaml")


def test_the_full_profile_resolves_to_the_papers_and_the_authors_settings(resolved):
    from lamp.editing import SamplingSettings, tune_config
    from lamp.sampling.settings import FirstFrameSettings, GenerationSettings
    from lamp.training.config import train_config

    full = resolved["full"]
    profile = full["active_profile"]
    assert (profile["n_frames"], profile["height"], profile["width"]) == (16, 320, 512)
    assert profile["video_base_model"] == "CompVis/stable-diffusion-v1-4"
    assert profile["first_frame_model"] == "stabilityai/stable-diffusion-xl-base-1.0"

    train = train_config(Profile.from_active(profile), full["data"], full["train"])
    assert (train.max_train_steps, train.learning_rate, train.checkpointing_steps) == (30_000, 3e-5, 5_000)
    assert (train.mixed_precision, train.gradient_checkpointing, train.n_sample_frames) == ("fp16", True, 16)
    assert (train.adam_beta1, train.adam_beta2, train.adam_weight_decay, train.adam_epsilon) == (0.9, 0.999, 1e-2, 1e-8)
    assert (train.max_grad_norm, train.lr_scheduler, train.seed, train.sample_frame_rate) == (1.0, "constant", 33, 1)
    assert train.timestep_range == (0.0, 1.0)

    sampling = GenerationSettings.for_profile(full["generate"], Profile.from_active(profile))
    assert (sampling.num_inference_steps, sampling.guidance_scale, sampling.shared_noise_alpha) == (50, 12.5, 0.2)
    first = FirstFrameSettings.for_profile(full["generate"])
    assert (first.height, first.width) == (640, 1024)  # SD-XL's scale; frames are resized to 320 x 512

    edit = full["edit"]
    assert (edit["n_frames"], edit["stride"], edit["first_frame_drawer"]) == (24, 2, "controlnet")
    tune = tune_config(edit["train"], edit["n_frames"])
    assert (tune.max_train_steps, tune.learning_rate, tune.mixed_precision) == (500, 3e-5, "fp16")
    edit_sampling = SamplingSettings.from_dict(edit["sampling"])
    assert (edit_sampling.num_inference_steps, edit_sampling.guidance_scale) == (50, 12.5)


def test_each_profile_reads_its_own_values_and_the_shared_ones(resolved):
    mini, full = resolved["mini"], resolved["full"]
    assert mini["train"]["max_train_steps"] == 200 and full["train"]["max_train_steps"] == 30_000
    assert mini["train"]["seed"] == full["train"]["seed"] == 33
    assert mini["data"]["sample_frame_rate"] == 3 and full["data"]["sample_frame_rate"] == 1
    assert full["data"]["flip"] is True and mini["data"]["flip"] is False  # the authors' flips; the mini shapes have no facing
    assert mini["data"]["resize_mode"] == full["data"]["resize_mode"] == "crop"
    assert mini["train"]["checkpoints_dir"] == "data/mini/09_checkpoints"
    assert full["train"]["checkpoints_dir"] == "data/full/09_checkpoints"
    base_first_frame = mini["ablate"]["variants"]["base_first_frame"]
    assert base_first_frame == {"first_frame_model": "video_base", "first_frame": {"num_inference_steps": 10, "guidance_scale": 1.0}}
    assert full["ablate"]["variants"]["base_first_frame"] == {"first_frame_model": "video_base"}


def test_a_profile_override_in_conf_applies_through_the_alias():
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    from omegaconf import OmegaConf

    config = OmegaConf.create(copy.deepcopy(raw))
    config = OmegaConf.merge(config, {"profiles": {"mini": {"height": 32}}})
    params = resolved_params(config)
    assert params["active_profile"]["height"] == 32 and params["profile"]["height"] == 32


def test_profile_mistakes_are_named_with_the_fix():
    values = yaml.safe_load((REPO / "params.yaml").read_text())["profiles"]["mini"]
    with pytest.raises(ValueError, match=r"stages .*\[mini\].*or \[\]"):
        Profile.from_params("mini", {**values, "stages": {"mini_world": ["full"], "hub_models": []}})
    with pytest.raises(ValueError, match=r"\['a/b'\] are not valid names"):
        Profile.from_params("mini", {**values, "motions": {"a/b": "x"}})
    with pytest.raises(ValueError, match="unknown keys of profile 'mini' \\['heigth'\\]"):
        Profile.from_params("mini", {**values, "heigth": 3})
    with pytest.raises(ValueError, match="edits.horse_run_11 \\['promt'\\]"):
        Profile.from_params("mini", {**values, "edits": {"horse_run_11": {"video": "v.mp4", "promt": "x"}}})


def test_the_readme_shows_the_settings_table_as_the_code_makes_it():
    readme = (REPO / "README.md").read_text()
    table = settings_table(REPO / "params.yaml")
    assert readme_with_block(readme, README_BLOCK, table) == readme, "run `lamp settings --readme README.md`"


def test_every_training_setting_has_a_value_in_each_profile(resolved):
    """No TrainConfig field is left to a code default that neither profile shows."""
    from dataclasses import fields

    from lamp.training import TrainConfig

    derived = {"n_sample_frames", "sample_frame_rate", "random_flip"}
    for params in resolved.values():
        assert {f.name for f in fields(TrainConfig)} - derived <= set(params["train"])


def test_the_loader_resolves_the_file_as_kedro_nodes_see_it():
    params = load_params_file(REPO / "params.yaml")
    assert params["active_profile"]["name"] == "mini" and "train" not in params["active_profile"]
    assert resolve_parameters({**params, "profile": "full"})["active_profile"]["name"] == "full"


def test_the_typed_profile_answers_what_differs_between_profiles(resolved, tmp_path):
    full, mini = (Profile.from_active(resolved[name]["active_profile"]) for name in ("full", "mini"))
    assert full.scores_like_the_paper and not mini.scores_like_the_paper
    (tmp_path / mini.video_base_model).mkdir(parents=True)
    located = mini.in_project(tmp_path)
    assert located.video_base_model == located.first_frame_model == str(tmp_path / mini.video_base_model)
    assert mini.in_project(tmp_path / "elsewhere") == mini  # not in that folder: left as given
    assert full.in_project(tmp_path) == full  # hub ids stay hub ids
    with pytest.raises(ValueError, match="unknown keys of profile 'mini'"):
        Profile.from_active({**resolved["mini"]["active_profile"], "hieght": 3})


def test_dvc_experiments_set_the_active_profiles_values_through_profile_and_leave_a_file_that_runs(tmp_path):
    """``dvc exp run -S`` rewrites params.yaml through OmegaConf and ruamel.yaml (YAML 1.2): ``profile`` is a
    copy of the profile it aliases there, written last, so ``-S profile.<key>`` reaches the run and
    ``-S profiles.<active>.<key>`` is undone; unquoted ``no`` must stay the string DVC means; paths must not
    be pinned to the profile active at the rewrite. The README's sweep recipe rests on all three."""
    import shutil

    from dvc.utils.hydra import apply_overrides

    from lamp.config_loader import read_params_file, resolved_params
    from lamp.parameters import check_parameters
    from omegaconf import OmegaConf

    params = tmp_path / "params.yaml"
    shutil.copy(REPO / "params.yaml", params)
    name = load_params_file(params)["profile"]["name"]
    steps = load_params_file(params)["train"]["max_train_steps"]
    apply_overrides(params, ["profile.train.max_train_steps=7", "profile.generate.guidance_scale=3.5"])
    assert "mixed_precision: no\n" in params.read_text()  # DVC's YAML 1.2: a string, left unquoted
    resolved = check_parameters(load_params_file(params))
    assert resolved["train"]["max_train_steps"] == 7 and resolved["generate"]["guidance_scale"] == 3.5
    assert resolved["train"]["mixed_precision"] == "no"
    assert f"profile: *{name}" in params.read_text()  # still an alias: the profile and its entry stay one
    apply_overrides(params, [f"profiles.{name}.train.max_train_steps={steps + 1}"])
    assert load_params_file(params)["train"]["max_train_steps"] == 7
    apply_overrides(params, ["profile.ablate.motions=null", "profile.ablate.prompts_per_motion=3",
                             "ablate.run_variants=[full,untrained,no_motion_layers]"])  # the README's floor check
    ablate = check_parameters(load_params_file(params))["ablate"]
    assert (ablate["motions"], ablate["prompts_per_motion"]) == (None, 3)
    assert ablate["run_variants"] == ["full", "untrained", "no_motion_layers"]
    for other in read_params_file(params)["profiles"]:  # the other profile, selected after the rewrite
        values = read_params_file(params)
        values["profile"] = values["profiles"][other]
        assert resolved_params(OmegaConf.create(values))["train"]["checkpoints_dir"] == f"data/{other}/09_checkpoints"
