"""``kedro run --pipeline=report``: the gallery, once the evaluation set is scored, the ablation run and the edits made."""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.motions import project_edits
from lamp.pipelines.report.nodes import gallery


def create_pipeline(**kwargs) -> Pipeline:
    edits = {name: f"{name}.edit_report" for name in project_edits()}
    return Pipeline(
        [
            Node(gallery, {"index": "generated_index", "evaluation": "evaluation_reports", "ablation": "ablation_reports",
                           "active_profile": "params:active_profile", **edits}, "gallery", name="gallery"),
        ]
    )
