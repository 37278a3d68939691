"""``kedro run --pipeline=train``: one motion model per motion (``--namespaces=rain`` trains one).

Each ``kedro run`` is one MLflow run (kedro-mlflow), so the DVC stage ``train@<motion>`` gives one
MLflow run per motion model.
"""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.motions import per_motion
from lamp.pipelines.train.nodes import train_motion_model
from lamp.records import numeric_entries

SHARED = {"video_base", "params:active_profile", "params:model", "params:data", "params:train"}


def create_pipeline(**kwargs) -> Pipeline:
    template = Pipeline(
        [
            Node(
                train_motion_model,
                inputs=[
                    "latents",
                    "text_embeddings",
                    "ingest_summary",
                    "video_base",
                    "params:active_profile",
                    "params:model",
                    "params:data",
                    "params:train",
                ],
                outputs=["motion_model", "train_summary"],
                name="train_motion_model",
            ),
            Node(numeric_entries, "train_summary", "train_metrics", name="train_metrics"),
        ]
    )
    return per_motion(template, SHARED)
