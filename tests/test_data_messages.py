"""What the dataset readers tell the user about files they skip, classes that make some
numbers meaningless, and the warnings of the libraries they read with (issue 11, item 9).
Every fixture is made here, in tmp_path."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from ganbench.cli import cli
from ganbench.data.class_warnings import class_count_warnings, class_size_warnings, require_classes_for_classification
from ganbench.data.reader_warnings import captured_warnings, scrub
from ganbench.errors import GanbenchError
from ganbench.plugins import load_plugins
from ganbench.specs import Evaluation, ImageSplit, Progress, SilentProgress
from ganbench_plugins.datasets import image_folder
from ganbench_plugins.datasets.dicom_folder import DicomFolder
from ganbench_plugins.datasets.image_folder import HIDDEN_FILE, ImageFolder
from medical_fixtures import PHI_STRINGS, brain_like, dicom_slice

SILENT = SilentProgress()
TOO_LARGE = "image too large to decode safely (over Pillow's decompression-bomb limit; downscale it)"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GANBENCH_DICOM_SALT", "test-salt")


class Recording(Progress):
    def __init__(self):
        self.messages: list[str] = []

    def track(self, iterable, total=None, description=""):
        return iter(iterable)

    def log(self, message):
        self.messages.append(message)


def flat_tree(root: Path, counts: dict[str, int], size: int = 24) -> Path:
    """Layout B: ROOT/<class>/img (i).png, distinct images."""
    rng = np.random.default_rng(0)
    for cls, n in counts.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(brain_like(rng, size)).save(root / cls / f"img ({i}).png")
    return root


def inspect(*args: str):
    result = CliRunner().invoke(cli, ["data", "inspect", *args], obj=load_plugins(), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # --json is read from stdout alone: progress lines go to stderr.
    return result.stdout if "--json" in args else result.output


# --------------------------------------------------------------------------- skipped files are named


def test_empty_files_are_named_in_the_notes_and_the_inspection(tmp_path):
    root = flat_tree(tmp_path / "data", {"a": 4, "b": 4})
    (root / "a" / "zero bytes.png").write_bytes(b"")
    (root / "b" / "notes.txt").write_text("not an image")
    data = ImageFolder().load(root, 16, 1, SILENT)
    assert data.skipped == {"empty file": 1, "unknown extension": 1}
    assert "1 empty file (a/zero bytes.png)" in data.notes and "1 unknown extension (b/notes.txt)" in data.notes
    text = inspect(str(root))
    assert "empty file: a/zero bytes.png" in text and "unknown extension: b/notes.txt" in text
    # A second load reads the cache and still names them.
    assert ImageFolder().load(root, 16, 1, SILENT).notes == data.notes


# --------------------------------------------------------------------------- over-large images


@pytest.mark.parametrize("fmt", ["png", "jpg"])
def test_an_image_over_the_decompression_bomb_limit_is_too_large_with_its_size(tmp_path, monkeypatch, fmt):
    # Pillow refuses images over twice MAX_IMAGE_PIXELS; lower the limit instead of
    # writing a 180-megapixel file. 24 x 24 = 576 pixels stay under it (no warning
    # either), 90 x 40 = 3600 are over 2 x 600.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 600)
    root = flat_tree(tmp_path / "data", {"a": 3, "b": 3})
    Image.new("L", (90, 40), 100).save(root / "a" / f"huge.{fmt}")
    data = ImageFolder(workers=1, use_cache=False).load(root, 16, 1, SILENT)
    assert data.skipped == {TOO_LARGE: 1}
    assert f"a/huge.{fmt} (90 x 40)" in data.notes and "unreadable" not in data.notes
    report = ImageFolder(workers=1).inspect(root, SILENT)
    assert report.skipped == {TOO_LARGE: 1} and report.skipped_examples[TOO_LARGE] == [f"a/huge.{fmt} (90 x 40)"]


def test_a_corrupt_image_is_still_unreadable(tmp_path):
    root = flat_tree(tmp_path / "data", {"a": 3, "b": 3})
    (root / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    data = ImageFolder(use_cache=False).load(root, 16, 1, SILENT)
    assert data.skipped == {"unreadable image": 1} and "(a/broken.png)" in data.notes


# --------------------------------------------------------------------------- hidden files


def test_every_hidden_file_counts_including_those_in_hidden_folders(tmp_path):
    root = tmp_path / "data"
    for split in ("Training", "Testing"):
        flat_tree(root / split, {"glioma": 3, "meningioma": 3})
    checkpoints = root / "Testing" / "meningioma" / ".ipynb_checkpoints"
    checkpoints.mkdir()
    for i in range(3):
        (checkpoints / f"img ({i})-checkpoint.png").write_bytes((root / "Testing" / "meningioma" / f"img ({i}).png").read_bytes())
    (root / "Training" / "glioma" / ".DS_Store").write_bytes(b"\0")
    (root / "Training" / ".DS_Store").write_bytes(b"\0")  # in a split folder
    (root / ".git" / "objects").mkdir(parents=True)  # in the root, nested
    (root / ".git" / "HEAD").write_text("ref")
    (root / ".git" / "objects" / "ab").write_bytes(b"x")
    (root / "Training" / "glioma" / ".empty-hidden").mkdir()  # hides nothing
    data = ImageFolder(use_cache=False).load(root, 16, 1, SILENT)
    assert data.skipped == {HIDDEN_FILE: 3 + 1 + 1 + 2}
    assert len(data.train) == 6 and len(data.test) == 6
    for name in ("Testing/meningioma/.ipynb_checkpoints/ (3 files)", "Training/glioma/.DS_Store", "Training/.DS_Store", ".git/ (2 files)"):
        assert name in data.notes, name
    report = ImageFolder().inspect(root, SILENT)
    assert report.skipped == {HIDDEN_FILE: 7}
    assert "Testing/meningioma/.ipynb_checkpoints/ (3 files)" in report.skipped_examples[HIDDEN_FILE]


@pytest.mark.shared_data
def test_the_stray_notebook_checkpoint_of_the_224_set_is_counted():
    from conftest import SHARED_DATASETS

    root = SHARED_DATASETS / "brain-tumor-mri-dataset-224"
    checkpoints = root / "Testing" / "meningioma" / ".ipynb_checkpoints"
    if not checkpoints.is_dir():
        pytest.skip(f"{checkpoints} not found: the shared datasets sit beside the checkout in ../shared")
    expected = sum(1 for p in checkpoints.rglob("*") if p.is_file())
    scan = image_folder._scan(root)
    assert scan.skipped[HIDDEN_FILE] == expected >= 1
    assert any(".ipynb_checkpoints/" in name for name in scan.examples[HIDDEN_FILE])


# --------------------------------------------------------------------------- classes


def test_class_count_warning_only_for_fewer_than_two_classes():
    assert class_count_warnings("x", ("a", "b")) == []
    (line,) = class_count_warnings("my-data", ("tumour",))
    assert "my-data" in line and "'tumour'" in line and "tstr" in line and "\n" not in line


def test_class_size_warnings_name_each_small_class_and_the_batch():
    assert class_size_warnings({"a": 64, "b": 100}, 64) == []
    lines = class_size_warnings({"a": 63, "b": 100, "c": 5}, 64, gan="dcgan")
    assert len(lines) == 2 and "'a' has 63" in lines[0] and "'c' has 5" in lines[1]
    assert all("batch size 64 of dcgan" in line and "\n" not in line for line in lines)
    with pytest.raises(ValueError, match="batch_size"):
        class_size_warnings({"a": 1}, 0)


def test_a_one_class_dataset_loads_with_a_warning_in_its_notes_and_the_inspection(tmp_path):
    root = flat_tree(tmp_path / "data", {"tumour": 6})
    data = ImageFolder().load(root, 16, 1, SILENT)
    assert data.class_names == ("tumour",)
    assert "warning: image-folder has only the class 'tumour'" in data.notes
    text = inspect(str(root))
    assert "warning: image-folder has only the class 'tumour'" in text
    assert json.loads(inspect(str(root), "--json"))["warnings"] == class_count_warnings("image-folder", ("tumour",))


def test_a_class_map_leaving_one_class_warns_too(tmp_path):
    root = flat_tree(tmp_path / "data", {"glioma": 4, "normal": 4})
    data = ImageFolder(class_map="tumour=glioma").load(root, 16, 1, SILENT)
    assert data.class_names == ("tumour",) and "warning:" in data.notes


def test_inspect_warns_about_classes_smaller_than_the_batch(tmp_path):
    root = flat_tree(tmp_path / "data", {"a": 10, "b": 30})
    assert "warning" not in inspect(str(root))
    text = inspect(str(root), "--batch-size", "16")  # a: 8 training images, b: 24
    assert "warning: class 'a' has 8 training images, fewer than the batch size 16" in text
    assert "class 'b'" not in text


def test_downstream_metrics_refuse_one_class(tmp_path):
    from ganbench_plugins.metrics.downstream import TSTR

    with pytest.raises(GanbenchError, match="at least 2 classes"):
        require_classes_for_classification(("tumour",), "tstr")
    require_classes_for_classification(("a", "b"), "tstr")
    root = flat_tree(tmp_path / "data", {"tumour": 6})
    data = ImageFolder().load(root, 16, 1, SILENT)
    evaluation = Evaluation(
        data=data, fake=ImageSplit(torch.zeros((4, 1, 16, 16), dtype=torch.uint8), torch.zeros(4, dtype=torch.long)),
        device=torch.device("cpu"), seed=0, settings={"profile": "smoke"}, cache_dir=tmp_path, artifacts_dir=tmp_path,
        progress=SILENT,
    )
    with pytest.raises(GanbenchError, match="tstr metric trains a classifier and needs at least 2 classes"):
        TSTR().compute(evaluation, classifier=object())  # refused before the classifier is touched


# --------------------------------------------------------------------------- pydicom warnings


def noisy_dicom_tree(root: Path, files_per_class: int = 4) -> Path:
    """Two classes of DICOM slices whose SeriesInstanceUID is not a valid UID (pydicom
    warns, quoting it, every time it is read) and holds a patient's name."""
    with captured_warnings("pydicom"):  # writing them warns too
        rng = np.random.default_rng(0)
        for c, cls in enumerate(("no_tumour", "tumour")):
            for p in range(2):
                series = f"1.2.840.{PHI_STRINGS[0]}.{c}{p}"
                for i in range(files_per_class):
                    pixels = brain_like(rng, 16, tumour=c == 1).astype(np.int16) * 4 + 50 * i
                    dicom_slice(root / cls / f"patient{p}" / f"IM{i}", pixels, patient_id=f"P{c}{p}", series_uid=series,
                                study_uid=f"1.2.{c + 1}.{p + 1}", z=float(i), instance=i + 1)
    return root


def test_pydicom_warnings_are_counted_once_and_kept_in_the_notes(tmp_path, capfd, caplog):
    root = noisy_dicom_tree(tmp_path / "dicom")
    progress = Recording()
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        data = DicomFolder().load(root, 16, 1, progress)
    assert not [str(w.message) for w in escaped]  # nothing reaches the warnings machinery
    assert not [r for r in caplog.records if r.name.startswith("pydicom")]
    assert "Invalid value" not in capfd.readouterr().err
    headlines = [m for m in progress.messages if "pydicom warned" in m]
    assert len(headlines) == 1 and "dicom-folder" in headlines[0]
    assert "pydicom warnings (" in data.notes and "Invalid value for VR UI: '…'" in data.notes
    for phi in PHI_STRINGS:
        assert phi not in data.notes and phi not in headlines[0]
    # From the cache: the same notes, the same single line.
    again = Recording()
    assert DicomFolder().load(root, 16, 1, again).notes == data.notes
    assert len([m for m in again.messages if "pydicom warned" in m]) == 1
    report = DicomFolder().inspect(root, SILENT)
    assert any("pydicom warnings (" in note for note in report.notes)


def test_detection_keeps_pydicom_quiet(tmp_path):
    root = noisy_dicom_tree(tmp_path / "dicom", files_per_class=1)
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        assert DicomFolder().detect(root).matched
    assert not escaped


def test_captured_warnings_counts_a_message_sent_to_both_channels_once():
    logger = logging.getLogger("somelib")
    with captured_warnings("somelib") as tally:
        for _ in range(3):
            logger.warning("bad value 'Doe^Jane'")
            warnings.warn("bad value 'Doe^Jane'")
        warnings.warn("only a warning")
        logger.warning("only logged")
    assert tally.counts == {"bad value '…'": 3, "only a warning": 1, "only logged": 1}
    assert tally.total == 5 and "3x bad value '…'" in tally.details()
    assert logger.propagate and not logger.handlers  # put back as found
    assert scrub('x "a\'b" b\'\\x00\' y') == "x '…' '…' y"
    assert scrub("The 'Bits Stored' value doesn't match. See <https://x>.") == "The '…' value doesn't match."
