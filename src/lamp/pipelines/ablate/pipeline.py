"""``kedro run --pipeline=ablate``: the paper's Fig. 5 variants on ``ablate.motions`` x ``ablate.prompts_per_motion``.

One node per variant (``<variant>.ablate_variant``, an MLflow child run of the pipeline's run), each
writing its videos to ``<variant>.ablation_videos``; then the table, the report and the sheet of all.
"""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from lamp.pipelines.ablate.nodes import ablate_variant, ablation_prompts, ablation_report, ablation_reports, stacked, variant_sheet
from lamp.lineage import link_to_evaluation
from lamp.pipelines.motions import bound, chosen_motions, project_parameters


def chosen_variants(ablate: dict[str, Any]) -> list[str]:
    """``ablate.variants``' names, or only those ``ablate.run_variants`` names, in that order."""
    chosen = ablate.get("run_variants")
    if not chosen:
        return list(ablate.get("variants") or {})
    unknown = sorted(set(chosen) - set(ablate["variants"]))
    if unknown:
        raise ValueError(f"ablate.run_variants names {unknown}, which ablate.variants does not define: {sorted(ablate['variants'])}")
    return list(chosen)


def create_pipeline(**kwargs) -> Pipeline:
    motion_data = {}
    for motion in chosen_motions("ablate"):  # only the motions ablated: their data, and models of the full method
        for what in ("latents", "text_embeddings", "motion_model"):
            motion_data[f"{motion}__{what}"] = f"{motion}.{what}"
    variants = chosen_variants(project_parameters().get("ablate") or {})
    inputs = {
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
    }
    per_variant = [
        Node(bound(ablate_variant, name=name), inputs,
             [f"{name}.ablation_videos", f"{name}.ablation_row", f"{name}.ablation_per_motion"],
             name=f"{name}.ablate_variant")
        for name in variants
    ]
    return Pipeline(
        [
            Node(ablation_prompts, ["evaluation_prompts", "params:ablate"], "ablation_prompts", name="ablation_prompts"),
            # the pipeline's MLflow run names the evaluation whose classifier and references score the variants
            Node(link_to_evaluation, "motion_classifier", None, name="link_to_evaluation"),
            *per_variant,
            Node(stacked, [f"{name}.ablation_row" for name in variants], "ablation_table", name="stack_ablation_rows"),
            Node(stacked, [f"{name}.ablation_per_motion" for name in variants], "ablation_per_motion",
                 name="stack_ablation_per_motion"),
            Node(ablation_report, ["ablation_table", "ablation_per_motion", "params:active_profile"], "ablation_report",
                 name="ablation_report"),
            Node(variant_sheet, {"table": "ablation_table", "prompts": "ablation_prompts",
                                 **{name: f"{name}.ablation_videos" for name in variants}},
                 "ablation_sheet", name="variant_sheet"),
            Node(ablation_reports, ["ablation_table", "ablation_per_motion", "ablation_report", "ablation_sheet"],
                 "ablation_reports", name="ablation_reports"),
        ]
    )
