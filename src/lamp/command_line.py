"""The ``lamp`` command (not ``lamp/cli.py``: Kedro reserves that module for project commands)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from lamp.profiles import Profile
    from lamp.video_size import SamplingMemory


@click.group()
def main() -> None:
    """LAMP: learn a motion pattern from a few videos, then generate videos with it."""


def project_parameters(project: Path) -> dict[str, Any]:
    """:func:`lamp.config_loader.project_parameters` (as Kedro nodes see them), its errors as usage errors."""
    from lamp.config_loader import PARAMS_FILE
    from lamp.config_loader import project_parameters as load

    if not (project / PARAMS_FILE).is_file():
        raise click.UsageError(f"no {PARAMS_FILE} in {project}: run lamp inside the project folder or pass --project")
    try:
        return load(project)
    except ValueError as error:
        raise click.UsageError(str(error)) from error


@main.command()
@click.option("--project", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
              show_default=True, help="the project folder (its params.yaml)")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also write the checked settings as JSON here (the DVC stage `check` does)")
@click.option("--record-models", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="also record which models (hub commit or file hashes) the run uses, in DIR/base and DIR/clip")
def check(project: Path, report: Path | None, record_models: Path | None) -> None:
    """Check that a run of the active profile can get through, before it deletes or computes anything.

    Every setting, source folder, prompt file and edit video; every model (a local folder, the
    Hugging Face cache, or the hub unless HF_HUB_OFFLINE is set); the device for the precisions asked
    for; the disk for the outputs. Exits 1 naming each problem and its fix.
    """
    import contextlib
    import os

    from lamp.checks import check_project, write_model_records, write_report

    params = _checked_parameters(project)
    with contextlib.chdir(project):
        result = check_project(params)
        for note in result.notes:
            click.echo(f"  ok  {note}")
        for status in result.models:
            if status.ok:
                click.echo(f"  ok  {status.need.role}: {status.need.model} ({status.found})")
        if result.problems:
            for problem in result.problems:
                click.echo(f"  !!  {problem}", err=True)
            raise SystemExit(f"lamp check: {len(result.problems)} problem(s) for profile {result.profile}; "
                             "nothing was run")
        if report:
            write_report(result, report)
        if record_models:
            for path in write_model_records(result, record_models):
                click.echo(f"recorded {path}")
    click.echo(f"lamp check: profile {result.profile} is ready to run ({os.path.abspath(project)})")


def _checked_parameters(project: Path) -> dict[str, Any]:
    """``project_parameters``, also warning when ``profile:`` is a plain name that DVC cannot read through."""
    from lamp.config_loader import PARAMS_FILE, read_params_file
    from lamp.parameters import ParametersError

    try:
        params = project_parameters(project)
    except click.UsageError as error:
        if not isinstance(error.__cause__, ParametersError):
            raise
        for problem in error.__cause__.problems:
            click.echo(f"  !!  {problem}", err=True)
        raise SystemExit(f"lamp check: {len(error.__cause__.problems)} problem(s) in the parameters; nothing was run")
    raw = read_params_file(project / PARAMS_FILE).get("profile")
    if not isinstance(raw, dict):
        raise click.UsageError(
            f"params.yaml: `profile: {raw}` is a plain name; write `profile: *{raw}` (the star refers to "
            f"profiles.{raw}, which is how dvc.yaml reads the profile's settings)"
        )
    return params


@main.command()
@click.argument("stages", nargs=-1)
@click.option("--project", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
              show_default=True, help="the DVC project")
def restore(stages: tuple[str, ...], project: Path) -> None:
    """Put back the last good outputs of STAGES (default: every stage) after a failed or killed run.

    DVC deletes a stage's outputs before running it; when the stage then fails, its dvc.lock entry
    still describes the last good outputs. This restores all of them from DVC's cache: the cached
    outputs as `dvc checkout` does, and the metrics files too (DVC keeps a copy of them for its run
    cache, which `dvc checkout` does not use).
    """
    from lamp.restore import restore_outputs

    for path in restore_outputs(project, list(stages)):
        click.echo(f"restored {path}")


@main.command()
@click.option("--project", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
              show_default=True, help="the project to rehearse (its params.yaml, conf/rehearsal.yaml and data/01_raw)")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="the scratch folder  [default: a new temporary folder]")
@click.option("--run/--no-run", default=True, show_default=True, help="run `dvc repro` in it")
def rehearse(project: Path, into: Path | None, run: bool) -> None:
    """Rehearse the full profile (the paper's experiment) on this machine's CPU, in a scratch copy.

    Your params.yaml, motions, prompts and edits, with tiny random models in the hub's layouts and
    the sizes and steps of conf/rehearsal.yaml: every stage and branch of the full run, in minutes,
    before GPU hours. The project itself is not changed.
    """
    import subprocess
    import tempfile

    from lamp.rehearsal import prepare_rehearsal

    into = into or Path(tempfile.mkdtemp(prefix="lamp-rehearsal-"))
    if into.exists() and any(into.iterdir()):
        raise click.BadParameter(f"{into} is not empty; give a new or empty folder", param_hint="--into")
    copy = prepare_rehearsal(project, into)
    click.echo(f"rehearsal project: {copy}")
    if run:
        result = subprocess.run(["dvc", "repro"], cwd=copy)
        if result.returncode:
            raise SystemExit(f"lamp rehearse: `dvc repro` failed in {copy} (exit {result.returncode})")
        click.echo(f"rehearsal passed: outputs in {copy / 'data/full'}")


@main.command()
@click.option("--project", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
              show_default=True, help="the project folder (its params.yaml)")
@click.option("--readme", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="write the table into this file's settings block instead of printing it")
def settings(project: Path, readme: Path | None) -> None:
    """Print every setting as each profile resolves it, side by side (a Markdown table; the README holds it)."""
    from lamp.config_loader import PARAMS_FILE
    from lamp.settings_table import README_BLOCK, settings_table

    _echo_or_write_block(settings_table(project / PARAMS_FILE), readme, README_BLOCK, "the settings table")


@main.command()
@click.option("--project", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
              show_default=True, help="the project folder (its dvc.yaml and params.yaml)")
@click.option("--readme", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="write the flowchart into this file's stages block instead of printing it")
def dag(project: Path, readme: Path | None) -> None:
    """Print the DVC stages as a Mermaid flowchart, each per-motion group once (the README holds it)."""
    from lamp.stage_graph import README_BLOCK, stage_flowchart

    _echo_or_write_block(stage_flowchart(project), readme, README_BLOCK, "the stage flowchart")


def _echo_or_write_block(text: str, readme: Path | None, block: str, what: str) -> None:
    """Print ``text``, or with ``--readme`` write it into that file's generated ``block`` (:mod:`lamp.readme`)."""
    from lamp.readme import write_readme_block

    if readme is None:
        click.echo(text)
        return
    write_readme_block(readme, block, text)
    click.echo(f"wrote {what} into {readme}")


@main.command()
@click.option("--base-model", required=True, help="diffusers model folder or hub id holding unet/")
@click.option("--revision", default=None, help="hub revision of --base-model")
@click.option("--frames", default=4, show_default=True, help="frames of the equivalence check")
def inspect(base_model: str, revision: str | None, frames: int) -> None:
    """Inflate BASE_MODEL's UNet with the default LAMP switches and print its model card."""
    from diffusers import UNet2DConditionModel

    from lamp.models import LAMPConfig
    from lamp.models.checks import inflation_report

    unet = UNet2DConditionModel.from_pretrained(base_model, subfolder="unet", revision=revision).eval()
    click.echo(json.dumps(inflation_report(unet, LAMPConfig(), frames=frames), indent=2))


@main.command("import-authors-checkpoint")
@click.argument("unet_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="the lamp motion model to write: a new folder (motion weights + config)")
@click.option("--base-out", type=click.Path(path_type=Path), default=None,
              help="also write the checkpoint's own frozen weights as a diffusers UNet folder, a new folder: "
                   "the base on which the motion model reproduces the authors' model")
@click.option("--base-model", default=None,
              help="the base the checkpoint was tuned from, a diffusers folder or hub id holding unet/ (their "
                   "releases: CompVis/stable-diffusion-v1-4): compared with the checkpoint's frozen weights, recorded")
@click.option("--revision", default=None, help="hub revision of --base-model")
def import_authors_checkpoint(unet_dir: Path, out: Path, base_out: Path | None, base_model: str | None,
                              revision: str | None) -> None:
    """Turn a checkpoint of the LAMP authors' code into a lamp motion model.

    UNET_DIR is their train_lamp.py output: a diffusers 0.11 UNet3DConditionModel folder (config.json and
    diffusion_pytorch_model.bin, read without unpickling anything but tensors, or .safetensors). The motion
    model has the switches of their model (lamp.models.AUTHORS_SWITCHES) and loads like a trained one.
    Nothing is written when the checkpoint does not fit.
    """
    import warnings
    from contextlib import nullcontext

    from diffusers import UNet2DConditionModel

    from lamp.io import atomic_directory
    from lamp.models import AuthorsCheckpointError, BaseWeightsDifferWarning, save_motion_weights
    from lamp.models import import_authors_checkpoint as import_checkpoint

    for option, folder in (("--out", out), ("--base-out", base_out)):
        if folder is not None and folder.exists():
            raise click.BadParameter(f"{folder} exists: name a new folder", param_hint=option)
    base_unet = None
    if base_model:
        base_unet = UNet2DConditionModel.from_pretrained(base_model, subfolder="unet", revision=revision)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BaseWeightsDifferWarning)
            model = import_checkpoint(unet_dir, base_unet, base_model)
    except AuthorsCheckpointError as error:
        raise click.ClickException(str(error)) from error
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    with atomic_directory(out) as motion_dir, (atomic_directory(base_out) if base_out else nullcontext()) as base_dir:
        save_motion_weights(model, motion_dir)
        if base_dir is not None:
            model.image_unet().save_pretrained(base_dir)
    written = f"{out}" + (f" and its base UNet {base_out}" if base_out else "")
    click.echo(f"wrote {written} (switches: {model.lamp_config.to_dict()})")


#: Where the sampling options' defaults come from in the resolved parameters (the active profile's values).
_EFFECTIVE_DEFAULTS = {
    "seed": ("generate", "seed"),
    "steps": ("generate", "num_inference_steps"),
    "guidance": ("generate", "guidance_scale"),
    "frames": ("active_profile", "n_frames"),
    "height": ("active_profile", "height"),
    "width": ("active_profile", "width"),
}


class _ProfileDefaultsCommand(click.Command):
    """A command whose help shows each sampling option's default as the active profile resolves it, read
    from the project in the current folder as Kedro reads it (where there is none, or its parameters do
    not resolve, the help names the setting instead). The defaults are shown, not set: an option left out
    still means "the project's value" when the command runs in another ``--project``."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        try:
            params = project_parameters(Path("."))
        except click.UsageError:
            params = None
        options = [option for option in self.get_params(ctx) if option.name in _EFFECTIVE_DEFAULTS]
        shown = [(option, option.default, option.show_default) for option in options]
        try:
            for option in options:
                group, key = _EFFECTIVE_DEFAULTS[option.name]
                if params:
                    option.default, option.show_default = params[group][key], True
                else:
                    option.show_default = "the profile's" if group == "active_profile" else f"{group}.{key}"
            super().format_options(ctx, formatter)
        finally:
            for option, default, show_default in shown:
                option.default, option.show_default = default, show_default
        if params:
            with formatter.section("Defaults"):
                formatter.write_text(f"as the {params['profile']['name']} profile of ./params.yaml resolves them")


def _sampling_options(command: Any) -> Any:
    """The options ``lamp generate`` and ``lamp animate`` share (defaults: the active profile's, see
    :class:`_ProfileDefaultsCommand`)."""
    options = [
        click.option("--motion", required=True,
                     help="a motion name (its model where the catalog keeps <motion>.motion_model) or a motion-model folder"),
        click.option("--prompt", required=True, help="what the video shows"),
        click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="output .mp4 or .gif  [default: <motion>.mp4]"),
        click.option("--seed", type=int, default=None,
                     help="the video's seed: it draws frame 1 and the noise (an evaluation video's seed is in the "
                          "generate index; it remakes that video)"),
        click.option("--steps", type=click.IntRange(min=1), default=None, help="DDIM steps"),
        click.option("--guidance", type=click.FloatRange(min=0), default=None, help="guidance scale"),
        click.option("--frames", type=click.IntRange(min=2), default=None, help="frame count, frame 1 included"),
        click.option("--height", type=click.IntRange(min=1), default=None,
                     help="a multiple of the model's size multiple"),
        click.option("--width", type=click.IntRange(min=1), default=None,
                     help="a multiple of the model's size multiple"),
        click.option("--project", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
                     show_default=True, help="the project folder (its params.yaml and models)"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _sample(options: dict[str, Any], first_frame: Any) -> None:
    """Load the motion's pipeline, sample one video with ``first_frame`` (None: drawn from the prompt), write it."""
    from lamp.profiles import Profile

    project = options["project"]
    params = project_parameters(project)
    profile = Profile.from_active(params["active_profile"]).in_project(project)
    out = _checked_sampling_arguments(options, params, profile, draws_first_frame=first_frame is None)

    # imported after the checks: diffusers alone takes seconds to import
    from accelerate import PartialState

    from lamp.data import write_video
    from lamp.models.files import MotionModel
    from lamp.sampling.evaluation_set import (DTYPES, draw_first_frame, generate_video, load_first_frame_pipeline,
                                              motion_pipelines)
    from lamp.sampling.settings import FirstFrameSettings, GenerationSettings

    generate = params.get("generate") or {}
    given = {"seed": options["seed"], "num_inference_steps": options["steps"], "guidance_scale": options["guidance"],
             "num_frames": options["frames"], "height": options["height"], "width": options["width"]}
    settings = GenerationSettings.for_profile(generate, profile, **{k: v for k, v in given.items() if v is not None})
    motion_dir = _motion_folder(project, options["motion"])
    try:
        model = MotionModel(motion_dir)
    except FileNotFoundError as error:
        raise click.BadParameter(f"no motion model {options['motion']!r} ({error}): train it first (`dvc repro "
                                 f"train@{motion_dir.name}`) or give the folder of a trained motion model",
                                 param_hint="--motion") from error
    device, dtype = PartialState().device, DTYPES[generate.get("mixed_precision", "no")]
    models = profile.models()
    _, pipe = next(motion_pipelines({motion_dir.name: model}, models["video_base"], device, dtype))
    try:
        pipe.check_size(settings.height, settings.width)  # again: a base whose configs were not readable before loading
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--height/--width") from error
    if first_frame is None:
        drawer = load_first_frame_pipeline(models[profile.first_frame_dataset], device, dtype)
        first = FirstFrameSettings.for_profile(generate)
        first_frame = draw_first_frame(drawer, options["prompt"], first, settings.height, settings.width, settings.seed)
    frames = generate_video(pipe, options["prompt"], first_frame, settings, settings.seed)
    write_video(out, frames, settings.fps)
    click.echo(f"wrote {out} ({len(frames)} frames, {settings.height}x{settings.width}, motion {motion_dir}, "
               f"seed {settings.seed})")


def _checked_sampling_arguments(options: dict[str, Any], params: dict[str, Any], profile: Profile,
                                draws_first_frame: bool) -> Path:
    """The output path, once every check that needs no model has passed (click's types checked the ranges).

    A mistake then costs a second instead of the minutes of loading and sampling before it surfaced; each is
    a usage error naming the option, the value and the fix, and nothing is written.
    """
    out = _writable_video(options["out"] or Path(f"{Path(options['motion']).name}.mp4"), "--out")
    _check_steps(options, params, profile)
    _check_sampling_size(options, params, profile, draws_first_frame)
    return out


def _writable_video(path: Path, option: str) -> Path:
    """``path`` if a video can be written there: a .mp4 or .gif whose folder takes a new file.

    Tried with a file created and removed, not judged from permission bits, which root ignores and
    read-only file systems override. A missing folder is fine where it can be made, as the writer makes it.
    """
    import tempfile

    if path.suffix.lower() not in (".mp4", ".gif"):
        raise click.BadParameter(f"{path}: write a .mp4 or a .gif", param_hint=option)
    folder = next(p for p in path.absolute().parents if p.exists())
    if not folder.is_dir():
        raise click.BadParameter(f"cannot write {path}: {folder} is a file, not a folder; choose another path",
                                 param_hint=option)
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.", suffix=".tmp"):
            pass
    except OSError as error:
        raise click.BadParameter(f"cannot write {path}: a file cannot be created in {folder} ({error.strerror}); "
                                 "choose a folder you can write to", param_hint=option) from error
    return path


def _check_steps(options: dict[str, Any], params: dict[str, Any], profile: Profile) -> None:
    """Refuse more DDIM steps than the base's scheduler has timesteps (where its config can be read here)."""
    from lamp.video_size import scheduler_steps

    steps = options["steps"] or (params.get("generate") or {}).get("num_inference_steps", 50)
    most = scheduler_steps(profile.video_base_model, profile.video_base_revision)
    if most is not None and steps > most:
        raise click.BadParameter(f"{steps} steps: the base model's scheduler has {most} timesteps; give at most "
                                 f"--steps {most}", param_hint="--steps")


def _check_sampling_size(options: dict[str, Any], params: dict[str, Any], profile: Profile,
                         draws_first_frame: bool) -> None:
    """Refuse a size the base model cannot take, or whose sampling this machine cannot hold (lamp.video_size).

    Needs the base's configs here (a local folder or the hub cache); where they are not, the memory is
    not estimated and the pipeline checks the size once loaded.
    """
    from lamp.video_size import (DTYPE_BYTES, base_shape, check_size, model_parameters, pipeline_components,
                                 sampling_memory)

    base, revision = profile.video_base_model, profile.video_base_revision
    shape = base_shape(base, revision)
    if shape is None:
        return
    frames, height, width = (getattr(profile, key) if options[option] is None else options[option]
                             for option, key in (("frames", "n_frames"), ("height", "height"), ("width", "width")))
    try:
        check_size(height, width, shape.size_multiple)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=_given(options, "height", "width")) from error
    parameters = model_parameters(base, ("unet", "vae", "text_encoder"), revision) + _motion_parameters(options)
    if draws_first_frame:  # the text-to-image pipeline stays loaded beside the video pipeline
        drawer = profile.models()[profile.first_frame_dataset]
        parameters += model_parameters(drawer.location, pipeline_components(drawer.location, drawer.revision),
                                       drawer.revision)
    precision = (params.get("generate") or {}).get("mixed_precision", "no")
    memory = sampling_memory(shape, frames, DTYPE_BYTES.get(precision, 4), parameters)
    _check_memory(memory, frames, height, width, shape.size_multiple, _given(options, "height", "width", "frames"))


def _given(options: dict[str, Any], *names: str) -> str:
    """The options of ``names`` given on the command line, as an error names them (none given: the size's two)."""
    return "/".join(f"--{name}" for name in names if options[name] is not None) or "--height/--width"


def _motion_parameters(options: dict[str, Any]) -> int:
    """The motion weights' parameter count, where they are found (:func:`_motion_folder`)."""
    from lamp.models.files import WEIGHTS_NAME
    from lamp.video_size import parameter_count

    return parameter_count(_motion_folder(options["project"], options["motion"]) / WEIGHTS_NAME)


def _motion_folder(project: Path, motion: str) -> Path:
    """``motion`` itself if it is a folder of motion weights, else where the project's catalog keeps the
    dataset ``<motion>.motion_model`` (its configuration read as Kedro reads it; nothing loads)."""
    from lamp.config_loader import LAMPConfigLoader
    from lamp.models.files import WEIGHTS_NAME

    given = Path(motion)
    if (given / WEIGHTS_NAME).is_file():
        return given
    catalog = LAMPConfigLoader(str(project / "conf"), base_env="base", default_run_env="local")["catalog"]
    return project / catalog["{motion}.motion_model"]["path"].format(motion=given.name)


def _check_memory(memory: SamplingMemory, frames: int, height: int, width: int, multiple: int, hint: str) -> None:
    """Refuse a sampling whose estimated peak exceeds the free memory, naming what fits instead."""
    from lamp.video_size import GIB, free_memory

    free, what = free_memory()
    need = memory.total(height, width)
    if need <= free:
        return
    fits = [f"--height {side} at --width {width}" for side in [memory.largest_side(width, free, multiple)] if side]
    fits += [f"--width {side} at --height {height}" for side in [memory.largest_side(height, free, multiple)] if side]
    fix = (f"the largest that fit: {', or '.join(fits)}; or fewer --frames" if fits else
           f"the models alone need {memory.weights / GIB:.1f} GiB: free memory, or use a machine with more")
    raise click.BadParameter(
        f"{height}x{width} with {frames} frames needs about {need / GIB:.1f} GiB to sample (an estimate: "
        f"{memory.weights / GIB:.1f} GiB of weights, the rest the UNet's activations and the decoding), and this "
        f"machine has {free / GIB:.1f} GiB {what}; {fix}", param_hint=hint)


@main.command(cls=_ProfileDefaultsCommand)
@_sampling_options
def generate(**options: Any) -> None:
    """Text to video: the profile's text-to-image model draws frame 1, the motion model animates it."""
    _sample(options, None)


@main.command(cls=_ProfileDefaultsCommand)
@_sampling_options
@click.option("--image", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="frame 1: any size or aspect, resized and centre-cropped to the video size")
def animate(image: Path, **options: Any) -> None:
    """Animate a still image (a photo, a drawing) with a learned motion."""
    _sample(options, _read_image(image))


def _read_image(path: Path) -> Any:
    """``path`` as an RGB PIL image, or a click error naming the file and what would work."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except FileNotFoundError as error:
        raise click.BadParameter(f"{path} does not exist", param_hint="--image") from error
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise click.BadParameter(f"cannot read {path} as an image ({error}); give a PNG, JPEG or WebP", param_hint="--image") from error
    if min(rgb.size) < 8:
        raise click.BadParameter(f"{path} is {rgb.width}x{rgb.height} pixels: too small to animate", param_hint="--image")
    return rgb


@main.command()
@click.option("--video", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the source video, whose motion the edit keeps; another aspect is centre-cropped to the profile's")
@click.option("--prompt", required=True, help="the new content, e.g. 'a man runs on the road'")
@click.option("--first-frame", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="the edited frame 1, resized and centre-cropped  [default: the source's first frame redrawn "
                   "with --prompt: ControlNet + SD-XL (full), image-to-image (mini)]")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("edit.mp4"), show_default=True,
              help="the edit, .mp4 or .gif; <out>_side_by_side beside it shows source | edit")
@click.option("--source-prompt", default="", help="what the source video shows (tuning conditions on it)")
@click.option("--frames", type=click.IntRange(min=2), default=None,
              help="frames of the clip  [default: edit.n_frames or the profile's]")
@click.option("--stride", type=click.IntRange(min=1), default=None, help="take every n-th source frame  [default: edit.stride]")
@click.option("--train-steps", type=click.IntRange(min=1), default=None,
              help="tuning steps  [default: edit.train.max_train_steps]")
@click.option("--seed", type=int, default=None, help="sampling seed  [default: edit.sampling.seed]")
@click.option("--project", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
              show_default=True, help="the project folder (its params.yaml and base models)")
def edit(video: Path, prompt: str, first_frame: Path | None, out: Path, source_prompt: str, frames: int | None,
         stride: int | None, train_steps: int | None, seed: int | None, project: Path) -> None:
    """Edit a video's content to PROMPT while keeping its motion (paper Sec. 5.2).

    Tunes fresh motion layers on the video's clip (the first --frames frames at --stride), DDIM-inverts
    it, and samples PROMPT from the inverted latents with frame 1 held at the edited first frame, as
    `kedro run --pipeline=edit` does (settings from params.yaml `edit`). The tuned model is not kept.
    """
    out = _writable_video(out, "--out")  # before the imports (seconds) and the tuning (minutes); the side-by-side too
    import tempfile

    from accelerate import PartialState

    from lamp.data import write_video
    from lamp.editing import (
        ControlNetSettings,
        EditInputError,
        Img2ImgSettings,
        SamplingSettings,
        edit_video,
        load_first_frame_drawer,
        read_first_frame,
        read_source_clip,
        side_by_side,
        tune_config,
    )
    from lamp.models import LAMPConfig, LAMPVideoUNet
    from lamp.profiles import Profile
    from lamp.sampling import LAMPPipeline

    params = project_parameters(project)
    settings = params.get("edit") or {}
    profile = Profile.from_active(params["active_profile"]).in_project(project)
    n_frames = frames or settings.get("n_frames") or profile.n_frames
    height, width = profile.height, profile.width
    try:
        source = read_source_clip(video, n_frames, stride or settings.get("stride", 2), height, width)
    except EditInputError as error:
        raise click.BadParameter(str(error), param_hint="--video") from error
    try:
        image = read_first_frame(first_frame, height, width) if first_frame else None
    except EditInputError as error:
        raise click.BadParameter(str(error), param_hint="--first-frame") from error

    train = {**settings.get("train", {}), **({"max_train_steps": train_steps} if train_steps else {})}
    tune = tune_config(train, n_frames)
    sampling = SamplingSettings.from_dict({**settings.get("sampling", {}), **({"seed": seed} if seed is not None else {})})
    device = PartialState().device
    base, revision = profile.video_base_model, profile.video_base_revision
    unet = LAMPVideoUNet.from_pretrained(base, LAMPConfig.from_dict(params.get("model")), revision, seed=tune.seed)
    pipe = LAMPPipeline.around(unet, base, revision).to(device)
    draw = None
    if image is None:
        draw = load_first_frame_drawer(profile.models()[profile.first_frame_dataset], settings["first_frame_drawer"],
                                       Img2ImgSettings.from_dict(settings.get("img2img")),
                                       ControlNetSettings.from_dict(settings.get("controlnet")), device)
    with tempfile.TemporaryDirectory() as model_dir:
        result = edit_video(pipe, source, prompt, tune, sampling, model_dir, source_prompt, image, draw)
    write_video(out, result.frames, source.fps)
    both = write_video(out.with_name(f"{out.stem}_side_by_side{out.suffix}"), side_by_side(source.frames, result.frames),
                       source.fps)
    click.echo(f"wrote {out} and {both} ({len(result.frames)} frames, {height}x{width}, from {video})")
