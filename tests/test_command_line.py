"""``lamp generate``, ``lamp animate`` and ``lamp edit`` refuse a bad argument before any model loads.

Each check runs on a bare project (no trained model, no base weights: only the base's config files),
because a check that needs a model would come too late: the mistake must cost a second, not the
minutes of loading and sampling after which it used to surface (issue 14, finding 4). What the
commands import after their checks (accelerate, which brings diffusers in, and the sampling and
editing code) is made unimportable while they run, so a refusal that came after it fails with an
ImportError, on any machine; a bound on the seconds did not hold on a slower CPU.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch  # noqa: F401  (the memory check imports torch to ask the GPU: a library, not the checks' time)
from click.testing import CliRunner
from PIL import Image
from safetensors.numpy import save_file

from lamp import video_size
from lamp.command_line import main

from .conftest import make_kedro_project

#: A small base's configs: the mini profile's before issue 16's fourteenth round (params.yaml's pretrain.base
#: now has UNet channels 64, 96, 96); the checks below need only its shape, and their figures are worked for it.
MINI_VAE = {"block_out_channels": [16, 32, 64], "latent_channels": 4}
MINI_UNET = {"block_out_channels": [32, 64, 64], "layers_per_block": 1}
#: SD v1.4's, as its vae/ and unet/config.json give them.
SD14 = video_size.BaseShape(vae_channels=(128, 256, 512, 512), unet_channels=(320, 640, 1280, 1280), layers_per_block=2)
#: What the sampling and editing commands import only after their checks (seconds to import, then loading).
LOADED_AFTER_THE_CHECKS = ("accelerate", "lamp.sampling.evaluation_set", "lamp.editing")


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A mini project with only the base's configs and the motion ``rain``'s (tiny) weights file: nothing
    loads, and what loads after the checks cannot be imported."""
    root = make_kedro_project(tmp_path, monkeypatch)
    for module in LOADED_AFTER_THE_CHECKS:
        monkeypatch.setitem(sys.modules, module, None)  # `import` of a None entry raises ImportError
    base = root / "data/mini/06_models/base"
    for name, config in (("vae/config.json", MINI_VAE), ("unet/config.json", MINI_UNET),
                         ("scheduler/scheduler_config.json", {"num_train_timesteps": 1000})):
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(json.dumps(config))
    motion = root / "data/mini/06_models/motions/rain"
    motion.mkdir(parents=True)
    save_file({"weight": np.zeros((4, 4), np.float32)}, str(motion / "motion_weights.safetensors"))
    Image.new("RGB", (40, 40)).save(root / "photo.png")
    (root / "out").mkdir()
    return root


def invoke(command: str, *arguments: str) -> object:
    """``lamp <command> --motion rain --prompt ... <arguments>`` (animate with photo.png)."""
    image = ["--image", "photo.png"] if command == "animate" else []
    return CliRunner().invoke(main, [command, "--motion", "rain", "--prompt", "a red circle", *image, *arguments])


def assert_refused(result, project: Path, *messages: str) -> None:
    """Exit 2 (a usage error) with every message, before anything loaded (module docstring), and nothing
    written into the output folder."""
    output = " ".join(result.output.split())
    assert not isinstance(result.exception, ImportError), f"a check ran after the loading began: {result.exception!r}"
    assert result.exit_code == 2, result.output
    for message in messages:
        assert message in output, result.output
    assert not any((project / "out").iterdir()) and not list(project.glob("*.mp4"))


@pytest.mark.parametrize("command", ["generate", "animate"])
@pytest.mark.parametrize(
    "arguments, message",
    [
        pytest.param(["--frames", "0"], "Invalid value for '--frames': 0 is not in the range x>=2", id="frames 0"),
        pytest.param(["--frames", "1"], "Invalid value for '--frames': 1 is not in the range x>=2", id="frames 1"),
        pytest.param(["--steps", "0"], "Invalid value for '--steps': 0 is not in the range x>=1", id="steps 0"),
        pytest.param(["--steps", "-3"], "Invalid value for '--steps': -3 is not in the range x>=1", id="steps -3"),
        pytest.param(["--guidance", "-1"], "Invalid value for '--guidance': -1.0 is not in the range x>=0",
                     id="guidance -1"),
        pytest.param(["--height", "0"], "Invalid value for '--height': 0 is not in the range x>=1", id="height 0"),
        pytest.param(["--steps", "5000"], "Invalid value for --steps: 5000 steps: the base model's scheduler has 1000 "
                     "timesteps; give at most --steps 1000", id="steps beyond the scheduler's"),
        pytest.param(["--height", "30"], "Invalid value for --height: video size 30x64 does not fit this model: height "
                     "and width must be positive multiples of 16 (e.g. 16x64)", id="height not a multiple"),
    ],
)
def test_a_bad_number_is_refused_before_anything_loads(project, command, arguments, message):
    result = invoke(command, *arguments, "--out", "out/video.mp4")
    assert_refused(result, project, message)


@pytest.mark.parametrize("command", ["generate", "animate"])
def test_a_size_beyond_the_memory_is_refused_with_the_estimate_and_what_fits(project, monkeypatch, command):
    monkeypatch.setattr(video_size, "free_memory", lambda: (8 * video_size.GIB, "of RAM available"))  # any machine's
    result = invoke(command, "--height", "100000", "--out", "out/video.mp4")
    # 100000 x 64 pixels, 8 frames, float32: (2 x 8 samples x 52 channels x 16 maps / 16 + 2 x 8 x 3) x 4 bytes a pixel
    assert_refused(result, project, "Invalid value for --height: 100000x64 with 8 frames needs about 21.0 GiB",
                   "this machine has 8.0 GiB of RAM available",
                   "the largest that fit: --height 38128 at --width 64, or --width 16 at --height 100000; "
                   "or fewer --frames")


def test_too_many_frames_are_refused_naming_the_frames(project, monkeypatch):
    monkeypatch.setattr(video_size, "free_memory", lambda: (1 * video_size.GIB, "of RAM available"))
    result = invoke("generate", "--frames", "2000", "--out", "out/video.mp4")
    assert_refused(result, project, "Invalid value for --frames: 64x64 with 2000 frames needs about 3.4 GiB",
                   "or fewer --frames")


def test_the_largest_size_named_fits_and_the_next_does_not():
    memory = video_size.sampling_memory(video_size.BaseShape((16, 32, 64), (32, 64, 64), 1), 8, 4, 10**6)
    free = 8 * video_size.GIB
    height = memory.largest_side(64, free, 16)
    assert memory.total(height, 64) <= free < memory.total(height + 16, 64)


def test_the_estimates_for_the_mini_size_and_sd_v1_4():
    mini = video_size.sampling_memory(video_size.BaseShape((16, 32, 64), (32, 64, 64), 1), 8, 4, 0)
    assert mini.total(64, 64) == 4096 * (2 * 8 * 52 * 16 / 16 * 4 + 2 * 8 * 12)  # 14 MiB of activations
    sd = video_size.sampling_memory(SD14, 16, 2, 0)  # fp16, as the full profile samples
    assert SD14.size_multiple == 64
    assert 2.2 < sd.total(320, 512) / video_size.GIB < 2.5


@pytest.mark.parametrize("command", ["generate", "animate"])
@pytest.mark.parametrize("where, message", [
    pytest.param("/sys/video.mp4", "cannot write /sys/video.mp4: a file cannot be created in /sys (Permission denied); "
                 "choose a folder you can write to", id="a folder that takes no file, even from root"),
    pytest.param("photo.png/video.mp4", "cannot write photo.png/video.mp4: {project}/photo.png is a file, not a folder",
                 id="a file as the folder"),
])
def test_an_unwritable_out_is_refused_before_anything_loads(project, command, where, message):
    if where.startswith("/sys") and _can_create_in(Path("/sys")):
        pytest.skip("/sys takes new files here")
    result = invoke(command, "--out", where)
    assert_refused(result, project, "Invalid value for --out:", message.format(project=project))
    assert not Path(where).exists()


def test_lamp_edit_refuses_an_unwritable_out_before_anything_loads(project):
    from lamp.data import write_video

    if _can_create_in(Path("/sys")):
        pytest.skip("/sys takes new files here")
    source = write_video(project / "videos/source.mp4", np.zeros((9, 32, 32, 3), np.uint8), fps=8)
    arguments = ["edit", "--video", str(source), "--prompt", "a red star", "--out", "/sys/edit.mp4"]
    result = CliRunner().invoke(main, arguments)
    assert_refused(result, project, "Invalid value for --out: cannot write /sys/edit.mp4")


def _can_create_in(folder: Path) -> bool:
    try:
        (folder / ".lamp-probe").touch()
    except OSError:
        return False
    (folder / ".lamp-probe").unlink()
    return True


@pytest.mark.parametrize("command", ["generate", "animate"])
def test_help_shows_the_defaults_the_active_profile_resolves(project, command):
    """The mini profile samples 20 steps at guidance 2.5, 8 frames of 64 x 64 (params.yaml), not the paper's 50 and 12.5."""
    help_text = " ".join(CliRunner().invoke(main, [command, "--help"]).output.split())
    for shown in ("DDIM steps [default: 20;", "guidance scale [default: 2.5;", "frame 1 included [default: 8;",
                  "as the mini profile of ./params.yaml resolves them"):
        assert shown in help_text, help_text
    options = {option.name: option for option in main.commands[command].params}
    assert options["steps"].default is None  # shown, not set: a run in another --project reads its own
