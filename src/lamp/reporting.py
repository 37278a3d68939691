"""Pictures people look at: contact sheets of images or video frames with their labels, an HTML gallery (videos,
ablation, edits), a confusion matrix."""

from __future__ import annotations

import html
import os
import textwrap
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    import pandas as pd

_LABEL_LINE_HEIGHT = 11


def contact_sheet(
    images: np.ndarray | Sequence[np.ndarray],
    labels: Sequence[str] | None = None,
    columns: int = 8,
    scale: int = 1,
    label_lines: int = 3,
) -> Image.Image:
    """A grid of uint8 ``(H, W, 3)`` images, each with its label wrapped beneath it."""
    images = [np.asarray(image) for image in images]
    if not images:
        raise ValueError("a contact sheet needs at least one image")
    height, width = images[0].shape[:2]
    cell_w, cell_h = width * scale, height * scale
    label_h = _LABEL_LINE_HEIGHT * label_lines if labels else 0
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * cell_w, rows * (cell_h + label_h)), "white")
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default()
    chars_per_line = max(8, cell_w // 6)
    for i, image in enumerate(images):
        x, y = (i % columns) * cell_w, (i // columns) * (cell_h + label_h)
        sheet.paste(Image.fromarray(image).resize((cell_w, cell_h), Image.NEAREST), (x, y))
        if labels:
            lines = textwrap.wrap(labels[i], chars_per_line)[:label_lines]
            for j, line in enumerate(lines):
                draw.text((x + 2, y + cell_h + j * _LABEL_LINE_HEIGHT), line, fill="black", font=font)
    return sheet


def video_sheet(videos: Sequence[np.ndarray], labels: Sequence[str], min_cell: int = 128) -> Image.Image:
    """One row per video (its frames left to right), the label under the row's first frame."""
    frames = [frame for video in videos for frame in video]
    per_row = len(videos[0])
    row_labels = [label if i == 0 else "" for label in labels for i in range(per_row)]
    scale = max(1, -(-min_cell // videos[0].shape[2]))
    return contact_sheet(frames, row_labels, columns=per_row, scale=scale)


def gallery_html(title: str, videos: Sequence[dict[str, Any]], page: str | Path,
                 sheets: dict[str, str] | None = None, subtitle: str = "", sections: Sequence[str] = ()) -> str:
    """A static page showing every video (its GIF at 4 x its size, a link to its MP4) with its prompt and
    details, grouped by motion, each motion under its contact sheet (a training clip above the generated rows).

    ``videos``: dicts with ``motion``, ``prompt``, ``gif``, ``mp4`` (paths) and optional ``details`` (lines:
    text, or ``(text, url)`` for a link: the seed, scores, model version); ``sheets``: motion -> its contact sheet; ``subtitle``: a
    line under the title (the commit and date); ``sections``: HTML of further sections, in order
    (:func:`ablation_section`, :func:`edit_section`). Links are made relative to ``page``'s folder so the page
    works wherever the project lies.
    """
    link = partial(_relative, page=page)
    parts = []
    for motion in dict.fromkeys(v["motion"] for v in videos):
        cells = "".join(
            f'<figure><img src="{link(v["gif"])}" alt="{html.escape(v["prompt"])}">'
            f'<figcaption><b>{html.escape(v["prompt"])}</b><br>'
            + "".join(f"{_detail(line)}<br>" for line in v.get("details", ()))
            + f'<a href="{link(v["mp4"])}">mp4</a></figcaption></figure>'
            for v in videos
            if v["motion"] == motion
        )
        sheet = (f'<p><a href="{link(sheets[motion])}"><img class=sheet src="{link(sheets[motion])}" '
                 f'alt="contact sheet of {html.escape(motion)}"></a><br>a training clip of the motion above its generated '
                 "videos</p>" if sheets and motion in sheets else "")
        parts.append(f"<h2>{html.escape(motion)}</h2>{sheet}<div class=row>{cells}</div>")
    style = (
        "body{font-family:sans-serif;margin:1em}.row{display:flex;flex-wrap:wrap;gap:1em}"
        "figure{margin:0;width:256px}img,video{width:256px;image-rendering:pixelated}figcaption{font-size:12px}"
        "img.sheet{width:640px;max-width:100%}video.wide{width:512px}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "td:first-child,td:nth-child(2),th:first-child,th:nth-child(2){text-align:left}"
    )
    head = f"<h1>{html.escape(title)}</h1>" + (f"<p>{html.escape(subtitle)}</p>" if subtitle else "")
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{head}{''.join(parts)}{''.join(sections)}</body></html>\n"
    )


def ablation_section(table: pd.DataFrame, sheet: str | Path, report: str | Path, page: str | Path) -> str:
    """The ablation's part of a gallery: its table (a row per variant), the sheet of its videos and a link to its report."""
    link = partial(_relative, page=page)
    shown = table.to_html(index=False, float_format="{:.1f}".format, border=0)
    return (f"<h2>ablation (the paper's Fig. 5)</h2>{shown}"
            f'<p><a href="{link(sheet)}"><img class=sheet src="{link(sheet)}" alt="the ablation\'s videos"></a><br>'
            f'the first prompt under every variant; <a href="{link(report)}">the report</a></p>')


def edit_section(edits: Sequence[dict[str, Any]], page: str | Path) -> str:
    """The edits' part of a gallery: per edit its side-by-side video (source | edit), prompts and links.

    ``edits``: dicts with ``name``, ``source_prompt``, ``prompt``, ``side_by_side``, ``mp4``, ``gif`` (paths)
    and ``details`` lines. The side by side is an MP4 (a ``<video>``), the only form the edit stage writes it in.
    """
    link = partial(_relative, page=page)
    cells = "".join(
        f'<figure style="width:512px"><video class=wide src="{link(e["side_by_side"])}" autoplay loop muted playsinline '
        f'controls></video><figcaption><b>{html.escape(e["name"])}</b>: {html.escape(e["source_prompt"])} &rarr; '
        f'<b>{html.escape(e["prompt"])}</b><br>' + "".join(f"{_detail(line)}<br>" for line in e.get("details", ()))
        + f'<a href="{link(e["gif"])}">gif</a> · <a href="{link(e["mp4"])}">mp4</a> (the edit alone)</figcaption></figure>'
        for e in edits
    )
    return f"<h2>video edits (source | edit)</h2><div class=row>{cells}</div>" if edits else ""


def _relative(path: str | Path, page: str | Path) -> str:
    return html.escape(Path(os.path.relpath(path, Path(page).parent)).as_posix())


def _detail(line: str | tuple[str, str]) -> str:
    if isinstance(line, str):
        return html.escape(line)
    text, url = line
    return f'<a href="{html.escape(url)}">{html.escape(text)}</a>'


def confusion_figure(table: pd.DataFrame) -> Image.Image:
    """A confusion matrix (rows: the motion a video was made for; columns: what it was recognised as) as an image."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = table.to_numpy()
    figure, axes = plt.subplots(figsize=(1.0 + 0.75 * counts.shape[1], 1.0 + 0.6 * counts.shape[0]), dpi=100)
    axes.imshow(counts, cmap="Blues", vmin=0)
    axes.set_xticks(range(counts.shape[1]), table.columns, rotation=45, ha="right")
    axes.set_yticks(range(counts.shape[0]), table.index)
    axes.set_xlabel("recognised as")
    axes.set_ylabel("generated for")
    for (row, column), count in np.ndenumerate(counts):
        axes.text(column, row, str(count), ha="center", va="center",
                  color="white" if count > counts.max() / 2 else "black", fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
