"""``kedro run --pipeline=synthesize``: the mini profile's procedural, seeded data.

One node per motion (``--namespaces=rain`` writes only rain's videos), so DVC can own each
motion's video folder in its own stage.
"""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.motions import bound, project_parameters
from lamp.pipelines.synthesize.nodes import synthesize_eval_prompts, synthesize_stills, synthesize_videos, video_index


def create_pipeline(**kwargs) -> Pipeline:
    motions = project_parameters().get("synthesize", {}).get("motions") or []
    per_motion = [
        Pipeline(
            [Node(bound(synthesize_videos, motion=motion), inputs={"synthesize": "params:synthesize"},
                  outputs=["video_index", "videos"], name="synthesize_videos")],
            namespace=motion,
            parameters={"params:synthesize"},
        )
        for motion in motions
    ]
    shared = [
        Node(synthesize_stills, inputs="params:synthesize", outputs="mini_still_captions", name="synthesize_stills"),
        Node(
            synthesize_eval_prompts,
            inputs=["params:synthesize", "params:active_profile"],
            outputs="prompts_file",
            name="synthesize_eval_prompts",
        ),
        Node(
            video_index,
            inputs=[f"{motion}.video_index" for motion in motions],
            outputs="mini_video_index",
            name="video_index",
        ),
    ]
    return sum(per_motion, Pipeline(shared))
