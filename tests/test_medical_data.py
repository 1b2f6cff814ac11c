"""The papers' dataset layouts, NIfTI volumes and DICOM series: detection, reading,
patient-level splits, duplicates, de-identification, and the ``ganbench data`` CLI."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest
from click.testing import CliRunner

from ganbench import hookimpl
from ganbench.cli import cli
from ganbench.data.detect import detect_dataset
from ganbench.errors import DatasetLayoutError, GanbenchError
from ganbench.plugins import load_plugins
from ganbench.results.store import ResultsStore
from ganbench.specs import ProfileSettings, SilentProgress, Suite
from cli_runs import invoke_with
from medical_fixtures import KAGGLE_LAYOUTS, PHI_STRINGS, dicom_slice, make_dicom_tree, make_kaggle_layout, make_msd_tree

SILENT = SilentProgress()
REGISTRY = load_plugins().registry


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GANBENCH_DICOM_SALT", "test-salt")


def dataset(name, **options):
    return REGISTRY.get("datasets", name).configure(options)


# --------------------------------------------------------------------------- layouts


@pytest.mark.parametrize("name", KAGGLE_LAYOUTS)
def test_each_published_layout_is_detected_and_read(tmp_path, name):
    root = make_kaggle_layout(tmp_path / "data", name)
    found, detection = detect_dataset(REGISTRY, root)
    assert found == name and detection.matched
    data = dataset(name).load(root, 16, 1, SILENT)
    classes = KAGGLE_LAYOUTS[name][0]
    assert sorted(data.class_names) == sorted(classes) and data.family == name
    assert set(data.train.labels.tolist()) == set(range(len(classes))) == set(data.test.labels.tolist())
    assert "pred" not in data.class_names


def test_an_unknown_class_tree_falls_back_to_the_generic_reader(tmp_path):
    root = make_kaggle_layout(tmp_path / "data", "br35h")
    (root / "yes").rename(root / "tumour")
    name, detection = detect_dataset(REGISTRY, root)
    assert name == "image-folder" and not detection.specific


def test_no_layout_matches_lists_every_reader_tried(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetLayoutError) as info:
        detect_dataset(REGISTRY, tmp_path / "empty")
    for name in ("image-folder", "br35h", "msd-brain-tumour", "dicom-folder"):
        assert f"  {name}: " in str(info.value)


def test_a_published_layout_refuses_other_class_folders(tmp_path):
    root = make_kaggle_layout(tmp_path / "data", "brain-tumor-mri-dataset")
    with pytest.raises(DatasetLayoutError, match="glioma_tumor"):
        dataset("brain-tumor-classification-mri").load(root, 16, 1, SILENT)


def test_class_map_merges_and_drops_classes(tmp_path):
    root = make_kaggle_layout(tmp_path / "data", "brain-tumor-classification-mri")
    four = dataset("brain-tumor-classification-mri").load(root, 16, 1, SILENT)
    two = dataset("brain-tumor-classification-mri", class_map="tumor=glioma_tumor+meningioma_tumor+pituitary_tumor,normal=no_tumor").load(root, 16, 1, SILENT)
    assert two.class_names == ("tumor", "normal")
    assert len(two.train) == len(four.train) and (two.train.labels == 0).sum() == 3 * (two.train.labels == 1).sum()
    dropped = dataset("brain-tumor-classification-mri", class_map="g=glioma_tumor,n=no_tumor").load(root, 16, 1, SILENT)
    assert len(dropped.train) == len(four.train) // 2 and dropped.skipped["class left out by class_map"] == (len(four.train) + len(four.test)) // 2
    assert two.fingerprint != four.fingerprint
    with pytest.raises(GanbenchError, match="does not have"):
        dataset("brain-tumor-classification-mri", class_map="x=glioma").load(root, 16, 1, SILENT)
    with pytest.raises(GanbenchError, match="syntax"):
        dataset("image-folder", class_map="nonsense")


def test_unknown_option_lists_the_options():
    with pytest.raises(GanbenchError, match="class_map.*crop_border"):
        dataset("image-folder", colour="blue")


def test_duplicates_across_splits_are_reported_and_dropped_on_request(tmp_path):
    root = make_kaggle_layout(tmp_path / "data", "brain-tumor-classification-mri")
    copy = root / "Testing" / "glioma_tumor" / "copy.jpg"
    copy.write_bytes((root / "Training" / "glioma_tumor" / "glioma_tumor (0).jpg").read_bytes())
    kept = dataset("brain-tumor-classification-mri").load(root, 16, 1, SILENT)
    assert "1 of" in kept.leakage and "exact duplicate" in kept.leakage
    dropped = dataset("brain-tumor-classification-mri", dedupe="exact").load(root, 16, 1, SILENT)
    assert len(dropped.test) == len(kept.test) - 1
    assert "Testing/glioma_tumor/copy.jpg" not in dropped.sources["test"]


def test_crop_border_removes_the_black_margin(tmp_path):
    from PIL import Image

    root = tmp_path / "data"
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(3):
            img = np.zeros((100, 100), np.uint8)
            img[40:60, 30:70] = 200 + i
            Image.fromarray(img).save(root / cls / f"{i}.png")
    plain = dataset("image-folder").load(root, 16, 1, SILENT)
    cropped = dataset("image-folder", crop_border="true").load(root, 16, 1, SILENT)
    assert plain.train.images.float().mean() < 80 < cropped.train.images.float().mean()


# --------------------------------------------------------------------------- NIfTI


def test_msd_volumes_become_labelled_slices_split_by_patient(tmp_path):
    root = make_msd_tree(tmp_path / "Task01_BrainTumour")
    assert detect_dataset(REGISTRY, root)[0] == "msd-brain-tumour"
    data = dataset("msd-brain-tumour", slices="4-16").load(tmp_path, 16, 1, SILENT)  # the parent folder works too
    assert data.class_names == ("no_tumour", "tumour")
    assert len(data.train) + len(data.test) == 5 * 12
    assert int(data.train.labels.sum() + data.test.labels.sum()) == 5 * 4  # slices 8..11 hold the mask
    assert not set(data.patients["train"]) & set(data.patients["test"])
    assert data.skipped["hidden file (e.g. macOS ._ copy)"] == 1
    tumour_source = data.sources["train"][int(np.flatnonzero(data.train.labels.numpy())[0])]
    assert any(f"z={z}" in tumour_source for z in range(8, 12))


def test_truncated_volume_and_missing_label_are_skipped_and_counted(tmp_path):
    root = make_msd_tree(tmp_path / "msd", patients=4)
    whole = (root / "imagesTr" / "BRATS_002.nii.gz").read_bytes()
    (root / "imagesTr" / "BRATS_002.nii.gz").write_bytes(whole[: len(whole) // 3])
    (root / "labelsTr" / "BRATS_003.nii.gz").unlink()
    data = dataset("msd-brain-tumour", slices="4-16").load(root, 16, 1, SILENT)
    assert data.skipped["unreadable or truncated volume"] == 1 and data.skipped["volume without a label file"] == 1
    assert len(set(data.patients["train"]) | set(data.patients["test"])) == 2


def test_msd_options_are_checked():
    with pytest.raises(GanbenchError, match="modality"):
        dataset("msd-brain-tumour", modality="pd")
    with pytest.raises(DatasetLayoutError, match="FIRST-END"):
        dataset("msd-brain-tumour", slices="60")


# --------------------------------------------------------------------------- DICOM


def test_dicom_series_are_ordered_rescaled_and_split_by_patient(tmp_path):
    root = make_dicom_tree(tmp_path / "dicom")
    (root / "tumour" / "patient1" / "notes.txt").write_text("not DICOM")
    dicom_slice(root / "tumour" / "patient1" / "empty.dcm", np.zeros((4, 4)), patient_id="P11", series_uid="1.2.3",
                study_uid="1.2.4", z=0.0, instance=1, with_pixels=False)
    assert detect_dataset(REGISTRY, root)[0] == "dicom-folder"
    data = dataset("dicom-folder", window="percentile").load(root, 16, 1, SILENT)
    assert data.class_names == ("no_tumour", "tumour")
    assert len(data.train) + len(data.test) == 2 * 3 * 6
    assert data.skipped == {"not a DICOM file": 1, "DICOM without pixel data": 1}
    assert not set(data.patients["train"]) & set(data.patients["test"])
    # Within a series the slices follow their position: brightness rises with z.
    series = [i for i, s in enumerate(data.sources["train"]) if " series 0 " in s]
    if series:
        means = data.train.images[series].float().mean(dim=(1, 2, 3))
        assert torch_sorted(means)


def torch_sorted(values) -> bool:
    return bool((values[1:] >= values[:-1] - 1e-6).all())


def test_dicom_header_window_and_monochrome1(tmp_path):
    root = tmp_path / "dicom"
    for c, cls in enumerate(("a", "b")):
        for p in range(2):
            for z in range(2):
                pixels = np.full((8, 8), 100, np.int16)
                pixels[:4] = 300
                dicom_slice(root / cls / f"p{p}" / f"{z}.dcm", pixels, patient_id=f"X{c}{p}", series_uid=f"1.{c}.{p}",
                            study_uid=f"2.{c}.{p}", z=float(z), instance=z + 1, window=(200, 200),
                            photometric="MONOCHROME1" if cls == "b" else "MONOCHROME2")
    data = dataset("dicom-folder").load(root, 8, 1, SILENT)
    images = {cls: split.images[split.labels == i] for i, cls in enumerate(data.class_names) for split in (data.train,) if (split.labels == i).any()}
    a = images["a"][0, 0].float()
    assert a[:4].mean() > 250 and a[4:].mean() < 5  # window 100..300: 300 -> white, 100 -> black
    b = images["b"][0, 0].float()
    assert b[:4].mean() < 5 and b[4:].mean() > 250  # MONOCHROME1: inverted


def test_dicom_patient_names_never_reach_any_output(tmp_path):
    root = make_dicom_tree(tmp_path / "dicom")
    out = tmp_path / "prepared"
    results = tmp_path / "results"
    outputs = [
        invoke("data", "inspect", str(root)),
        invoke("data", "inspect", str(root), "--json"),
        invoke("data", "prepare", str(root), "--out", str(out), "--size", "16"),
        invoke("run", "--suite", "tiny-data", "--data", str(root), "--results", str(results), "--device", "cpu"),
    ]
    for result in outputs:
        assert result.exit_code == 0, result.output
    texts = [r.output for r in outputs]
    for folder in (out, results, tmp_path / "cache"):
        for file in folder.rglob("*"):
            if file.is_file() and file.name != "dicom-salt":
                texts.append(file.read_bytes().decode("latin-1"))
    assert any("dicom-folder" in t for t in texts)  # the outputs were looked at
    for phi in PHI_STRINGS:
        assert not [t[:200] for t in texts if phi in t], phi
    manifest = (out / "manifest.csv").read_text().splitlines()
    assert manifest[0] == "file,split,class,patient,source" and len(manifest) == 1 + 36


# --------------------------------------------------------------------------- CLI


TINY_DATA = Suite(
    name="tiny-data",
    description="any --data folder, one cheap metric",
    gans=("dcgan",),
    datasets=(),
    metrics=("psnr",),
    classifiers=(),
    takes_data=True,
    profiles={"smoke": ProfileSettings(image_size=16, seeds=1, n_fake=8, n_real=8, gan_overrides={"steps": 2, "batch_size": 4})},
)


def tiny_data_plugin():
    module = types.ModuleType("tiny_data_plugin")

    @hookimpl
    def register_suites(register):
        register(TINY_DATA)

    module.register_suites = register_suites
    return module


def invoke(*args):
    return invoke_with(("tiny-data-plugin", tiny_data_plugin()), *args)


LAYOUT_BUILDERS = {
    **{name: (lambda root, name=name: make_kaggle_layout(root, name)) for name in KAGGLE_LAYOUTS},
    "msd-brain-tumour": lambda root: make_msd_tree(root, shape=(32, 32, 80), tumour=(62, 70)),
    "dicom-folder": make_dicom_tree,
}


@pytest.mark.parametrize("name", LAYOUT_BUILDERS)
def test_inspect_and_run_on_every_layout(tmp_path, name):
    root = LAYOUT_BUILDERS[name](tmp_path / "data")
    inspected = invoke("data", "inspect", str(root), "--json")
    assert inspected.exit_code == 0, inspected.output
    report = json.loads(inspected.output[inspected.output.index("{"):])
    assert report["dataset"] == name and sum(sum(c.values()) for c in report["counts"].values()) > 0
    ran = invoke("run", "--suite", "tiny-data", "--data", str(root), "--results", str(tmp_path / "results"), "--device", "cpu")
    assert ran.exit_code == 0, ran.output
    rows = ResultsStore(tmp_path / "results").rows("tiny-data")
    assert rows and {r["dataset"] for r in rows} == {name} and {r["status"] for r in rows} == {"ok"}


def test_inspect_reports_corrupt_files_and_duplicates(tmp_path):
    root = make_kaggle_layout(tmp_path / "data", "brain-tumor-classification-mri")
    (root / "Training" / "no_tumor" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "Training" / "no_tumor" / "zero.jpg").write_bytes(b"")
    (root / "Training" / "no_tumor" / "notes.docx").write_text("x")
    copy = root / "Testing" / "no_tumor" / "copy.jpg"
    copy.write_bytes((root / "Training" / "no_tumor" / "no_tumor (1).jpg").read_bytes())
    result = invoke("data", "inspect", str(root))
    assert result.exit_code == 0, result.output
    text = result.output
    assert "1 empty file" in text and "1 unknown extension" in text and "1 unreadable image" in text
    assert "Training/no_tumor/broken.jpg" in text
    assert "1 of" in text and "Testing/no_tumor/copy.jpg" in text


def test_dataset_options_through_the_cli(tmp_path):
    root = make_kaggle_layout(tmp_path / "data", "brain-tumor-classification-mri")
    result = invoke("run", "--suite", "tiny-data", "--data", str(root), "--data-option",
                    "class_map=tumor=glioma_tumor+meningioma_tumor+pituitary_tumor,normal=no_tumor",
                    "--results", str(tmp_path / "r"), "--device", "cpu")
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(cli, ["run", "--suite", "tiny-data", "--data", str(root), "--data-option", "nope"], obj=load_plugins(extra_modules=[("t", tiny_data_plugin())]))
    assert bad.exit_code != 0 and "KEY=VALUE" in bad.output
    listed = invoke("data", "options", "msd-brain-tumour")
    assert "modality" in listed.output and "slices" in listed.output


@pytest.mark.shared_data
def test_inspect_the_shared_dataset(shared_brain_mri):
    report = REGISTRY.get("datasets", "brain-tumor-classification-mri").inspect(shared_brain_mri, SILENT)
    assert sum(report.counts["train"].values()) == 2870 and sum(report.counts["test"].values()) == 394
    assert report.skipped == {}
    assert report.duplicates.startswith("251 of 394 test images have an exact duplicate")


# --------------------------------------------------------------------------- real sample files


def test_pydicoms_real_mr_sample_reads_and_is_deidentified(tmp_path):
    """pydicom's MR_small.dcm (a real 64 x 64 MR slice, 16-bit, with a window in its
    header) copied as two patients per class."""
    import pydicom
    from pydicom.data import get_testdata_file

    sample = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    name = str(sample.PatientName)
    for c, cls in enumerate(("no", "yes")):
        folder = tmp_path / "data" / cls
        folder.mkdir(parents=True)
        for p in range(2):
            ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
            ds.PatientID, ds.SeriesInstanceUID = f"{ds.PatientID}-{c}{p}", f"1.2.826.0.1.{c}.{p}"
            ds.save_as(folder / f"{name}-{p}.dcm")
    data = dataset("dicom-folder").load(tmp_path / "data", 32, 1, SILENT)
    assert len(data.train) + len(data.test) == 4 and data.skipped == {}
    assert 20 < data.train.images.float().mean() < 235  # windowed, neither blank nor saturated
    assert name not in data.notes and not any(name in s for split in data.sources.values() for s in split)


def test_nibabels_real_4d_sample_reads_as_a_decathlon_volume(tmp_path):
    """nibabel's example4d.nii.gz (a real 128 x 96 x 24 x 2 fMRI series) as the images of
    two patients, with masks written here."""
    import os

    import nibabel as nib

    source = os.path.join(os.path.dirname(nib.__file__), "tests", "data", "example4d.nii.gz")
    (tmp_path / "imagesTr").mkdir()
    (tmp_path / "labelsTr").mkdir()
    shape = nib.load(source).shape[:3]
    for p in range(2):
        (tmp_path / "imagesTr" / f"BRATS_00{p}.nii.gz").write_bytes(open(source, "rb").read())
        mask = np.zeros(shape, np.uint8)
        mask[40:60, 40:60, 10:14] = 1
        nib.save(nib.Nifti1Image(mask, np.eye(4)), tmp_path / "labelsTr" / f"BRATS_00{p}.nii.gz")
    data = dataset("msd-brain-tumour", slices="5-20", modality="t1").load(tmp_path, 32, 1, SILENT)
    assert len(data.train) == len(data.test) == 15
    assert int(data.train.labels.sum()) == 4
    assert data.train.images.float().std() > 5


def test_the_leaderboard_reports_the_duplicate_check(tmp_path):
    root = make_kaggle_layout(tmp_path / "data", "brain-tumor-classification-mri")
    copy = root / "Testing" / "glioma_tumor" / "copy.jpg"
    copy.write_bytes((root / "Training" / "glioma_tumor" / "glioma_tumor (0).jpg").read_bytes())
    results = tmp_path / "results"
    assert invoke("run", "--suite", "tiny-data", "--data", str(root), "--results", str(results), "--device", "cpu").exit_code == 0
    board = invoke("leaderboard", "--suite", "tiny-data", "--results", str(results))
    assert "Data check: 1 of " in board.output and "exact duplicate in the training split" in board.output


def test_a_split_we_make_keeps_exact_copies_on_the_training_side(tmp_path):
    root = make_kaggle_layout(tmp_path / "data", "br35h", per_class=10)
    original = root / "yes" / "yes (0).jpg"
    for i in range(4):
        (root / "yes" / f"copy {i}.jpg").write_bytes(original.read_bytes())
    data = dataset("br35h").load(root, 16, 1, SILENT)
    assert "0 of" in data.leakage and "exact copies of training images were kept out of the test split" in data.notes
    assert not any("copy" in s or s.endswith("yes (0).jpg") for s in data.sources["test"])
