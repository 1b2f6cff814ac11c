"""``ganbench data``: look at a dataset folder before benchmarking on it, and turn
volumes (NIfTI, DICOM) into PNG slices with a manifest."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Mapping, Optional, Sequence

import click
import numpy as np
from PIL import Image

from .data.class_warnings import class_count_warnings, class_size_warnings
from .data.detect import detect_dataset, detections
from .data.inspection import inspect_dataset
from .errors import GanbenchError
from .listing import echo_tsv, plain_option, plain_stdout
from .progress import RichProgress


def parse_options(pairs: Sequence[str], flag: str = "--data-option") -> dict[str, str]:
    """``("a=1", "class_map=x=y+z")`` -> ``{"a": "1", "class_map": "x=y+z"}``. Raises
    :class:`GanbenchError` for a pair without ``=`` or a key given twice with two values."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise GanbenchError(f"{flag} takes KEY=VALUE, got {pair!r}")
        key, value = key.strip(), value.strip()
        if key in options and options[key] != value:
            raise GanbenchError(f"{flag} {key} is given twice, as {options[key]!r} and {value!r}: give it once")
        options[key] = value
    return options


def configured_dataset(registry, path: Path, name: Optional[str], options: Mapping[str, str]):
    if name is None:
        name, _ = detect_dataset(registry, path)
    return registry.get("datasets", name).configure(options)


def yes_no(flag: bool) -> str:
    """A flag as a word for a tab-separated field, which awk and grep match as text."""
    return "yes" if flag else "no"


def _console():
    from rich.console import Console

    return Console(stderr=True)


@click.group("data")
def data_group():
    """Inspect dataset folders and prepare NIfTI/DICOM volumes as PNG slices."""


dataset_option = click.option("--dataset", default=None, help="The dataset plugin to read PATH with (default: detected).")
data_option = click.option("--data-option", "data_options", multiple=True, metavar="KEY=VALUE", help="An option of the dataset plugin (repeatable).")


@data_group.command("inspect")
@click.argument("path", type=click.Path(path_type=Path))
@dataset_option
@data_option
@click.option("--batch-size", type=click.IntRange(1), default=None, help="Warn about classes with fewer training images than this GAN batch size.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--plain", is_flag=True, help="Only the images per class and split, as tab-separated values with a header line (warnings go to stderr); --json has everything.")
@click.pass_context
def inspect_command(ctx, path, dataset, data_options, batch_size, as_json, plain):
    """Layout detected, images per class and split, sizes and modes, files skipped and
    why, duplicates across the splits, and warnings (one class; with --batch-size,
    classes smaller than a batch). A dataset plugin without an inspect of its own is
    reported from what it loads (at 64 px)."""
    registry = ctx.obj.registry
    reader = configured_dataset(registry, path, dataset, parse_options(data_options))
    with RichProgress(_console()) as progress:
        report = inspect_dataset(reader, path, progress)
    add_class_warnings(report, batch_size)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    elif plain:
        # Only on request: piped without --plain, the whole report still reaches the file.
        splits = list(report.counts)
        rows = [[cls, *(report.counts[s].get(cls, 0) for s in splits)] for cls in report.class_names]
        echo_tsv(("class", *splits), rows)
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)
    else:
        click.echo(report.render())


def add_class_warnings(report, batch_size: Optional[int] = None) -> None:
    """Append to ``report.warnings`` what :mod:`ganbench.data.class_warnings` finds in its
    classes and training counts (every dataset plugin gets the same checks)."""
    found = class_count_warnings(report.dataset, report.class_names)
    if batch_size is not None:
        found += class_size_warnings(report.counts.get("train", {}), batch_size)
    report.warnings.extend(w for w in found if w not in report.warnings)


@data_group.command("detect")
@click.argument("path", type=click.Path(path_type=Path))
@plain_option
@click.pass_context
def detect_command(ctx, path, plain):
    """Which dataset plugins read PATH, and why the others do not."""
    found_by = detections(ctx.obj.registry, path)
    if plain_stdout(plain):
        rows = [[name, yes_no(found.matched), yes_no(found.matched and not found.specific), found.reason] for name, found in found_by]
        echo_tsv(("dataset", "reads", "generic", "reason"), rows)
        return
    for name, found in found_by:
        mark = "yes" if found.matched else "no "
        kind = "" if found.specific or not found.matched else " (generic reader)"
        click.echo(f"{mark}  {name}{kind}: {found.reason}")


@data_group.command("options")
@click.argument("dataset")
@plain_option
@click.pass_context
def options_command(ctx, dataset, plain):
    """The --data-option keys a dataset plugin takes."""
    reader = ctx.obj.registry.get("datasets", dataset)
    if plain_stdout(plain):
        echo_tsv(("option", "description"), list(reader.options.items()))
        return
    if not reader.options:
        click.echo(f"{dataset} takes no options")
    for key, text in reader.options.items():
        click.echo(f"{key}: {text}")


@data_group.command("prepare")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Folder for the PNG slices and manifest.csv (must be empty or new).")
@click.option("--size", type=click.IntRange(8, 1024), default=256, show_default=True, help="Side of the square PNGs.")
@dataset_option
@data_option
@click.pass_context
def prepare_command(ctx, path, out_dir, size, dataset, data_options):
    """Read PATH with its dataset plugin (NIfTI volumes, DICOM series, image folders)
    and write OUT/<split>/<class>/<n>.png plus OUT/manifest.csv. The result is an
    image-folder tree: `ganbench run --data OUT` reads it with the same split. For
    DICOM, patients appear only as salted hashes; PNGs carry no metadata."""
    registry = ctx.obj.registry
    reader = configured_dataset(registry, path, dataset, parse_options(data_options))
    if out_dir.exists() and any(out_dir.iterdir()):
        raise GanbenchError(f"{out_dir} is not empty; ganbench data prepare never overwrites files")
    with RichProgress(_console()) as progress:
        data = reader.load(path, size, 1, progress)
        rows = write_slices(data, out_dir, progress)
    click.echo(f"wrote {len(rows)} PNGs and {out_dir / 'manifest.csv'} ({data.notes})")


def write_slices(data, out_dir: Path, progress) -> list[dict]:
    rows = []
    folders = {"train": "Training", "test": "Testing"}
    for split_name, split in (("train", data.train), ("test", data.test)):
        sources = data.sources.get(split_name, ()) if data.sources else ()
        patients = data.patients.get(split_name, ()) if data.patients else ()
        images = split.images[:, 0].numpy()
        labels = split.labels.numpy()
        for i in progress.track(range(len(images)), total=len(images), description=f"writing {split_name} PNGs"):
            cls = data.class_names[int(labels[i])]
            rel = Path(folders[split_name]) / cls / f"{i:06d}.png"
            (out_dir / rel.parent).mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.ascontiguousarray(images[i])).save(out_dir / rel)  # no text chunks: pixels only
            rows.append({
                "file": rel.as_posix(), "split": split_name, "class": cls,
                "patient": patients[i] if i < len(patients) else "",
                "source": sources[i] if i < len(sources) else "",
            })
    with open(out_dir / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["file", "split", "class", "patient", "source"])
        writer.writeheader()
        writer.writerows(rows)
    return rows
