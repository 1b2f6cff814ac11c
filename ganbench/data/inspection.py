"""What ``ganbench data inspect PATH`` reports about a dataset folder, whatever its
format: the layout recognised, images per class and split, image sizes and modes,
files skipped and why, and duplicates across the splits (leakage).

A dataset plugin may build the report itself (`Dataset.inspect`); one that does not is
inspected through its `Dataset.load` (`inspect_by_loading`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from tabulate import tabulate

from .duplicates import cross_split_duplicates

if TYPE_CHECKING:
    from ..specs import Dataset, LoadedData, Progress

#: Pixels a side at which a dataset without an inspect of its own is loaded for the
#: report: enough for the duplicate check, cheap to decode.
INSPECTION_SIZE = 64
#: Duplicate pairs named in a report, per kind (exact, near).
EXAMPLES_SHOWN = 5


def split_counts(data: "LoadedData") -> dict[str, dict[str, int]]:
    """Images per class in each split, as `Inspection.counts` holds them.

    Args:
        data: a loaded dataset.

    Returns:
        ``{"train": {class name: images}, "test": {...}}``, every class in both.
    """
    return {
        name: {cls: int((split.labels == i).sum()) for i, cls in enumerate(data.class_names)}
        for name, split in (("train", data.train), ("test", data.test))
    }


@dataclass
class Inspection:
    """What ``ganbench data inspect PATH`` reports about a dataset folder: what
    `Dataset.inspect` returns. Only the first five fields are required.

    Example:
        ```python
        Inspection(
            dataset="my-folder", root=str(root), layout="class folders, split here",
            class_names=data.class_names, counts=split_counts(data),
            skipped=dict(data.skipped), duplicates=report.summary(),
        )
        ```
    """

    dataset: str
    """The dataset plugin's name."""
    root: str
    """The folder inspected, resolved."""
    layout: str
    """One line: the layout recognised and how it is split."""
    class_names: tuple[str, ...]
    """The classes, in label order."""
    counts: dict[str, dict[str, int]]
    """Split (``"train"``, ``"test"``) -> class name -> images (`split_counts`)."""
    sizes: Counter = field(default_factory=Counter)
    """The files' own sizes, ``"WxH"`` -> files."""
    modes: Counter = field(default_factory=Counter)
    """The files' modes (a Pillow mode, or e.g. ``"int16 MR"``) -> files."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Reason -> files skipped for it (corrupt, empty, unknown extension, ...)."""
    skipped_examples: dict[str, list[str]] = field(default_factory=dict)
    """A few skipped files per reason (relative paths; never for DICOM, whose paths
    may carry patient names)."""
    duplicates: str = ""
    """What the duplicate check across the splits found (`DuplicateReport.summary`)."""
    duplicate_examples: list[tuple[str, str, str]] = field(default_factory=list)
    """Example duplicate pairs: (train file, test file, ``"exact"`` or ``"near, d bits"``)."""
    notes: list[str] = field(default_factory=list)
    """Anything else worth a line each."""
    patients: dict[str, int] = field(default_factory=dict)
    """Patients (volumes, DICOM PatientIDs) per split, where identity is known."""
    warnings: list[str] = field(default_factory=list)
    """One line each: what makes some numbers on this data meaningless or fragile (one
    class, classes smaller than a batch); shown before everything else is read."""

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready values (``ganbench data inspect --json``)."""
        data = asdict(self)
        data["sizes"], data["modes"] = dict(self.sizes.most_common()), dict(self.modes.most_common())
        return data

    def render(self, top: int = 8) -> str:
        """The report as text for a terminal; ``top``: the most common sizes and modes
        shown (the rest are counted)."""
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

        # Empty when the reader did not look at the files (a report made by loading).
        lines += ["", f"image sizes: {common(self.sizes) or 'not reported'}", f"modes:       {common(self.modes) or 'not reported'}"]
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


def inspect_dataset(dataset: "Dataset", path: Optional[Path], progress: "Progress") -> Inspection:
    """The report ``ganbench data inspect`` prints: the dataset's own `Dataset.inspect`
    when it has one, else `inspect_by_loading`.

    Args:
        dataset: a configured dataset plugin.
        path: the dataset folder (None for a dataset that needs none).
        progress: for long loops.
    """
    from ..specs import Dataset

    if type(dataset).inspect is Dataset.inspect:
        return inspect_by_loading(dataset, path, progress)
    return dataset.inspect(path, progress)


def inspect_by_loading(
    dataset: "Dataset",
    path: Optional[Path],
    progress: "Progress",
    image_size: int = INSPECTION_SIZE,
) -> Inspection:
    """An `Inspection` of any dataset, made from what its `Dataset.load` gives: images
    per class and split, files skipped, patients, and the duplicate check across the
    splits run on the loaded pixels. The files' own sizes and modes stay unknown (a note
    says so).

    Args:
        dataset: a configured dataset plugin.
        path: the dataset folder (None for a dataset that needs none).
        progress: handed to ``load``.
        image_size: pixels a side to load at (grey, one channel).

    Raises:
        GanbenchError: whatever ``load`` raises for a missing or wrong path.
    """
    data = dataset.load(path, image_size, 1, progress)
    report = cross_split_duplicates(data.train.images[:, 0].numpy(), data.test.images[:, 0].numpy())
    sources = {split: list(data.sources.get(split, ())) for split in ("train", "test")}

    def name(split: str, index: int) -> str:
        return sources[split][index] if index < len(sources[split]) else f"{split} image {index}"

    examples = [(name("train", i), name("test", j), "exact") for i, j in report.exact[:EXAMPLES_SHOWN]]
    examples += [(name("train", i), name("test", j), f"near, {d} bits") for i, j, d in report.near[:EXAMPLES_SHOWN]]
    notes = [
        f"{dataset.name} has no inspect of its own: this report is what its load() gives at {image_size} px; "
        "the files' own sizes and modes are not known"
    ]
    if data.leakage and data.leakage != report.summary():
        notes.append(f"the reader's own duplicate check: {data.leakage}")
    if data.notes:
        notes.append(data.notes)
    return Inspection(
        dataset=dataset.name,
        root=str(Path(path).expanduser().resolve()) if path is not None else "(none: the dataset makes its own data)",
        layout=f"as read by {dataset.name}'s load()",
        class_names=tuple(data.class_names),
        counts=split_counts(data),
        skipped=dict(sorted(data.skipped.items())),
        duplicates=report.summary(),
        duplicate_examples=examples,
        notes=notes,
        patients={split: len(set(keys)) for split, keys in data.patients.items() if len(keys)},
    )
