"""Suite -> cells. Pure and deterministic: the same arguments give the same list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from ..specs import Variant


@dataclass(frozen=True, order=True)
class Cell:
    suite: str
    dataset: str
    gan: str
    seed: int
    profile: str
    #: The name of the suite variant this cell runs ("" when the suite has none).
    variant: str = ""

    @property
    def key(self) -> str:
        key = f"{self.suite}/{self.dataset}/{self.gan}/seed-{self.seed}/{self.profile}"
        return f"{key}/{self.variant}" if self.variant else key


def expand(
    suite: str,
    profile: str,
    gans: Sequence[str],
    datasets: Sequence[str],
    seeds: Sequence[int],
    variants: Sequence[Variant] = (),
) -> list[Cell]:
    """Every (dataset, variant, GAN, seed) combination, in the order given, without
    repeats; a variant that names its GANs runs only those of ``gans`` (in the order of
    ``gans``). No variants: one plain cell per (dataset, GAN, seed).

    The order is dataset-major, then variant-major, so that the cells that read the same
    data at the same size run together and reuse its real images and cached features.

    A variant whose GANs are all outside ``gans`` has no cells (``--gans wgan`` runs
    only the variants that run wgan). Raises ValueError for an empty axis, two variants
    with one name, or no cell at all.
    """
    if not gans or not datasets or not seeds:
        raise ValueError("a suite needs at least one GAN, one dataset and one seed")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError(f"variant names must be distinct, got {names}")
    axis: list[Optional[Variant]] = list(variants) or [None]
    cells: list[Cell] = []
    for dataset in dict.fromkeys(datasets):
        for variant in axis:
            chosen = [g for g in dict.fromkeys(gans) if variant is None or variant.gans is None or g in variant.gans]
            for gan in chosen:
                for seed in dict.fromkeys(seeds):
                    cells.append(Cell(suite, dataset, gan, int(seed), profile, variant.name if variant else ""))
    if not cells:
        raise ValueError(f"no variant runs any of the GANs of this run ({', '.join(gans)})")
    return cells
