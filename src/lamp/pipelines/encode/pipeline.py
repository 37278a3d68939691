"""``kedro run --pipeline=encode``: cached latents and text embeddings per motion."""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.encode.nodes import encode_latents, encode_text
from lamp.pipelines.motions import per_motion


def create_pipeline(**kwargs) -> Pipeline:
    template = Pipeline(
        [
            Node(
                encode_latents,
                inputs=["clips", "video_base", "params:data", "params:encode"],
                outputs="latents",
                name="encode_latents",
            ),
            Node(
                encode_text,
                inputs=["ingest_summary", "video_base"],
                outputs="text_embeddings",
                name="encode_text",
            ),
        ]
    )
    return per_motion(template, {"video_base", "params:data", "params:encode"})
