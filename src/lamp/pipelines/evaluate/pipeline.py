"""``kedro run --pipeline=evaluate``: score the videos of ``generate``."""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.evaluate.nodes import (
    evaluate_videos,
    evaluation_reports,
    frame_one_references,
    motion_classifier,
    motion_references,
)
from lamp.pipelines.motions import project_motions


def create_pipeline(**kwargs) -> Pipeline:
    clips = {motion: f"{motion}.clips" for motion in project_motions()}
    return Pipeline(
        [
            Node(motion_references, {"data": "params:data", **clips}, "motion_references", name="motion_references"),
            Node(motion_classifier, {"data": "params:data", "active_profile": "params:active_profile", **clips},
                 "motion_classifier", name="motion_classifier"),
            Node(frame_one_references, {"data": "params:data", "fps": "params:generate.fps", "clip_model": "clip_model",
                                        "active_profile": "params:active_profile", **clips},
                 "frame_one_thresholds", name="frame_one_references"),
            Node(
                evaluate_videos,
                ["generated_mp4", "generated_index", "motion_references", "motion_classifier", "frame_one_thresholds",
                 "clip_model", "params:active_profile"],
                ["evaluation_per_video", "evaluation_per_motion", "evaluation_metrics"],
                name="evaluate_videos",
            ),
            Node(evaluation_reports, ["evaluation_per_video", "evaluation_per_motion", "evaluation_metrics",
                                      "params:active_profile"], "evaluation_reports", name="evaluation_reports"),
        ]
    )
