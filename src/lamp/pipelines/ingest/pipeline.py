"""``kedro run --pipeline=ingest``: per motion, validate and resize; then one report of every file.

``kedro run --pipelines=ingest --namespaces=rain`` runs one motion.
"""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.ingest.nodes import checked_clips, ingest_report, scan_videos
from lamp.pipelines.motions import per_motion, project_motions


def create_pipeline(**kwargs) -> Pipeline:
    template = Pipeline(
        [
            Node(
                scan_videos,
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
    report = Node(
        ingest_report,
        inputs=[f"{motion}.ingest_report" for motion in project_motions()],
        outputs="ingest_report",
        name="ingest_report",
    )
    return per_motion(template, {"params:active_profile", "params:data"}) + Pipeline([report])
