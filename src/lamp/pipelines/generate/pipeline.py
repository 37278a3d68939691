"""``kedro run --pipeline=generate``: the evaluation set, one video per prompt of the profile's prompts file.

``make_first_frames`` runs alone as DVC stage ``first_frames`` so that a new video model reuses the
first frames; the rest is stage ``generate``.
"""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.generate.nodes import evaluation_prompts, generate_videos, make_first_frames, motion_sheets
from lamp.pipelines.motions import chosen_motions, first_frame_dataset, motion_models, project_motions


def create_pipeline(**kwargs) -> Pipeline:
    models = motion_models(chosen_motions("generate"))
    return Pipeline(
        [
            Node(evaluation_prompts, ["prompts_file", "params:active_profile", "params:generate"],
                 "evaluation_prompts", name="evaluation_prompts"),
            Node(make_first_frames, ["evaluation_prompts", first_frame_dataset(), "params:active_profile", "params:generate"],
                 "first_frames", name="make_first_frames"),
            Node(
                generate_videos,
                {"prompts": "evaluation_prompts", "first_frames": "first_frames", "video_base": "video_base",
                 "active_profile": "params:active_profile", "generate": "params:generate", **models},
                ["generated_mp4", "generated_gif", "generated_index"],
                name="generate_videos",
            ),
            Node(motion_sheets, {"videos": "generated_mp4", "index": "generated_index", "active_profile": "params:active_profile",
                                 "data": "params:data", **{m: f"{m}.clips" for m in project_motions()}},
                 "generated_sheets", name="motion_sheets"),
        ]
    )
