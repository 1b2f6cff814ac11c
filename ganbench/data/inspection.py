"""What ``ganbench data inspect PATH`` reports about a dataset folder, whatever its
format: the layout recognised, images per class and split, image sizes and modes,
files skipped and why, and duplicates across the splits (leakage)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from tabulate import tabulate


def split_counts(data) -> dict[str, dict[str, int]]:
    """Images per class in each split of a LoadedData, as Inspection.counts holds them."""
    return {
        name: {cls: int((split.labels == i).sum()) for i, cls in enumerate(data.class_names)}
        for name, split in (("train", data.train), ("test", data.test))
    }


@dataclass
class Inspection:
    dataset: str
    root: str
    layout: str
    class_names: tuple[str, ...]
    #: split -> class -> images
    counts: dict[str, dict[str, int]]
    #: "W x H" -> files, mode (Pillow mode, or e.g. "int16 MR") -> files
    sizes: Counter = field(default_factory=Counter)
    modes: Counter = field(default_factory=Counter)
    #: reason -> files (corrupt, empty, unknown extension, ...)
    skipped: dict[str, int] = field(default_factory=dict)
    #: A few skipped files per reason (relative paths; never for DICOM, whose paths
    #: may carry patient names).
    skipped_examples: dict[str, list[str]] = field(default_factory=dict)
    duplicates: str = ""
    #: Example duplicate pairs (train file, test file, "exact" or "near d bits").
    duplicate_examples: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Patients (volumes, DICOM PatientIDs) per split, where identity is known.
    patients: dict[str, int] = field(default_factory=dict)
    #: One line each: what makes some numbers on this data meaningless or fragile
    #: (:mod:`ganbench.data.class_warnings`); shown before everything else is read.
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sizes"], data["modes"] = dict(self.sizes.most_common()), dict(self.modes.most_common())
        return data

    def render(self, top: int = 8) -> str:
        lines = [f"dataset: {self.dataset}", f"root:    {self.root}", f"layout:  {self.layout}", ""]
        splits = list(self.counts)
        rows = [[cls, *[self.counts[s].get(cls, 0) for s in splits], sum(self.counts[s].get(cls, 0) for s in splits)] for cls in self.class_names]
        rows.append(["total", *[sum(self.counts[s].values()) for s in splits], sum(sum(c.values()) for c in self.counts.values())])
        lines.append(tabulate(rows, headers=["class", *splits, "all"], tablefmt="github"))
        if self.patients:
            lines += ["", "patients: " + ", ".join(f"{n} in {s}" for s, n in self.patients.items())]

        def common(counter: Counter) -> str:
            shown = ", ".join(f"{k} ({n})" for k, n in counter.most_common(top))
            more = len(counter) - top
            return shown + (f", and {more} other values" if more > 0 else "")

        lines += ["", f"image sizes: {common(self.sizes) or 'none'}", f"modes:       {common(self.modes) or 'none'}"]
        if self.skipped:
            lines.append("skipped:     " + ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items())))
            for reason, examples in sorted(self.skipped_examples.items()):
                lines.append(f"  {reason}: " + ", ".join(examples))
        else:
            lines.append("skipped:     none")
        if self.duplicates:
            lines += ["", f"duplicates across splits: {self.duplicates}"]
            for train, test, how in self.duplicate_examples:
                lines.append(f"  {test}  =  {train}  ({how})")
        lines += [f"note: {note}" for note in self.notes]
        if self.warnings:
            lines += [""] + [f"warning: {warning}" for warning in self.warnings]
        return "\n".join(lines)
