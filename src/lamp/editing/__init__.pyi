from .edit import EditResult, edit_video, invert_source, sample_edit, side_by_side
from .first_frame import (
    FirstFrameDrawer,
    canny_edges,
    controlnet_first_frame,
    img2img_first_frame,
    load_controlnet_pipeline,
    load_first_frame_drawer,
)
from .inversion import ddim_invert, inverse_scheduler
from .settings import ControlNetSettings, Img2ImgSettings, SamplingSettings, tune_config
from .source import EditInputError, SourceClip, read_first_frame, read_source_clip
from .tuning import SOURCE, clean_latents, encode_source, tune_on_source

__all__ = [
    "SOURCE",
    "ControlNetSettings",
    "EditInputError",
    "EditResult",
    "FirstFrameDrawer",
    "Img2ImgSettings",
    "SamplingSettings",
    "SourceClip",
    "canny_edges",
    "clean_latents",
    "controlnet_first_frame",
    "ddim_invert",
    "edit_video",
    "encode_source",
    "img2img_first_frame",
    "inverse_scheduler",
    "invert_source",
    "load_controlnet_pipeline",
    "load_first_frame_drawer",
    "read_first_frame",
    "read_source_clip",
    "sample_edit",
    "side_by_side",
    "tune_config",
    "tune_on_source",
]
