"""``kedro run --pipeline=model_card``: inflate the profile's base UNet and check it."""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.model_card.nodes import model_card
from lamp.records import numeric_entries


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                model_card,
                inputs=["video_base", "params:active_profile", "params:model", "params:model_card"],
                outputs="model_card",
                name="model_card",
            ),
            Node(numeric_entries, "model_card", "model_card_metrics", name="model_card_metrics"),
        ]
    )
