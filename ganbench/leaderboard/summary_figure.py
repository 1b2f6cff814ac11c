"""One figure per leaderboard table: the headline's distance (FID) against its downstream
score (TSTR accuracy), one labelled point per GAN with its 95% intervals over seeds as
error bars, so that a reader sees at once which GANs are both close to the real images
and useful to a classifier, and which differences the seeds cannot separate.

Drawn only where it helps: two or more GANs with a value on both axes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..registry import Registry
from .aggregate import Entry, Table
from .headline import Slot, headline_slots

#: Questions of the headline (:data:`ganbench.leaderboard.headline.QUESTIONS`) on the axes.
AXES = ("distance", "downstream")
MIN_POINTS = 2


@dataclass(frozen=True)
class Point:
    gan: str
    x: float
    y: float
    #: The 95% interval over seeds (:attr:`Entry.interval`); None with one seed.
    x_interval: Optional[tuple[float, float]]
    y_interval: Optional[tuple[float, float]]


def axis_label(slot: Slot) -> str:
    key, _, classifier = slot
    return key + (f" ({classifier})" if classifier else "")


def summary_axes(table: Table, registry: Registry) -> Optional[tuple[Slot, Slot]]:
    """(x, y) slots of the figure, or None when the headline lacks either."""
    chosen = {question.name: slot for question, slot in headline_slots(table, registry)}
    if not all(name in chosen for name in AXES):
        return None
    return chosen[AXES[0]], chosen[AXES[1]]


def summary_points(table: Table, registry: Registry) -> list[Point]:
    """One point per GAN with a value on both axes, in the table's GAN order; empty when
    fewer than :data:`MIN_POINTS` GANs have both (one point compares nothing)."""
    axes = summary_axes(table, registry)
    if axes is None:
        return []
    (x_key, _, x_classifier), (y_key, _, y_classifier) = axes
    points = []
    for gan in table.gans():
        x: Optional[Entry] = table.entry(gan, x_key, x_classifier)
        y: Optional[Entry] = table.entry(gan, y_key, y_classifier)
        if x is not None and y is not None and x.values and y.values:
            points.append(Point(gan, x.mean, y.mean, x.interval, y.interval))
    return points if len(points) >= MIN_POINTS else []


def _errors(values: list[float], intervals: list[Optional[tuple[float, float]]]) -> list[list[float]]:
    """matplotlib's asymmetric error bars: [below], [above]; 0 without an interval."""
    below = [value - interval[0] if interval else 0.0 for value, interval in zip(values, intervals)]
    above = [interval[1] - value if interval else 0.0 for value, interval in zip(values, intervals)]
    return [below, above]


def plot_summary(points: list[Point], x_label: str, y_label: str, title: str, path: Path) -> list[tuple[str, float, float]]:
    """Draw ``points`` to ``path`` (PNG), one colour and marker per GAN, named in the
    legend (labels beside points overlap where GANs score alike). Returns what the plot
    holds, read back from the drawn axes: (legend label, x, y) of every point."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, ax = plt.subplots(figsize=(6.4, 4.0))
    markers = "osD^v<>ph*"
    for i, p in enumerate(points):
        ax.errorbar(
            [p.x], [p.y], xerr=_errors([p.x], [p.x_interval]), yerr=_errors([p.y], [p.y_interval]),
            fmt=markers[i % len(markers)], color=f"C{i % 10}", capsize=3, linewidth=1, markersize=6, label=p.gan,
        )
    ax.set_xlabel(x_label, fontsize=9)
    ax.set_ylabel(y_label, fontsize=9)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    figure.tight_layout()
    drawn = []
    for container in ax.containers:
        xs, ys = container.lines[0].get_data()
        drawn.append((container.get_label(), float(xs[0]), float(ys[0])))
    # No software/date metadata: the same points draw the same bytes.
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)
    return drawn


def write_summary_figure(table: Table, registry: Registry, path: Path) -> Optional[list[tuple[str, float, float]]]:
    """Draw the table's figure to ``path`` where it helps; returns what
    :func:`plot_summary` drew, or None when nothing was drawn."""
    points = summary_points(table, registry)
    if not points:
        return None
    x_slot, y_slot = summary_axes(table, registry)
    g = table.group
    title = f"{g.dataset}, profile {g.profile}" + (f", variant {g.variant}" if g.variant else "") + ": 95% intervals over seeds"
    return plot_summary(points, axis_label(x_slot) + direction_hint(registry, x_slot), axis_label(y_slot) + direction_hint(registry, y_slot), title, path)


def direction_hint(registry: Registry, slot: Slot) -> str:
    _, metric, _ = slot
    if ("metrics", metric) not in registry:
        return ""
    return {"lower": " (lower is better)", "higher": " (higher is better)"}.get(registry.get("metrics", metric).direction_of(slot[0]), "")
