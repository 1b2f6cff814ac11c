"""Small on-disk datasets in the published layouts, NIfTI and DICOM, written by the
tests themselves (nibabel, pydicom, Pillow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

#: PHI written into the DICOM fixtures; none of it may appear in any output.
PATIENT_NAME = "Doe^Jane"
PATIENT_ID = "MRN-998877"
BIRTH_DATE = "19700101"
PHI_STRINGS = ("Doe", "Jane", PATIENT_ID, BIRTH_DATE)

#: dataset name -> (class folders per split; an archive folder; extra folders)
KAGGLE_LAYOUTS = {
    "brain-tumor-classification-mri": (("glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor"), "A", "", ()),
    "brain-tumor-mri-dataset": (("glioma", "meningioma", "notumor", "pituitary"), "A", "", ()),
    "br35h": (("yes", "no"), "B", "", ("pred",)),
    "brain-mri-yes-no": (("yes", "no"), "B", "brain_tumor_dataset", ()),
    "mri-based-brain-tumor-images": (("Normal", "Tumor"), "B", "Braintumorimages", ()),
}


def brain_like(rng: np.random.Generator, size: int = 48, tumour: bool = False) -> np.ndarray:
    """A noisy ellipse (and a bright blob for tumours): distinct images per call."""
    yy, xx = np.mgrid[:size, :size] / size - 0.5
    head = ((xx / 0.4) ** 2 + (yy / 0.45) ** 2 < 1).astype(float)
    img = head * (90 + 60 * rng.random((size, size)))
    if tumour:
        cx, cy = rng.uniform(-0.2, 0.2, 2)
        img += 120 * (((xx - cx) ** 2 + (yy - cy) ** 2) < 0.01)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_kaggle_layout(root: Path, name: str, per_class: int = 6, seed: int = 0) -> Path:
    classes, layout, archive, extra = KAGGLE_LAYOUTS[name]
    rng = np.random.default_rng(seed)
    base = root / archive if archive else root
    splits = ("Training", "Testing") if layout == "A" else ("",)
    for split in splits:
        for c, cls in enumerate(classes):
            folder = base / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class if split != "Testing" else max(2, per_class // 2)):
                Image.fromarray(brain_like(rng, tumour=c % 2 == 0)).convert("RGB").save(folder / f"{cls} ({i}).jpg", quality=95)
    for folder in extra:  # e.g. Br35H's unlabelled pred/
        (base / folder).mkdir(parents=True, exist_ok=True)
        Image.fromarray(brain_like(rng)).save(base / folder / "pred0.jpg")
    return root


def make_msd_tree(root: Path, patients: int = 5, shape=(32, 32, 20), seed: int = 0, tumour=(8, 12)) -> Path:
    """Task01_BrainTumour-like: 4-D FLAIR/T1w/T1gd/T2w volumes, tumour in slices 8..11."""
    import nibabel as nib

    rng = np.random.default_rng(seed)
    images, labels = root / "imagesTr", root / "labelsTr"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    for p in range(patients):
        volume = rng.normal(300 + 50 * p, 40, (*shape, 4)).astype(np.float32).clip(0)
        mask = np.zeros(shape, np.uint8)
        mask[10:16, 10:16, tumour[0]:tumour[1]] = 2
        volume[10:16, 10:16, tumour[0]:tumour[1], 0] += 400
        affine = np.eye(4)
        nib.save(nib.Nifti1Image(volume, affine), images / f"BRATS_{p + 1:03d}.nii.gz")
        nib.save(nib.Nifti1Image(mask, affine), labels / f"BRATS_{p + 1:03d}.nii.gz")
    (images / "._BRATS_001.nii.gz").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")
    return root


def dicom_slice(path: Path, pixels: np.ndarray, *, patient_id: str, series_uid: str, study_uid: str, z: float, instance: int,
                slope: float = 1.0, intercept: float = 0.0, window=None, photometric="MONOCHROME2", with_pixels=True) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = PATIENT_NAME if patient_id.endswith("0") else "Roe^Richard", patient_id, BIRTH_DATE
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = study_uid, series_uid, "MR"
    ds.InstanceNumber = instance
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, z], [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    if with_pixels:
        ds.Rows, ds.Columns = pixels.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.PixelData = pixels.astype(np.int16).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def make_dicom_tree(root: Path, patients_per_class: int = 3, slices: int = 6, seed: int = 0) -> Path:
    """ROOT/<class>/<patient folder named after the patient>/<slice files in shuffled
    order>; each slice's mean grey encodes its position. Patient 0's name is PHI."""
    from pydicom.uid import generate_uid

    rng = np.random.default_rng(seed)
    for c, cls in enumerate(("no_tumour", "tumour")):
        for p in range(patients_per_class):
            patient_id = f"{PATIENT_ID}{c}{p}0" if p == 0 else f"P{c}{p}"
            study, series = generate_uid(), generate_uid()
            folder = root / cls / (f"{PATIENT_NAME.replace('^', '_')}_{patient_id}" if p == 0 else f"patient{p}")
            for k, i in enumerate(rng.permutation(slices)):
                pixels = (brain_like(rng, 32, tumour=c == 1).astype(np.int16) * 4 + 100 * int(i)).astype(np.int16)
                dicom_slice(folder / f"IM{k:04d}", pixels, patient_id=patient_id, series_uid=series, study_uid=study,
                            z=float(i) * 2.5, instance=int(slices - i), slope=0.5, intercept=-10.0)
    return root
