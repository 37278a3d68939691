"""``kedro run --pipeline=edit``: for each edit of the profile, tune on its video, invert it, redraw frame 1, sample.

Each edit is a Kedro namespace (``--namespaces=horse_run``). DVC runs an edit as two stages:
``edit_model@<edit>`` (nodes ``source_clip``, ``tune_motion``, ``tune_metrics``, ``invert_source_clip``:
the tuned motion weights and the inverted latents, which depend on the source video only) and
``edit@<edit>`` (``source_clip``, ``edited_first_frame``, ``sample_edited_video``, ``edit_metrics``),
so a new prompt reuses the tuned model and the inversion.
"""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.edit.nodes import edited_first_frame, invert_source_clip, sample_edited_video, source_clip, tune_motion
from lamp.pipelines.motions import bound, first_frame_dataset, project_edits
from lamp.records import numeric_entries

SHARED = {"params:active_profile", "params:model", "params:edit"}
MODELS = {"video_base", first_frame_dataset()}  # shared by every edit, not namespaced


def edit_template(name: str) -> Pipeline:
    """The nodes of one edit, its name bound (each edit reads its own entry of the profile's ``edits``)."""
    return Pipeline(
        [
            Node(bound(source_clip, name=name), ["params:edit", "params:active_profile"], "edit_source",
                 name="source_clip"),
            Node(
                bound(tune_motion, name=name),
                ["edit_source", "video_base", "params:active_profile", "params:model", "params:edit"],
                ["edit_motion_model", "edit_tune_summary"],
                name="tune_motion",
            ),
            Node(numeric_entries, "edit_tune_summary", "edit_tune_metrics", name="tune_metrics"),
            Node(
                bound(invert_source_clip, name=name),
                ["edit_source", "edit_motion_model", "video_base", "params:edit"],
                "edit_inverted_latents",
                name="invert_source_clip",
            ),
            Node(
                bound(edited_first_frame, name=name),
                ["edit_source", first_frame_dataset(), "params:active_profile", "params:edit"],
                "edit_first_frame",
                name="edited_first_frame",
            ),
            Node(
                bound(sample_edited_video, name=name),
                ["edit_source", "edit_first_frame", "edit_inverted_latents", "edit_motion_model", "video_base",
                 "params:active_profile", "params:edit"],
                ["edit_mp4", "edit_gif", "edit_side_by_side", "edit_report"],
                name="sample_edited_video",
            ),
            Node(numeric_entries, "edit_report", "edit_metrics", name="edit_metrics"),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return sum(
        (Pipeline(edit_template(name), namespace=name, inputs=MODELS, parameters=SHARED) for name in project_edits()),
        Pipeline([]),
    )
