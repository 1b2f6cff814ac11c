"""The decoded-dataset cache and the dataset fingerprint follow the files' contents.

``cp -p``, ``rsync -a`` and tar keep the timestamps of files whose contents change; a
key of path, size and mtime then hands back the old pixels. Every test here rewrites
files in place with the same size and puts their old timestamps back (``os.utime``),
then checks the reader gives the new pixels and a new fingerprint.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganbench.data import cache as data_cache
from ganbench.specs import SilentProgress
from ganbench_plugins.datasets.dicom_folder import DicomFolder
from ganbench_plugins.datasets.image_folder import ImageFolder
from ganbench_plugins.datasets.msd_brain_tumour import MSDBrainTumour
from medical_fixtures import make_dicom_tree, make_msd_tree

SILENT = SilentProgress()


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(tmp_path / "ganbench-cache"))


def rewrite_keeping_size_and_times(path: Path, write) -> None:
    """``write(path)`` new contents of the same size, then restore the old timestamps."""
    before = path.stat()
    old = path.read_bytes()
    write(path)
    assert path.read_bytes() != old, "the rewrite must change the contents"
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def all_images(data) -> torch.Tensor:
    return torch.cat([data.train.images, data.test.images])


# --------------------------------------------------------------------------- image folders


def bmp_tree(root: Path, per_class: int = 6, value=lambda c, i: 20 * i + 100 * c) -> Path:
    """ROOT/<class>/<n>.bmp, 16 x 16 grey: BMP has a fixed size for fixed dimensions."""
    for c, cls in enumerate(("a", "b")):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.new("L", (16, 16), value(c, i) % 256).save(root / cls / f"{i}.bmp")
    return root


def test_image_folder_sees_files_changed_in_place(tmp_path):
    root = bmp_tree(tmp_path / "flat")
    before = ImageFolder().load(root, 8, 1, SILENT)
    for path in sorted(root.rglob("*.bmp")):
        rewrite_keeping_size_and_times(path, lambda p: Image.new("L", (16, 16), 7).save(p))
    after = ImageFolder().load(root, 8, 1, SILENT)
    assert after.fingerprint != before.fingerprint
    assert bool((all_images(after) == 7).all()) and not bool((all_images(before) == 7).all())


def test_image_folder_fingerprint_ignores_timestamps(tmp_path):
    root = bmp_tree(tmp_path / "flat")
    before = ImageFolder().load(root, 8, 1, SILENT)
    for path in root.rglob("*.bmp"):
        os.utime(path, ns=(0, 10**18))
    assert ImageFolder().load(root, 8, 1, SILENT).fingerprint == before.fingerprint


# --------------------------------------------------------------------------- volumes


def test_dicom_folder_sees_files_changed_in_place(tmp_path):
    import pydicom

    root = make_dicom_tree(tmp_path / "dicom", patients_per_class=2, slices=4)
    reader = DicomFolder()
    before = reader.load(root, 16, 1, SILENT)

    def brighten(path):
        ds = pydicom.dcmread(path)
        pixels = ds.pixel_array
        ds.PixelData = (pixels.max() - pixels).astype(pixels.dtype).tobytes()  # same length, other values
        ds.save_as(path)

    for path in sorted(p for p in root.rglob("IM*") if p.is_file()):
        rewrite_keeping_size_and_times(path, brighten)
    after = reader.load(root, 16, 1, SILENT)
    assert after.fingerprint != before.fingerprint
    assert not torch.equal(all_images(after), all_images(before))


def uncompressed_msd_tree(root: Path) -> Path:
    """The MSD test tree as .nii files: fixed size for a fixed shape, so contents can
    change in place at the same size."""
    import nibabel as nib

    make_msd_tree(root, patients=4)
    for path in sorted(root.rglob("*.nii.gz")):
        if not path.name.startswith("."):
            image = nib.load(str(path))
            nib.save(nib.Nifti1Image(np.asarray(image.dataobj), image.affine), str(path)[: -len(".gz")])
        path.unlink()
    return root


def rewrite_nifti(path: Path, change) -> None:
    import nibabel as nib

    image = nib.load(str(path))
    data = change(np.asarray(image.dataobj).copy())
    rewrite_keeping_size_and_times(path, lambda p: nib.save(nib.Nifti1Image(data, image.affine), str(p)))


def test_msd_reader_sees_volumes_and_masks_changed_in_place(tmp_path):
    root = uncompressed_msd_tree(tmp_path / "msd")
    # The test volumes are 20 slices deep; the default range is the thesis' 60-100.
    reader = MSDBrainTumour().configure({"slices": "4-16"})
    before = reader.load(root, 16, 1, SILENT)

    # The tumour masks decide the labels: a mask emptied in place must change them.
    rewrite_nifti(root / "labelsTr" / "BRATS_001.nii", lambda mask: np.zeros_like(mask))
    masks_changed = reader.load(root, 16, 1, SILENT)
    assert masks_changed.fingerprint != before.fingerprint
    tumours = lambda data: int(data.train.labels.sum() + data.test.labels.sum())  # noqa: E731
    assert tumours(masks_changed) == tumours(before) - 4

    rewrite_nifti(root / "imagesTr" / "BRATS_002.nii", lambda volume: volume[::-1].copy())
    volumes_changed = reader.load(root, 16, 1, SILENT)
    assert volumes_changed.fingerprint != masks_changed.fingerprint
    assert not torch.equal(all_images(volumes_changed), all_images(masks_changed))


# --------------------------------------------------------------------------- the cache entries


def test_entries_of_another_cache_version_are_not_used(tmp_path, monkeypatch):
    path = tmp_path / "entry.npz"
    data_cache.save_arrays(path, "fp", {"x": np.arange(3)}, SILENT)
    assert data_cache.load_arrays(path, "fp")["x"].tolist() == [0, 1, 2]
    assert data_cache.load_arrays(path, "other") is None
    monkeypatch.setattr(data_cache, "CACHE_VERSION", data_cache.CACHE_VERSION + 1)
    assert data_cache.load_arrays(path, "fp") is None


def test_file_digests_hash_contents(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    a.write_bytes(b"same")
    b.write_bytes(b"same")
    c.write_bytes(b"sane")
    digests = data_cache.file_digests([a, b, c, tmp_path / "missing"])
    assert digests[0] == digests[1] != digests[2] and digests[3] == ""
