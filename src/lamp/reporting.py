"""Pictures people look at: contact sheets of images or video frames with their labels."""

from __future__ import annotations

import textwrap
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

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
