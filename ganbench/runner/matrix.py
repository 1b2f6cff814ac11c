"""Suite -> cells. Pure and deterministic: the same arguments give the same list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True, order=True)
class Cell:
    suite: str
    dataset: str
    gan: str
    seed: int
    profile: str

    @property
    def key(self) -> str:
        return f"{self.suite}/{self.dataset}/{self.gan}/seed-{self.seed}/{self.profile}"


def expand(
    suite: str,
    profile: str,
    gans: Sequence[str],
    datasets: Sequence[str],
    seeds: Sequence[int],
) -> list[Cell]:
    """Every (dataset, GAN, seed) combination, in the order given, without repeats.

    The order is dataset-major so that one dataset's cells run together and its real
    images and cached features are reused.
    """
    if not gans or not datasets or not seeds:
        raise ValueError("a suite needs at least one GAN, one dataset and one seed")
    cells: list[Cell] = []
    for dataset in dict.fromkeys(datasets):
        for gan in dict.fromkeys(gans):
            for seed in dict.fromkeys(seeds):
                cells.append(Cell(suite, dataset, gan, int(seed), profile))
    return cells
