"""The pictures a leaderboard links: each GAN's sample grid and its training-loss curves,
copied and drawn from the artifacts of one cell (the lowest seed) into a folder beside
the markdown, so that a published leaderboard carries its own images.

The markdown names these files from the result rows alone (:func:`asset_name`), so it
can be rendered again from an exported results file, without the artifacts.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional

from .aggregate import Table, is_integer

KINDS = ("samples", "losses")
#: Loss curves are smoothed over this many steps: single GAN steps are too noisy to read.
SMOOTHING = 25


def asset_name(table: Table, gan: str, kind: str) -> str:
    g = table.group
    tag = f"-{table.tag}" if table.tag else ""
    return f"{g.dataset}-{g.profile}{tag}-{gan}-{kind}.png"


def source_artifacts(table: Table, gan: str) -> Optional[str]:
    """The artifacts folder (relative to the results dir) of the GAN's lowest finished seed."""
    finished = [
        r for r in table.rows
        if r["gan"] == gan and r["status"] == "ok" and isinstance(r.get("artifacts_dir"), str) and is_integer(r["seed"])
    ]
    if not finished:
        return None
    return min(finished, key=lambda r: (r["seed"], r["id"]))["artifacts_dir"]


def write_assets(tables: list[Table], results_dir: Path, assets_dir: Path) -> list[Path]:
    """Copy sample grids and draw loss curves for every GAN of every table; a GAN whose
    artifacts are missing (an exported results file without them) is skipped."""
    written = []
    for table in tables:
        for gan in table.gans():
            artifacts = source_artifacts(table, gan)
            if artifacts is None:
                continue
            folder = results_dir / artifacts
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
    return written


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
