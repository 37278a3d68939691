"""``kedro run --pipeline=ablate``: the paper's Fig. 5 variants on ``ablate.motions`` x ``ablate.prompts_per_motion``.

One MLflow run (kedro-mlflow's) with a child run per variant.
"""

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.ablate.nodes import (
    ablation_prompts,
    ablation_report,
    ablation_reports,
    run_ablation,
    variant_sheet,
)
from lamp.pipelines.motions import chosen_motions


def create_pipeline(**kwargs) -> Pipeline:
    motion_data = {}
    for motion in chosen_motions("ablate"):  # only the motions ablated: their data, and models of the full method
        for what in ("latents", "text_embeddings", "motion_model"):
            motion_data[f"{motion}__{what}"] = f"{motion}.{what}"
    return Pipeline(
        [
            Node(ablation_prompts, ["evaluation_prompts", "params:ablate"], "ablation_prompts", name="ablation_prompts"),
            Node(
                run_ablation,
                {
                    "prompts": "ablation_prompts",
                    "first_frames": "first_frames",
                    "references": "motion_references",
                    "classifier": "motion_classifier",
                    "thresholds": "frame_one_thresholds",
                    "video_base": "video_base",
                    "clip_model": "clip_model",
                    "active_profile": "params:active_profile",
                    "model": "params:model",
                    "data": "params:data",
                    "train": "params:train",
                    "generate": "params:generate",
                    "ablate": "params:ablate",
                    **motion_data,
                },
                ["ablation_videos", "ablation_table", "ablation_per_motion"],
                name="run_ablation",
            ),
            Node(ablation_report, ["ablation_table", "ablation_per_motion", "params:active_profile"], "ablation_report",
                 name="ablation_report"),
            Node(variant_sheet, ["ablation_videos", "ablation_table", "ablation_prompts"], "ablation_sheet",
                 name="variant_sheet"),
            Node(ablation_reports, ["ablation_table", "ablation_per_motion", "ablation_report", "ablation_sheet"],
                 "ablation_reports", name="ablation_reports"),
        ]
    )
