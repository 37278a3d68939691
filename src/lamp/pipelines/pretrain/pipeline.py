"""``kedro run --pipeline=pretrain``: the mini base models, trained on the mini world's stills.

They are the mini profile's ``video_base`` (also its text-to-image model) and ``clip_model``.
"""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.pretrain.nodes import (
    check_mini_base,
    pretrain_clip,
    pretrain_text_to_image,
    pretrain_vae,
    pretraining_data,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                pretraining_data,
                inputs=["mini_still_captions", "mini_video_index", "params:synthesize", "params:active_profile", "params:pretrain"],
                outputs="pretraining_data",
                name="pretraining_data",
            ),
            Node(
                pretrain_vae,
                inputs=["pretraining_data", "params:active_profile", "params:pretrain"],
                outputs=["mini_vae", "vae_metrics"],
                name="pretrain_vae",
            ),
            Node(
                pretrain_text_to_image,
                inputs=["pretraining_data", "mini_vae", "params:active_profile", "params:pretrain"],
                outputs=["video_base", "text_to_image_metrics"],
                name="pretrain_text_to_image",
            ),
            Node(
                pretrain_clip,
                inputs=["pretraining_data", "params:pretrain"],
                outputs=["clip_model", "clip_metrics"],
                name="pretrain_clip",
            ),
            Node(
                check_mini_base,
                inputs=[
                    "video_base",
                    "clip_model",
                    "prompts_file",
                    "vae_metrics",
                    "text_to_image_metrics",
                    "clip_metrics",
                    "params:active_profile",
                    "params:pretrain",
                ],
                outputs=["mini_base_samples", "pretrain_metrics", "pretrain_mlflow_metrics"],
                name="check_mini_base",
            ),
        ]
    )
