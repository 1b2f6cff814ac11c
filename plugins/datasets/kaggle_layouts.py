"""The public brain-MRI datasets the papers use, each read in the layout its authors
publish (the Kaggle archives, unzipped). Every one is the ``image-folder`` reader with a
fixed :class:`FolderLayout`, so detection, preprocessing, splits, class maps and the
duplicate check are the same for all; only what makes each layout recognisable differs.

=================================  ==========================================================
dataset                            layout (ROOT is the folder given to ``--data``)
=================================  ==========================================================
brain-tumor-classification-mri     ROOT/Training|Testing/glioma_tumor|meningioma_tumor|no_tumor|pituitary_tumor
brain-tumor-mri-dataset            ROOT/Training|Testing/glioma|meningioma|notumor|pituitary
br35h                              ROOT/yes|no (the unlabelled ROOT/pred is not read)
brain-mri-yes-no                   ROOT[/brain_tumor_dataset]/yes|no
mri-based-brain-tumor-images       ROOT[/Braintumorimages]/Normal|Tumor
=================================  ==========================================================

The last three have no split of their own: 20% of each class is held out with the fixed
seed (``--data-option test_fraction=70/30`` for IJACSA's ratio).
"""

from __future__ import annotations

from ganbench.api import hookimpl

from .image_folder import FolderLayout, ImageFolder


def _layout(classes, split_layout=None, data_dirs=(), ignore_dirs=()) -> FolderLayout:
    return FolderLayout(
        class_folders=frozenset(c.lower() for c in classes),
        data_dirs=tuple(data_dirs),
        ignore_dirs=frozenset(d.lower() for d in ignore_dirs),
        split_layout=split_layout,
    )


class PublishedLayout(ImageFolder):
    """A named published dataset: the generic reader, pinned to one layout."""

    layout_spec: FolderLayout

    def __init__(self, **kwargs):
        super().__init__(family=self.name, layout=self.layout_spec, **kwargs)


class BrainTumorClassificationMRI(PublishedLayout):
    name = "brain-tumor-classification-mri"
    description = "Bhuvaji et al.'s 3,264 JPEGs, 4 classes, own Training/Testing split (IJACSA, cGAN report)"
    source = "Kaggle sartajbhuvaji/brain-tumor-classification-mri (github.com/SartajBhuvaji/Brain-Tumor-Classification-DataSet)"
    obtain = "the unzipped Kaggle archive sartajbhuvaji/brain-tumor-classification-mri (folders Training/ and Testing/)"
    layout_spec = _layout({"glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor"}, "A")


class BrainTumorMRIDataset(PublishedLayout):
    name = "brain-tumor-mri-dataset"
    description = "Nickparvar's 7,023 images (figshare + SARTAJ + Br35H), 4 classes, own Training/Testing split"
    source = "Kaggle masoudnickparvar/brain-tumor-mri-dataset"
    obtain = "the unzipped Kaggle archive masoudnickparvar/brain-tumor-mri-dataset (folders Training/ and Testing/)"
    layout_spec = _layout({"glioma", "meningioma", "notumor", "pituitary"}, "A")


class Br35H(PublishedLayout):
    name = "br35h"
    description = "Br35H 2020: 3,000 images, tumour yes/no (the unlabelled pred/ folder is not read)"
    source = "Kaggle ahmedhamada0/brain-tumor-detection (Br35H :: Brain Tumor Detection 2020)"
    obtain = "the unzipped Kaggle archive ahmedhamada0/brain-tumor-detection (folders yes/, no/, pred/)"
    layout_spec = _layout({"yes", "no"}, "B", ignore_dirs={"pred"})


class BrainMRIYesNo(PublishedLayout):
    name = "brain-mri-yes-no"
    description = "Navoneel Chakrabarty's 253 images, tumour yes/no"
    source = "Kaggle navoneel/brain-mri-images-for-brain-tumor-detection"
    obtain = "the unzipped Kaggle archive navoneel/brain-mri-images-for-brain-tumor-detection (brain_tumor_dataset/yes, /no)"
    layout_spec = _layout({"yes", "no"}, "B", data_dirs=("brain_tumor_dataset",))


class MRIBasedBrainTumorImages(PublishedLayout):
    name = "mri-based-brain-tumor-images"
    description = "BrainGAN's 400 images: 170 Normal, 230 Tumor (Sensors 2022)"
    source = "Kaggle mhantor/mri-based-brain-tumor-images (BrainGAN, Alrashedy et al., Sensors 2022)"
    obtain = "the unzipped Kaggle archive mhantor/mri-based-brain-tumor-images (Braintumorimages/Normal, /Tumor)"
    layout_spec = _layout({"Normal", "Tumor"}, "B", data_dirs=("Braintumorimages",))


PUBLISHED = (BrainTumorClassificationMRI, BrainTumorMRIDataset, Br35H, BrainMRIYesNo, MRIBasedBrainTumorImages)


@hookimpl
def register_datasets(register):
    for dataset in PUBLISHED:
        register(dataset())
