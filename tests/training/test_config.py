import pytest

from lamp.training import TrainConfig


def test_defaults_are_the_papers():
    config = TrainConfig()
    assert (config.n_sample_frames, config.sample_frame_rate, config.random_flip) == (16, 1, True)
    assert config.first_frame_conditioning
    assert (config.learning_rate, config.adam_beta1, config.adam_beta2) == (3e-5, 0.9, 0.999)
    assert (config.adam_weight_decay, config.adam_epsilon, config.max_grad_norm) == (1e-2, 1e-8, 1.0)
    assert (config.seed, config.lr_scheduler, config.lr_warmup_steps) == (33, "constant", 0)
    assert config.checkpoints_total_limit == 2
    assert config.timestep_range == (0.0, 1.0), "the paper draws timesteps from the whole schedule"


def test_from_dict_round_trips_and_rejects_unknown_keys():
    config = TrainConfig.from_dict({"max_train_steps": 500, "n_sample_frames": 24, "sample_frame_rate": 2})
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.clip_span == 47
    with pytest.raises(ValueError, match="learning_rat"):
        TrainConfig.from_dict({"learning_rat": 1e-4})


@pytest.mark.parametrize(
    "values",
    [
        {"mixed_precision": "fp8"},
        {"n_sample_frames": 1},
        {"sample_frame_rate": 0},
        {"checkpoints_total_limit": 0},
        {"max_train_steps": 0},
        {"timestep_range": (0.5, 0.5)},
        {"timestep_range": (-0.1, 1.0)},
        {"timestep_range": (0.2, 1.5)},
        {"timestep_range": (0.5,)},
    ],
)
def test_invalid_settings_are_rejected(values):
    with pytest.raises(ValueError):
        TrainConfig(**values)


def test_a_single_frame_is_enough_without_first_frame_conditioning():
    assert TrainConfig(n_sample_frames=1, first_frame_conditioning=False).clip_span == 1
