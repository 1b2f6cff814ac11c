"""A strip of every GAN's samples for the top of a leaderboard table: one row per GAN,
a few tiles per class, each tile enlarged to at least :data:`MIN_TILE` pixels with
nearest-neighbour (every generated pixel becomes an equal square block: nothing is
smoothed that the GAN did not draw), class names above, GAN names on the left.

The tiles are cut from each cell's sample grid (``samples.png``, written by
:func:`ganbench.runner.cell.save_sample_grid`: one row per class present, in label
order, tiles of the data's resolution with :data:`GRID_PADDING` white pixels between).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Sequence

from PIL import Image, ImageDraw, ImageFont

#: Smallest tile side (pixels) in the strip.
MIN_TILE = 96
#: White pixels around every tile of a sample grid (save_sample_grid's default).
GRID_PADDING = 2
#: Tiles in one GAN's row over all classes: eight 96 px tiles fit a page's width.
TILES_PER_ROW = 8
GAP = 4  # between tiles of one class
CLASS_GAP = 12  # between classes
MARGIN = 8
FONT_SIZE = 14


def grid_tiles(grid: Image.Image, resolution: int, padding: int = GRID_PADDING) -> list[list[Image.Image]]:
    """The tiles of a sample grid by row (class): ``rows x columns`` images of
    ``resolution`` px, in the grid's mode. Raises ValueError when the grid's size is not
    ``padding + n * (resolution + padding)`` both ways (another layout, another resolution)."""
    width, height = grid.size
    step = resolution + padding
    if resolution < 1 or (width - padding) % step or (height - padding) % step or width <= padding or height <= padding:
        raise ValueError(f"a {width}x{height} grid is not made of {resolution} px tiles with {padding} px padding")
    columns, rows = (width - padding) // step, (height - padding) // step
    return [
        [
            grid.crop((padding + c * step, padding + r * step, padding + c * step + resolution, padding + r * step + resolution))
            for c in range(columns)
        ]
        for r in range(rows)
    ]


def scale_for(resolution: int) -> int:
    """The integer factor that makes a tile at least :data:`MIN_TILE` px (1 for large tiles)."""
    return max(1, math.ceil(MIN_TILE / resolution))


def label_font(size: int = FONT_SIZE) -> ImageFont.ImageFont:
    """Pillow's default font; a scalable one where Pillow has FreeType (10.1 and later)."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow 10.0, or built without FreeType
        return ImageFont.load_default()


def draw_strip(
    rows: Sequence[tuple[str, Optional[list[list[Image.Image]]]]],
    class_labels: Sequence[str],
    resolution: int,
    path: Path,
) -> list[tuple[str, int, tuple[int, int, int, int]]]:
    """Write the strip of ``rows`` (GAN name, its tiles by class as :func:`grid_tiles`
    gives them, or None when its grid is missing) to ``path`` (PNG, RGB). Returns where
    each tile went: (GAN, class index, (left, top, right, bottom) in the strip).

    ``class_labels`` names the classes, one per grid row; a grid with more rows than
    labels has its extra rows called ``class <index>``."""
    n_classes = max([len(tiles) for _, tiles in rows if tiles] + [len(class_labels), 1])
    available = min([len(t[0]) for _, t in rows if t and t[0]] or [1])
    per_class = max(1, min(TILES_PER_ROW // n_classes, available))
    labels = [class_labels[i] if i < len(class_labels) else f"class {i}" for i in range(n_classes)]
    scale = scale_for(resolution)
    side = resolution * scale
    group = per_class * side + (per_class - 1) * GAP

    font = label_font()
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_height = FONT_SIZE + 6
    name_width = max(int(measure.textlength(name, font=font)) for name, _ in rows) + 2 * MARGIN
    width = name_width + n_classes * group + (n_classes - 1) * CLASS_GAP + MARGIN
    height = MARGIN + text_height + len(rows) * (side + GAP) + MARGIN
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    placed = []

    for c, label in enumerate(labels):
        left = name_width + c * (group + CLASS_GAP)
        # Cut a label wider than its tiles rather than let it run into the next class.
        while len(label) > 1 and measure.textlength(label, font=font) > group:
            label = label[:-1]
        draw.text((left, MARGIN), label, fill="black", font=font)
    for r, (name, tiles) in enumerate(rows):
        top = MARGIN + text_height + r * (side + GAP)
        draw.text((MARGIN, top + side // 2 - FONT_SIZE // 2), name, fill="black", font=font)
        if not tiles:
            draw.text((name_width, top + side // 2 - FONT_SIZE // 2), "no sample grid", fill="grey", font=font)
            continue
        for c, class_tiles in enumerate(tiles[:n_classes]):
            for i, tile in enumerate(class_tiles[:per_class]):
                left = name_width + c * (group + CLASS_GAP) + i * (side + GAP)
                canvas.paste(tile.convert("RGB").resize((side, side), Image.Resampling.NEAREST), (left, top))
                placed.append((name, c, (left, top, left + side, top + side)))
    canvas.save(path)
    return placed
