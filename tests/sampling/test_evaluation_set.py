import numpy as np
import pytest

from lamp.data import VideoClip
from lamp.datasets import VideoDataset
from lamp.sampling.evaluation_set import video_seed
from lamp.sampling.prompts import read_prompts
from lamp.sampling.settings import GenerationSettings

from ..conftest import make_profile

PROFILE = make_profile(n_frames=6, height=32, width=48)


def write_prompts(tmp_path, text):
    path = tmp_path / "prompts.csv"
    path.write_text(text)
    return path


def test_prompts_get_one_id_per_row_counted_per_motion(tmp_path):
    path = write_prompts(tmp_path, "motion,prompt\nrain,a\nfirework,b\nrain,\"c, d\"\n")
    table = read_prompts(path)
    assert list(table.video_id) == ["rain_00", "firework_00", "rain_01"]
    assert list(read_prompts(path, ["rain"]).prompt) == ["a", "c, d"]


@pytest.mark.parametrize(
    "text, message",
    [("m,p\nrain,a\n", "header must be exactly 'motion,prompt'"), ("motion,prompt\nrain,\n", "rows [2]")],
)
def test_bad_prompt_files_name_the_problem(tmp_path, text, message):
    path = write_prompts(tmp_path, text)
    with pytest.raises(ValueError, match=str(path)) as error:
        read_prompts(path)
    assert message in str(error.value)


def test_missing_prompt_file_says_where_to_set_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="prompts_file"):
        read_prompts(tmp_path / "none.csv")


def test_video_seed_depends_only_on_the_seed_and_the_id():
    assert video_seed(0, "rain_00") == video_seed(0, "rain_00")
    assert len({video_seed(0, "rain_00"), video_seed(0, "rain_01"), video_seed(1, "rain_00")}) == 3


def test_settings_take_the_profile_size_and_reject_unknown_keys():
    settings = GenerationSettings.for_profile({"guidance_scale": 3.0, "motions": None, "first_frame": {}}, PROFILE, seed=4)
    assert (settings.num_frames, settings.height, settings.width, settings.seed) == (6, 32, 48, 4)
    assert settings.guidance_scale == 3.0 and "seed" not in settings.pipeline_arguments()
    with pytest.raises(ValueError, match="guidance_scal"):
        GenerationSettings.for_profile({"guidance_scal": 3.0}, PROFILE)


def test_a_missing_motion_model_names_the_file_and_the_stage(tmp_path):
    from kedro.io import DatasetError

    from lamp.datasets import MotionModelDataset

    with pytest.raises(DatasetError, match=r"no motion model at .*rain .*lamp_config.json not found.*`dvc repro train@rain`"):
        MotionModelDataset(str(tmp_path / "rain")).load()


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_video_files_read_back_with_frame_count_size_and_fps(tmp_path, suffix):
    frames = np.random.default_rng(0).integers(0, 256, (6, 32, 64, 3), dtype=np.uint8)
    dataset = VideoDataset(str(tmp_path / f"v{suffix}"))
    dataset.save(VideoClip(frames=frames, fps=8.0))
    clip = dataset.load()
    assert clip.frames.shape == (6, 32, 64, 3)
    assert clip.fps == pytest.approx(8.0, rel=0.05)  # GIF delays are whole centiseconds: 120 ms, 8.33 fps
    if suffix == ".mp4":
        import decord

        reader = decord.VideoReader(str(tmp_path / "v.mp4"))
        assert len(reader) == 6 and reader[0].shape == (32, 64, 3) and reader.get_avg_fps() == pytest.approx(8.0)
