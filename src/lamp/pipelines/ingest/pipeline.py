"""``kedro run --pipeline=ingest``: per motion, validate and resize; then one report of every file.

``kedro run --pipelines=ingest --namespaces=rain`` runs one motion.
"""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.ingest.nodes import checked_clips, ingest_report, scan_videos
from lamp.pipelines.motions import bound, project_motions

SHARED = {"params:active_profile", "params:data"}


def ingest_template(motion: str) -> Pipeline:
    """One motion's nodes, its name bound: the folder ``<motion>.videos`` may have any name."""
    return Pipeline(
        [
            Node(
                bound(scan_videos, motion=motion),
                inputs=["videos", "params:active_profile", "params:data"],
                outputs=["manifest", "ingest_report", "scan"],
                name="scan_videos",
            ),
            Node(
                checked_clips,
                inputs=["scan", "manifest", "params:active_profile", "params:data"],
                outputs=["clips", "ingest_summary"],
                name="checked_clips",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    motions = project_motions()
    report = Node(
        ingest_report,
        inputs=[f"{motion}.ingest_report" for motion in motions],
        outputs="ingest_report",
        name="ingest_report",
    )
    per_motion = [Pipeline(ingest_template(m), namespace=m, parameters=SHARED) for m in motions]
    return sum(per_motion, Pipeline([])) + Pipeline([report])
