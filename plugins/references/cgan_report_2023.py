"""Numbers the conditional-GAN + ResNet50 report (2023) gives: precision, recall and F1
of ResNet50 before (Section 5.1) and after (Section 5.2) adding conditional-DCGAN images.

The report has no numbered tables. Section 5.1.4 prints the "before" scores in a small
table (Precision_Score, Recall_Score, F1_Score); its per-class scores appear only in
text, listed again as "First Model" in Section 5.3. Section 5.2.4 prints the "after"
scores as a scikit-learn classification report (per class, accuracy, macro and weighted
averages, support) and the same small table; Section 5.3's "Second Model" list repeats
that report in whole percent and is not taken again. Classes 0-3 are Glioma, Meningioma,
Normal and Pituitary (the text below each report); per-class scores are keyed
``trstr_f1[Glioma]`` etc., which meet a run's ``glioma``/``glioma_tumor`` class.

Dataset family: ``unnamed-4-class-brain-mri-3096``. Section 2.1: 3096 grayscale images
of 256x256 px in four classes (glioma, meningioma, pituitary tumour, no tumour) "from
multiple medical institutions and public repositories", split 80/20. The shared
datasets README assigns the report to Bhuvaji et al.'s "Brain Tumor Classification
(MRI)" (``brain-tumor-classification-mri``), but that set has 3264 images, mostly
512x512 RGB JPEGs, and the report names no source: perhaps a 256-px derivative of it,
but not the same data as far as the report says.

Mapping. Before augmentation is ``trtr``, after is ``trstr`` with ganbench's ``cdcgan``
(the report's conditional DCGAN: 128 px, 10000 images, 2500 a class). The report
evaluates the model Keras's fit returns on the 619 validation images (20% of 3096, the
support), so the final model's keys. ResNet50 runs on 128x128 inputs (its Input layer).
"""

from ganbench.api import Claim, Measure, hookimpl, per_class

from .tables import PERCENT, Column, table_references

PAPER = "cgan-resnet50-report-2023"
FAMILY = "unnamed-4-class-brain-mri-3096"
RESOLUTION = 128
CLASSES = {"0": "Glioma", "1": "Meningioma", "2": "Normal", "3": "Pituitary"}

# Section 5.1.4, table: row -> (ResNet50,).
BEFORE_SCORES = {"Precision_Score": (0.946173,), "Recall_Score": (0.945743,), "F1_Score": (0.943818,)}
# Section 5.3, "First Model": class -> (Precision, Recall, F1-score) in %; overall accuracy in %.
BEFORE_CLASSES = {
    "First Model, Glioma": (99, 85, 91),
    "First Model, Meningioma": (87, 97, 92),
    "First Model, Normal": (96, 99, 98),
    "First Model, Pituitary": (97, 98, 97),
}
BEFORE_ACCURACY = {"First Model": (94,)}

# Section 5.2.4, classification report: row -> (precision, recall, f1-score, support).
AFTER_REPORT = {
    "0": (0.96, 0.89, 0.93, 184),
    "1": (0.91, 0.95, 0.93, 179),
    "2": (0.94, 0.99, 0.96, 81),
    "3": (0.96, 0.97, 0.97, 175),
    "accuracy": (None, None, 0.94, 619),
    "macro avg": (0.94, 0.95, 0.95, 619),
    "weighted avg": (0.94, 0.94, 0.94, 619),
}
# Section 5.2.4, table: row -> (ResNet50,).
AFTER_SCORES = {"Precision_Score": (0.950027,), "F1_Score": (0.946320,), "Recall_Score": (0.943856,)}

SCORE_KEYS = {"Precision_Score": "macro_precision", "Recall_Score": "macro_recall", "F1_Score": "macro_f1"}

PROTOCOL_BEFORE = "ResNet50 (ImageNet, first 15 layers frozen) trained on the real 80% split, scored on the 20% split"
PROTOCOL_AFTER = (
    "ResNet50 (ImageNet, first 15 layers frozen) trained on the real 80% split plus conditional-DCGAN images, "
    "scored on the 20% split"
)
SAMPLES_BEFORE = "3096 real images split 80/20; 619 scored"
SAMPLES_AFTER = "3096 real images split 80/20 plus 10000 generated (2500 a class); 619 scored"
DIFFERENCES = (
    "scored on the validation split that also drove EarlyStopping and ReduceLROnPlateau; no separate test split",
    "EarlyStopping and ReduceLROnPlateau callbacks (their settings not shown)",
)
BEFORE_DIFFERENCES = DIFFERENCES + ("15 epochs (ganbench's paper profile of resnet50: 20)",)
AFTER_DIFFERENCES = DIFFERENCES + (
    "stopped early after 16 of its 20 epochs (the log and the last-5-epochs table end at epoch 16)",
    "how many generated images joined the training set not stated (ganbench: settings['synthetic_share'], "
    "default 0.5)",
)
AVERAGING = "averaging of Precision_Score, Recall_Score and F1_Score not stated"
# F1_Score and Recall_Score round to the report's macro F1 and weighted recall; this one to neither.
AFTER_PRECISION = (
    "Precision_Score 0.950027 rounds to neither the macro nor the weighted precision (both 0.94) of the "
    "report's own classification report",
)


def before():
    common = dict(
        paper=PAPER,
        table="Section 5.1.4",
        # trtr uses no generated image: ganbench measures it in every cell, so in the
        # cdcgan cells beside the "after" scores, on the same real images.
        gan="cdcgan",
        classifier="resnet50",
        dataset_family=FAMILY,
        resolution=RESOLUTION,
        protocol=PROTOCOL_BEFORE,
        samples=SAMPLES_BEFORE,
        note="no GAN: ResNet50 trained on real images only (trtr, measured in the cdcgan cells)",
        differences=BEFORE_DIFFERENCES,
    )
    references = table_references(
        columns=(Column("ResNet50", "", "fraction", (AVERAGING,)),),
        rows=BEFORE_SCORES,
        row_fields={row: dict(metric=f"trtr_{key}") for row, key in SCORE_KEYS.items()},
        **common,
    )
    listed = {**common, "table": "Section 5.3"}
    for row, values in BEFORE_CLASSES.items():
        qualifier = row.split(", ", 1)[1]
        references += table_references(
            columns=[
                Column(label, per_class(f"trtr_{score}", qualifier), PERCENT)
                for label, score in (("Precision", "precision"), ("Recall", "recall"), ("F1-score", "f1"))
            ],
            rows={row: values},
            **listed,
        )
    references += table_references(
        columns=(Column("Overall accuracy", "trtr_accuracy", PERCENT),),
        rows=BEFORE_ACCURACY,
        **listed,
    )
    return references


def after():
    common = dict(
        paper=PAPER,
        table="Section 5.2.4",
        gan="cdcgan",
        classifier="resnet50",
        dataset_family=FAMILY,
        resolution=RESOLUTION,
        protocol=PROTOCOL_AFTER,
        samples=SAMPLES_AFTER,
        differences=AFTER_DIFFERENCES,
    )
    support = Column("support", "test_images", "images")

    def report(rows, key, row_fields={}):
        columns = [
            Column(label, key(score), "fraction")
            for label, score in zip(("precision", "recall", "f1-score"), ("precision", "recall", "f1"))
        ]
        return table_references(
            columns=[*columns, support],
            rows={row: AFTER_REPORT[row] for row in rows},
            row_fields=row_fields,
            **common,
        )

    references = []
    for row, name in CLASSES.items():
        references += report([row], lambda score, name=name: per_class(f"trstr_{score}", name), {row: dict(note=f"class {row} = {name}")})
    references += report(["macro avg"], lambda score: f"trstr_macro_{score}")
    references += report(["weighted avg"], lambda score: f"trstr_weighted_{score}")
    # scikit-learn prints the accuracy in the f1-score column.
    references += table_references(
        columns=(
            Column("precision", ""),
            Column("recall", ""),
            Column("f1-score", "trstr_accuracy", "fraction"),
            support,
        ),
        rows={"accuracy": AFTER_REPORT["accuracy"]},
        **common,
    )
    scores = {row: dict(metric=f"trstr_{key}") for row, key in SCORE_KEYS.items()}
    scores["Precision_Score"]["differences"] = AFTER_PRECISION
    references += table_references(
        columns=(Column("ResNet50", "", "fraction", (AVERAGING,)),),
        rows=AFTER_SCORES,
        row_fields=scores,
        **common,
    )
    return references


CLAIMS = (
    Claim(
        paper=PAPER,
        where="Sections 5.3 and 6",
        text="adding conditional-DCGAN images to the training set raises ResNet50's F1 (0.9438 -> 0.9463)",
        comparisons=((Measure("cdcgan", "trstr_macro_f1", "resnet50"), Measure("cdcgan", "trtr_macro_f1", "resnet50")),),
        note="before = trtr, after = trstr, both scored in the same cdcgan cell on the same real test images",
    ),
    Claim(
        paper=PAPER,
        where="Sections 5.3 and 6",
        text="augmentation raises ResNet50's precision (0.9462 -> 0.9500)",
        comparisons=(
            (Measure("cdcgan", "trstr_macro_precision", "resnet50"), Measure("cdcgan", "trtr_macro_precision", "resnet50")),
        ),
    ),
)


@hookimpl
def register_references(register):
    for reference in before() + after():
        register(reference)


@hookimpl
def register_claims(register):
    for claim in CLAIMS:
        register(claim)
