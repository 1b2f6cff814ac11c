"""Numbers BrainGAN (Alrashedy et al., Sensors 2022, 22, 4297) reports: Tables 7 and 8.

Dataset family: ``mri-based-brain-tumor-images``. Section 4.1 describes 400 images in
one folder with Normal/Tumor subfolders, 170 Normal and 230 Tumor, from Kaggle [28],
"MRI Based Brain Tumor Images" (mhantor): exactly that set. (Reference [27], the 4-class
Bhuvaji et al. set, is cited only for tumour types, not as the data.) The rows of
Table 8 quoted from other studies carry the data BrainGAN's Table 1 gives for them.

Protocol of Table 7: the classifiers are trained on 1400 generated images (700 Tumor,
700 No-Tumor) of GANs trained per class on the 400 real images, and tested on those 400
real images, at 224x224; "the recorded results represented the maximum obtained
validation values" (Fig. 2, step 6), hence the ``tstr_best_val_*`` keys. The networks
end in one sigmoid unit (Tables 3-5) and Eqs. 3-4 define precision and recall on TP/FP/FN,
so Precision is the tumour class's precision (``tstr_best_val_precision[Tumor]``, which
meets a run's ``tumor`` class) and Recall is tumour sensitivity, ganbench's ``sensitivity``. Table 8 repeats the DCGAN
columns of Table 7 beside three other studies' numbers.
"""

from ganbench.api import Claim, Measure, hookimpl, per_class

from .tables import PERCENT, Column, table_references

PAPER = "braingan-sensors-2022"
FAMILY = "mri-based-brain-tumor-images"
RESOLUTION = 224

# Table 7: model -> GAN -> (Loss, Accuracy, Precision, Recall, AUC), as printed.
TABLE_7 = {
    "CNN": {
        "Vanilla GAN": (0.42, 94.84, 93.24, 95.49, 95.29),
        "DCGAN": (0.37, 96.63, 97.01, 96.83, 98.14),
    },
    "MobileNetV2": {
        "Vanilla GAN": (0.39, 93.27, 92.19, 95.57, 96.92),
        "DCGAN": (0.33, 95.84, 96.48, 95.68, 97.50),
    },
    "ResNet152V2": {
        "Vanilla GAN": (0.32, 97.94, 96.91, 97.03, 96.65),
        "DCGAN": (0.19, 99.09, 99.12, 99.08, 99.51),
    },
}

# Table 8: row -> (Accuracy, Precision, Recall) in %, None where the paper prints a dash.
TABLE_8_OTHER_STUDIES = {
    "[11] Ghassemi & Rouhani (2020)": (98.57, None, None),
    "[18] Nayak, et al. (2022)": (98.78, 98.75, 98.75),
    "[20] Gupta, et al. (2022)": (99, None, None),
}
TABLE_8_PROPOSED = {
    "The proposed models using DCGAN, CNN": (96.63, 97.01, 96.83),
    "The proposed models using DCGAN, MobileNetV2": (95.84, 96.48, 95.68),
    "The proposed models using DCGAN, ResNet152V2": (99.09, 99.12, 99.08),
}

TABLE_7_NOTES = {("ResNet152V2", "DCGAN, Loss"): "the abstract and conclusion give 0.196"}

GANS = {"Vanilla GAN": "vanilla-gan", "DCGAN": "dcgan"}
CLASSIFIERS = {"CNN": "braingan-cnn", "MobileNetV2": "mobilenet-v2", "ResNet152V2": "resnet152"}
CLASSIFIER_NOTES = {
    "CNN": "the paper's own CNN (Table 3)",
    "MobileNetV2": "",
    "ResNet152V2": "ResNet152V2 (Keras) in the paper; ganbench's resnet152 is torchvision's v1.5",
}

PROTOCOL = (
    "train on 1400 generated images (700 per class), test on the 400 real images at 224 px; "
    "each score the maximum over validation epochs"
)
SAMPLES = "1400 generated (700 Tumor, 700 No-Tumor) for training; 400 real (170 Normal, 230 Tumor) for testing"
DIFFERENCES = (
    "each score is its own best over the validation epochs, not the scores of the one epoch with the best "
    "validation accuracy (for the loss presumably its minimum)",
    "the 400 real test images are the images the GANs were trained on, not a held-out split",
    "validation and test sets not clearly separate: Fig. 2 splits the data 70/30 into training and validation, "
    "Section 6 tests on the 400 real images",
)
PRECISION = Column(
    "Precision",
    per_class("tstr_best_val_precision", "Tumor"),
    PERCENT,
    differences=("positive class taken to be Tumor (one sigmoid unit, Eq. 3); the paper does not name it",),
)
RECALL = Column(
    "Recall",
    "tstr_best_val_sensitivity",
    PERCENT,
    differences=("positive class taken to be Tumor (one sigmoid unit); the paper does not name it",),
)
TABLE_7_COLUMNS = (
    Column("Loss", "tstr_best_val_loss"),
    Column("Accuracy", "tstr_best_val_accuracy", PERCENT),
    PRECISION,
    RECALL,
    Column("AUC", "tstr_best_val_auc", PERCENT),
)

QUOTED = "quoted from another study: its split, test set and model selection are not stated in this paper"
OTHER_STUDIES = {
    "[11] Ghassemi & Rouhani (2020)": dict(
        gan="pre-trained-gan",
        dataset_family="nanfang-tianjin-mri-2005-2010",
        note="not in ganbench: a classifier built on a pre-trained GAN (BrainGAN's Table 1: 'Pre-Trained GAN'); "
        "data: Nanfang Hospital and General Hospital, Tianjin Medical University MRI, 2005-2010 (Table 1)",
        differences=(QUOTED, "classifier built on a GAN pre-trained on MR images, not trained on real images alone"),
    ),
    "[18] Nayak, et al. (2022)": dict(
        gan="none",
        dataset_family="kaggle-t1-contrast-3260",
        note="no GAN: a Dense EfficientNet (not a ganbench classifier) trained on real images; data per BrainGAN's "
        "Table 1: 3260 T1 contrast brain tumour images from Kaggle, perhaps Bhuvaji et al.'s 3264-image set "
        "(brain-tumor-classification-mri), which the count does not match",
        differences=(QUOTED, "precision and recall averaging not stated"),
    ),
    "[20] Gupta, et al. (2022)": dict(
        gan="c-gan",
        dataset_family="unstated-public-brain-mri",
        note="not in ganbench: Gupta et al.'s C-GAN (BrainGAN's text calls it a Cyclic GAN) to enlarge the data; "
        "data: 'publicly datasets for tumor detection and classification' (Table 1)",
        differences=(
            QUOTED,
            "the 99% is [20]'s tumour detection accuracy (Table 1: detection 99%, classification 98%)",
        ),
    ),
}
OTHER_STUDIES_COLUMNS = (
    Column("Accuracy", "trtr_accuracy", PERCENT),
    Column("Precision", "trtr_macro_precision", PERCENT),
    Column("Recall", "trtr_macro_recall", PERCENT),
)
# Gupta et al. train on GAN-enlarged data: augmentation, so trstr.
GUPTA_COLUMNS = (Column("Accuracy", "trstr_accuracy", PERCENT), OTHER_STUDIES_COLUMNS[1], OTHER_STUDIES_COLUMNS[2])


def table_7():
    references = []
    for gan_label, gan in GANS.items():
        columns = [Column(f"{gan_label}, {c.label}", c.metric, c.unit, c.differences) for c in TABLE_7_COLUMNS]
        references += table_references(
            paper=PAPER,
            table="Table 7",
            columns=columns,
            rows={model: by_gan[gan_label] for model, by_gan in TABLE_7.items()},
            row_fields={m: dict(classifier=CLASSIFIERS[m], note=CLASSIFIER_NOTES[m]) for m in TABLE_7},
            cell_notes={cell: note for cell, note in TABLE_7_NOTES.items() if cell[1] in {c.label for c in columns}},
            gan=gan,
            dataset_family=FAMILY,
            protocol=PROTOCOL,
            resolution=RESOLUTION,
            samples=SAMPLES,
            differences=DIFFERENCES,
        )
    return references


def table_8():
    model = {row: row.rsplit(", ", 1)[1] for row in TABLE_8_PROPOSED}
    references = table_references(
        paper=PAPER,
        table="Table 8",
        columns=(Column("Accuracy", "tstr_best_val_accuracy", PERCENT), PRECISION, RECALL),
        rows=TABLE_8_PROPOSED,
        row_fields={row: dict(classifier=CLASSIFIERS[m], note=CLASSIFIER_NOTES[m]) for row, m in model.items()},
        gan="dcgan",
        dataset_family=FAMILY,
        protocol=PROTOCOL,
        resolution=RESOLUTION,
        samples=SAMPLES,
        differences=DIFFERENCES,
        note="repeats Table 7's DCGAN columns",
    )
    for row, values in TABLE_8_OTHER_STUDIES.items():
        references += table_references(
            paper=PAPER,
            table="Table 8",
            columns=GUPTA_COLUMNS if row.startswith("[20]") else OTHER_STUDIES_COLUMNS,
            rows={row: values},
            row_fields={row: OTHER_STUDIES[row]},
            protocol="another study's result as BrainGAN's Table 8 quotes it",
        )
    return references


def _accuracy(gan: str, classifier: str) -> Measure:
    return Measure(gan, "tstr_best_val_accuracy", classifier)


CLAIMS = (
    Claim(
        paper=PAPER,
        where="Table 7, Sections 5 and 7",
        text="the DCGAN generated images outperformed the Vanilla GAN generated images, for every classifier (accuracy)",
        comparisons=tuple((_accuracy("dcgan", c), _accuracy("vanilla-gan", c)) for c in CLASSIFIERS.values()),
    ),
    Claim(
        paper=PAPER,
        where="Abstract, Table 7",
        text="the ResNet152V2 model outperformed the other two models (DCGAN images: 99.09% accuracy)",
        comparisons=(
            (_accuracy("dcgan", "resnet152"), _accuracy("dcgan", "braingan-cnn")),
            (_accuracy("dcgan", "resnet152"), _accuracy("dcgan", "mobilenet-v2")),
        ),
    ),
)


@hookimpl
def register_claims(register):
    for claim in CLAIMS:
        register(claim)


@hookimpl
def register_references(register):
    for reference in table_7() + table_8():
        register(reference)
