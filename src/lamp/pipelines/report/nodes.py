"""Nodes of the ``report`` pipeline."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd

from lamp.lineage import MODEL_VERSION_TAG, generation_run, git_commit
from lamp.profiles import Profile
from lamp.reporting import ablation_section, edit_section, gallery_html

# The catalog's folders of what the gallery shows and the page itself (conf/base/catalog.yml,
# catalog_edit.yml), under data/<profile>/, which the page links relatively; tests check that every link resolves.
MP4_DIR, GIF_DIR = "data/{profile}/07_model_output/generate/mp4", "data/{profile}/07_model_output/generate/gif"
GALLERY, SHEETS_DIR = "data/{profile}/08_reporting/gallery.html", "data/{profile}/08_reporting/generate"
ABLATION_DIR, EDIT_DIR = "data/{profile}/08_reporting/ablation", "data/{profile}/07_model_output/edit/{edit}"
#: Where a model version's page opens: ``mlflow ui`` on its default address.
MLFLOW_UI = "http://127.0.0.1:5000"
#: The ablation table's columns the gallery shows (ablation.md has them all).
ABLATION_COLUMNS = ["variant", "changes", "motion_recognition", "keeps_frame1", "motion_fidelity", "text_alignment",
                    "frame_consistency"]


def gallery(
    index: pd.DataFrame,
    evaluation: dict[str, Any],
    ablation: dict[str, Any],
    active_profile: dict[str, Any],
    **edit_reports: dict[str, Any],
) -> str:
    """The page a researcher sends a colleague: every generated video (GIF, MP4) with its prompt, seed,
    scores and the registered model version that made it (a link into ``mlflow ui``), each motion under
    its contact sheet (a training clip above the generated rows); then the ablation's table and videos and
    each edit's source | edit video; the commit and date on top.

    The model versions are those the run that generated these videos used (:func:`lamp.lineage.generation_run`);
    ``evaluation`` and ``ablation``: their report sets (every video's scores are ``per_video.csv``);
    ``edit_reports``: each edit's report (``<edit>.edit_report``), by edit name.
    """
    profile = Profile.from_active(active_profile)
    run = generation_run(index)
    tags = run.data.tags if run else {}
    scores = evaluation["per_video.csv"].set_index("video_id")
    gif_dir, mp4_dir = (d.format(profile=profile.name) for d in (GIF_DIR, MP4_DIR))

    def details(row: Any) -> list[Any]:
        score = scores.loc[row.video_id]
        seen = "recognised" if score.recognised_as == row.motion else f"recognised as {score.recognised_as}"
        kept = "keeps frame 1" if score.keeps_frame1 else "does not keep frame 1"
        version = tags.get(f"{MODEL_VERSION_TAG}{row.motion}", "unregistered")
        lines = [f"seed {row.seed}", f"{seen}; motion fidelity {score.motion_fidelity:.0f}",
                 f"{kept} (colour {score.frame1_colour:.0f}, CLIP {score.frame1_clip:.0f})",
                 f"text alignment {score.text_alignment:.1f}"]
        if version.isdigit():
            return [*lines, (f"lamp-{row.motion} v{version}", f"{MLFLOW_UI}/#/models/lamp-{row.motion}/versions/{version}")]
        return [*lines, f"lamp-{row.motion}: {version}"]

    videos = [{"motion": row.motion, "prompt": row.prompt, "gif": f"{gif_dir}/{row.video}.gif",
               "mp4": f"{mp4_dir}/{row.video}.mp4", "details": details(row)} for row in index.itertuples()]
    sheets = {motion: f"{SHEETS_DIR.format(profile=profile.name)}/{motion}.png" for motion in dict.fromkeys(index.motion)}
    page = GALLERY.format(profile=profile.name)
    sections = [_ablation(ablation, profile, page), _edits(edit_reports, profile, page)]
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    generated = f"generate run {run.info.run_id}" if run else "generate run not tracked"
    subtitle = f"commit {git_commit()} · made {made} · {generated} · model versions open in mlflow ui ({MLFLOW_UI})"
    return gallery_html(f"LAMP evaluation set ({profile.name} profile)", videos, page, sheets, subtitle, sections)


def _ablation(reports: dict[str, Any], profile: Profile, page: str) -> str:
    folder = ABLATION_DIR.format(profile=profile.name)
    table = reports["ablation.csv"]
    return ablation_section(table[[c for c in ABLATION_COLUMNS if c in table]], f"{folder}/variants.png",
                            f"{folder}/ablation.md", page)


def _edits(reports: dict[str, dict[str, Any]], profile: Profile, page: str) -> str:
    edits = []
    for name, report in reports.items():
        folder = EDIT_DIR.format(profile=profile.name, edit=name)
        edits.append({
            "name": name, "source_prompt": profile.edits[name]["source_prompt"], "prompt": report["prompt"],
            "side_by_side": f"{folder}/side_by_side.mp4", "mp4": f"{folder}/edit.mp4", "gif": f"{folder}/edit.gif",
            "details": [f"{report['video']}, {report['frames']} frames at {report['height']} x {report['width']}",
                        f"frame 1: {report['first_frame']}"],
        })
    return edit_section(edits, page)
