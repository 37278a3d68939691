"""``kedro run --pipeline=edit``: tune on ``edit.video``, invert it, redraw frame 1, sample ``edit.prompt``.

DVC runs it as two stages: ``edit_model`` (:data:`MODEL_NODES`: the tuned motion weights and the
inverted latents, which depend on the source video only) and ``edit`` (:data:`VIDEO_NODES`: the
first frame and the video), so a new prompt reuses the tuned model and the inversion.
"""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.edit.nodes import edited_first_frame, invert_source_clip, sample_edited_video, source_clip, tune_motion

MODEL_NODES = ("source_clip", "tune_motion", "invert_source_clip")
VIDEO_NODES = ("source_clip", "edited_first_frame", "sample_edited_video")


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(source_clip, ["params:edit", "params:active_profile"], "edit_source", name="source_clip"),
            Node(
                tune_motion,
                ["edit_source", "params:active_profile", "params:model", "params:edit"],
                "edit_tune_summary",
                name="tune_motion",
            ),
            Node(
                invert_source_clip,
                ["edit_source", "edit_tune_summary", "params:active_profile", "params:edit"],
                "edit_inverted_latents",
                name="invert_source_clip",
            ),
            Node(
                edited_first_frame,
                ["edit_source", "params:active_profile", "params:edit"],
                "edit_first_frame",
                name="edited_first_frame",
            ),
            Node(
                sample_edited_video,
                ["edit_source", "edit_first_frame", "edit_inverted_latents", "params:active_profile", "params:edit"],
                ["edit_mp4", "edit_gif", "edit_side_by_side", "edit_report"],
                name="sample_edited_video",
            ),
        ]
    )
