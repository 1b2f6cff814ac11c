"""The pictures a leaderboard shows and links: a strip of every GAN's samples and a
summary figure per table, and each GAN's sample grid and training-loss curves, copied and
drawn from the artifacts of one cell (the lowest seed) into a folder beside the markdown,
so that a published leaderboard carries its own images.

The markdown names these files from the result rows alone (:func:`asset_name`,
:func:`table_asset_name`), so it can be rendered again from an exported results file,
without the artifacts; rendered that way, the strip is drawn from the sample grids an
earlier rendering copied into the folder, and the figure from the rows.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from PIL import Image

from .aggregate import Table, is_integer
from .strip import draw_strip, grid_tiles
from .summary_figure import summary_points, write_summary_figure

if TYPE_CHECKING:
    from ..registry import Registry

KINDS = ("samples", "losses")
#: Pictures of a whole table: the samples strip and the summary figure.
TABLE_KINDS = ("strip", "summary")
#: Loss curves are smoothed over this many steps: single GAN steps are too noisy to read.
SMOOTHING = 25


def _prefix(table: Table) -> str:
    g = table.group
    variant = f"-{g.variant}" if g.variant else ""
    tag = f"-{table.tag}" if table.tag else ""
    return f"{g.dataset}-{g.profile}{variant}{tag}"


def asset_name(table: Table, gan: str, kind: str) -> str:
    """``<dataset>-<profile>[-<variant>][-<tag>]-<gan>-<kind>.png``: one file per table and GAN."""
    return f"{_prefix(table)}-{gan}-{kind}.png"


def table_asset_name(table: Table, kind: str) -> str:
    """``<dataset>-<profile>[-<variant>][-<tag>]-<kind>.png`` for a picture of the whole
    table (:data:`TABLE_KINDS`); a GAN's pictures always end in one of :data:`KINDS`."""
    return f"{_prefix(table)}-{kind}.png"


def source_artifacts(table: Table, gan: str) -> Optional[str]:
    """The artifacts folder (relative to the results dir) of the GAN's lowest finished seed."""
    finished = [
        r for r in table.rows
        if r["gan"] == gan and r["status"] == "ok" and isinstance(r.get("artifacts_dir"), str) and is_integer(r["seed"])
    ]
    if not finished:
        return None
    return min(finished, key=lambda r: (r["seed"], r["id"]))["artifacts_dir"]


def strip_gans(table: Table) -> list[str]:
    """The GANs of the table's samples strip: those with a finished cell (a sample grid)."""
    return [gan for gan in table.gans() if source_artifacts(table, gan) is not None]


def has_strip(table: Table) -> bool:
    return table.resolution is not None and bool(strip_gans(table))


def write_assets(tables: list[Table], results_dir: Optional[Path], assets_dir: Path, registry: Optional["Registry"] = None) -> list[Path]:
    """Copy sample grids and draw loss curves for every GAN of every table, then each
    table's samples strip and (with ``registry``) its summary figure.

    ``results_dir`` is where the rows' artifacts lie; None (or an exported .jsonl file)
    for none: then only the figure is drawn, and the strip from grids already in
    ``assets_dir``. A GAN whose artifacts are missing is skipped."""
    written = []
    for table in tables:
        for gan in table.gans():
            artifacts = source_artifacts(table, gan)
            if artifacts is None or results_dir is None or not Path(results_dir).is_dir():
                continue
            folder = Path(results_dir) / artifacts
            assets_dir.mkdir(parents=True, exist_ok=True)
            grid = folder / "samples.png"
            if grid.is_file():
                target = assets_dir / asset_name(table, gan, "samples")
                shutil.copyfile(grid, target)
                written.append(target)
            losses = folder / "losses.json"
            if losses.is_file():
                target = assets_dir / asset_name(table, gan, "losses")
                plot_losses(json.loads(losses.read_text()), f"{gan}: training losses", target)
                written.append(target)
        strip = write_strip(table, assets_dir)
        if strip is not None:
            written.append(strip)
        if registry is not None and summary_points(table, registry):
            assets_dir.mkdir(parents=True, exist_ok=True)
            figure = assets_dir / table_asset_name(table, "summary")
            write_summary_figure(table, registry, figure)
            written.append(figure)
    return written


def write_strip(table: Table, assets_dir: Path) -> Optional[Path]:
    """The table's samples strip, from the grids copied into ``assets_dir``; None when
    the table has no strip or none of its grids is there. A grid that cannot be read or
    does not divide into tiles of the table's resolution counts as missing."""
    if not has_strip(table):
        return None
    rows, row_counts = [], set()
    for gan in strip_gans(table):
        grid_path = assets_dir / asset_name(table, gan, "samples")
        tiles = None
        if grid_path.is_file():
            try:
                with Image.open(grid_path) as grid:
                    tiles = grid_tiles(grid, table.resolution)
            except (OSError, ValueError):  # not an image, or not one of this table's grids
                tiles = None
        if tiles:
            row_counts.add(len(tiles))
        rows.append((gan, tiles))
    if not row_counts:
        return None
    classes = list(table.group.classes or ())
    # A grid has one row per class present: names only where every grid has them all.
    labels = classes if row_counts == {len(classes)} else []
    target = assets_dir / table_asset_name(table, "strip")
    draw_strip(rows, labels, table.resolution, target)
    return target


def smoothed(values: list[float], window: int = SMOOTHING) -> list[float]:
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_losses(history: dict[str, list[dict]], title: str, path: Path) -> None:
    """One panel per trained model (a class, or a translation pair), one line per loss."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    models = sorted(history)
    figure, axes = plt.subplots(1, len(models), figsize=(3.2 * len(models), 2.6), squeeze=False, sharey=False)
    for ax, model in zip(axes[0], models):
        steps = history[model]
        names = sorted({k for step in steps for k in step if k != "step"})
        for name in names:
            points = [(s["step"], s[name]) for s in steps if name in s]
            ax.plot([p[0] for p in points], smoothed([p[1] for p in points]), label=name, linewidth=1)
        ax.set_title(model, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    figure.suptitle(f"{title} (moving mean over {SMOOTHING} steps)", fontsize=9)
    figure.tight_layout()
    # No software/date metadata: the same history draws the same bytes.
    figure.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(figure)
