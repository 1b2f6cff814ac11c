"""Numbers the GAN + CNN brain-MRI paper (IJACSA 15(6), 2024) reports: Tables III-VI.

Dataset families. Section III.A names the "BRAIN TUMOR MRI DATASET" (figshare + SARTAJ +
Br35H, 7023 images, four classes): Nickparvar's set, ``brain-tumor-mri-dataset``, not
Bhuvaji et al.'s 3264-image set (``brain-tumor-classification-mri``) that the shared
datasets README assigns to this paper. But the experiments of Tables III-V are
two-class: "train_GAN is called twice: once for normal ... once for tumor" images, and
Table III's first row and Section IV.A say the GAN was trained on 230 tumour and 170
no-tumour images, of various sizes; the generated counts are 2, 3 and 4 times those.
230 Tumor + 170 Normal is exactly Kaggle's "MRI Based Brain Tumor Images", so Tables
III-V get ``mri-based-brain-tumor-images``. Table VI compares per tumour class
(glioma, meningioma, pituitary) "on the brain tumor MRI data set" at 256x256: the
four-class set the paper names, ``brain-tumor-mri-dataset``.

Rows. The image size repeats down Tables III-V, so a row is "<image size>, <total
images>", the total being Table IV's "Total Images" of the same run (Table III's two
counts add up to it). Table V prints only the size: its rows are matched with Table IV
by order, which the text confirms for 512x512 (800, then 1,200 images); it has no
512x512 row of 1,600 images. The "Various and different sizes" rows are the real data
(N/A everywhere but Table III).

Mapping. "Proposed GAN" is ganbench's ``sn-gan``. PSNR, MSE and SSIM compare generated
with "original" images without saying how they are paired: nearest-real is our reading.
Section IV.C trains the Table II CNN on "the generated dataset" (the real-data row of
Table V is N/A), hence ``tstr``; Section V.C says original plus generated. The
columns' 5, 10 and 30 are training epochs; the values are the final model's.

OCR damage (the text is an OCR of the PDF) is told in the notes of the cells it touches.
Table V's 256x256 row of 1,600 images has its accuracy at 5 and 10 epochs illegible and
left out, and so is Table IV's "Total Images" of the real data (the other cells of that
row are N/A). Table VI's 25.5 is printed "255".
"""

from ganbench.api import Claim, Measure, hookimpl, per_class

from .tables import PERCENT, Column, table_references

PAPER = "gan-cnn-mri-ijacsa-2024"
TWO_CLASS = "mri-based-brain-tumor-images"
FOUR_CLASS = "brain-tumor-mri-dataset"
REAL_ROW = "Various and different sizes"

# Table III: row -> (Number of Tumor Images, Number of No Tumor (Normal) Images).
TABLE_III = {
    REAL_ROW: (230, 170),
    "256x256, 800": (460, 340),
    "256x256, 1,200": (690, 510),
    "256x256, 1,600": (920, 680),
    "512x512, 800": (460, 340),
    "512x512, 1,200": (690, 510),
    "512x512, 1,600": (920, 680),
}
# Table IV: row -> (Total Images, Average PSNR (dB), Average MSE, Average SSIM); the real
# data row is N/A but for an illegible total.
TABLE_IV = {
    "256x256, 800": (800, 24.5, 0.015, 0.65),
    "256x256, 1,200": (1200, 25.8, 0.012, 0.70),
    "256x256, 1,600": (1600, 26.1, 0.010, 0.75),
    "512x512, 800": (800, 31.1, 0.008, 0.81),
    "512x512, 1,200": (1200, 32.2, 0.007, 0.85),
    "512x512, 1,600": (1600, 33.6, 0.006, 0.91),
}
# Table V: row -> average accuracy (%) after 5, 10, 30 epochs, then average loss after 5, 10, 30.
TABLE_V = {
    "256x256, 800": (79.2, 82.7, 87.5, 0.203, 0.157, 0.128),
    "256x256, 1,200": (80.6, 84.1, 88.7, 0.191, 0.144, 0.116),
    "256x256, 1,600": (None, None, 90.2, 0.178, 0.132, 0.103),
    "512x512, 800": (84.7, 88.4, 92.6, 0.156, 0.119, 0.091),
    "512x512, 1,200": (86.4, 89.9, 95.1, 0.142, 0.106, 0.080),
}
# Table VI: category -> method -> (SSIM, PSNR).
TABLE_VI = {
    "Glioma": {
        "DDGAN": (0.40, 15.54),
        "WGAN": (0.42, 17.32),
        "LSGAN": (0.48, 17.52),
        "InfoGAN": (0.43, 17.21),
        "Proposed GAN": (0.70, 25.0),
    },
    "Meningioma": {
        "DDGAN": (0.40, 15.62),
        "WGAN": (0.46, 17.91),
        "LSGAN": (0.45, 17.96),
        "InfoGAN": (0.43, 16.48),
        "Proposed GAN": (0.75, 25.5),
    },
    "Pituitary": {
        "DDGAN": (0.37, 16.42),
        "WGAN": (0.40, 16.91),
        "LSGAN": (0.38, 16.61),
        "InfoGAN": (0.44, 16.75),
        "Proposed GAN": (0.76, 26.7),
    },
}
GANS = {"DDGAN": "dcgan", "WGAN": "wgan", "LSGAN": "lsgan", "InfoGAN": "infogan", "Proposed GAN": "sn-gan"}
#: Why "DDGAN" is read as DCGAN: the paper never defines it, and lists it among classic
#: GAN baselines (WGAN, LSGAN, InfoGAN) of the same era; the other reading, Xiao et al.'s
#: Denoising Diffusion GAN (2022), is a diffusion hybrid no classic list would hold and
#: that ganbench does not have.
DDGAN_READING = (
    "the paper's 'DDGAN' is defined nowhere in it; read as DCGAN (a classic baseline beside WGAN, LSGAN and "
    "InfoGAN; Denoising Diffusion GAN, the other reading, is not in ganbench)"
)


def variant(row: str, classifier_epochs: int = 30) -> str:
    """The ijacsa-2024 suite variant of a Table III-V row: "256x256, 1,200" -> "256px-1200-cnn30"."""
    size, count = row.split(", ", 1)
    return f"{size.split('x', 1)[0]}px-{count.replace(',', '')}-cnn{classifier_epochs}"


TABLE_VI_VARIANT = "table-vi"
#: Table III-V rows and the classifier epochs of Table V's columns: the suite's variants.
GENERATED_ROWS = tuple(TABLE_IV)
CLASSIFIER_EPOCHS = (5, 10, 30)

TABLE_V_NOTES = {
    ("256x256, 1,600", "Average Accuracy (30)"): "OCR prints '902%'",
    ("256x256, 1,600", "Average Loss (5)"): "OCR prints '0178'",
    ("256x256, 1,600", "Average Loss (10)"): "OCR prints '0132'",
    ("256x256, 1,600", "Average Loss (30)"): "OCR prints '0103'",
    ("512x512, 800", "Average Accuracy (5)"): "OCR prints '84796'; the text says 84.7%",
    ("512x512, 800", "Average Accuracy (30)"): "OCR prints '926%'; the text says 92.6%",
    ("512x512, 800", "Average Loss (5)"): "OCR prints '0156'; the text says 0.156",
    ("512x512, 800", "Average Loss (10)"): "OCR prints '0119'; the text says 0.119",
    ("512x512, 800", "Average Loss (30)"): "OCR prints '0001'; the text says 0.091",
    ("512x512, 1,200", "Average Accuracy (5)"): "OCR prints 'go4%'; the text says 86.4%",
}
TABLE_V_ROW_NOTES = {
    "256x256, 800": "row label OCR-damaged ('62;56x25'); values confirmed by the text",
    "256x256, 1,200": "row label OCR-damaged ('ESGXZS'); values in the table only",
    "256x256, 1,600": "row label OCR-damaged ('29025', read as 256x256 by position); accuracy after 5 and 10 "
    "epochs illegible ('gpaw', '58w'), left out",
    "512x512, 800": "row label OCR-damaged ('1L'); 800 images per the text",
    "512x512, 1,200": "row label OCR-damaged ('o121'); 1,200 images per the text",
}

PAIRING = "pairing of generated with real images not stated (nearest-real is ganbench's reading)"
MSE_SCALE = (
    "another scale: the paper's 0.006-0.015 are squared intensities in [0, 1] (its scale is not stated), "
    "ganbench's MSE is in squared grey levels (0..255)"
)
SSIM_SETTINGS = "SSIM window, constants and data range not stated"
REAL_COUNT = "number of real images compared with not stated"
SIMILARITY_DIFFERENCES = (PAIRING, REAL_COUNT)
RESIZED = (
    "images resized: the paper's at 256x256 from the originals' various sizes; a run on the shared copy of the "
    "data reads images its redistributor already resized to 224x224"
)

PROTOCOL_III = "images generated by the GAN, one GAN per class (tumour, normal)"
PROTOCOL_IV = "mean PSNR, MSE and SSIM between generated and original images, per image size and count"
PROTOCOL_V = "Table II CNN trained on the generated images, accuracy and loss after 5, 10 and 30 epochs"
PROTOCOL_VI = "SSIM and PSNR per tumour class between generated and real images at 256 px, vs baseline GANs"


def resolution(row: str):
    return int(row.split("x", 1)[0]) if row[0].isdigit() else None


def total(row: str) -> str:
    return row.split(", ", 1)[1]


def table_iii():
    images = ("Number of Tumor Images", "Number of No Tumor (Normal) Images")
    generated = {row: counts for row, counts in TABLE_III.items() if row != REAL_ROW}
    references = table_references(
        paper=PAPER,
        table="Table III",
        columns=[Column(label, "images_generated", "images") for label in images],
        rows=generated,
        row_fields={row: dict(resolution=resolution(row), samples=f"{total(row)} generated", variant=variant(row)) for row in generated},
        gan="sn-gan",
        dataset_family=TWO_CLASS,
        protocol=PROTOCOL_III,
    )
    references += table_references(
        paper=PAPER,
        table="Table III",
        columns=[Column(label, "real_images", "images") for label in images],
        rows={REAL_ROW: TABLE_III[REAL_ROW]},
        gan="original-data",
        dataset_family=TWO_CLASS,
        protocol=PROTOCOL_III,
        note="not a GAN: the real images the GAN was trained on (various sizes); row label OCR-damaged "
        "(';ﬁ:sous and different'), read as in the text",
    )
    return references


def table_iv():
    columns = (
        Column("Total Images", "images_generated", "images"),
        Column(
            "Average PSNR (dB)",
            "psnr_nearest_real",
            "dB",
            differences=SIMILARITY_DIFFERENCES
            + ("PSNR intensity scale unclear: Eq. 1 uses MAX = 255, the MSE column a [0, 1]-like scale",),
        ),
        Column(
            "Average MSE",
            "mse_nearest_real",
            differences=SIMILARITY_DIFFERENCES
            + ("MSE scale not stated: 0.006-0.015 implies intensities in [0, 1], not 0..255 grey levels",),
            incomparable=MSE_SCALE,
        ),
        Column("Average SSIM", "ssim_nearest_real", differences=SIMILARITY_DIFFERENCES + (SSIM_SETTINGS,)),
    )
    return table_references(
        paper=PAPER,
        table="Table IV",
        columns=columns,
        rows=TABLE_IV,
        row_fields={row: dict(resolution=resolution(row), samples=f"{total(row)} generated", variant=variant(row)) for row in TABLE_IV},
        gan="sn-gan",
        dataset_family=TWO_CLASS,
        protocol=PROTOCOL_IV,
    )


def table_v():
    loss = ("loss function not stated (the softmax output suggests cross-entropy)",)
    references = []
    # One call per column: each column's classifier epochs are their own suite variant.
    for index, n in enumerate(CLASSIFIER_EPOCHS):
        for label, key, unit, extra, offset in (("Accuracy", "tstr_accuracy", PERCENT, (), 0), ("Loss", "tstr_loss", "", loss, 3)):
            column = f"Average {label} ({n})"
            rows = {row: (values[offset + index],) for row, values in TABLE_V.items()}
            references += _table_v_column(Column(column, key, unit, extra), rows, n)
    # The paper's column order: the three accuracies, then the three losses.
    order = [f"Average {label} ({n})" for label in ("Accuracy", "Loss") for n in CLASSIFIER_EPOCHS]
    return sorted(references, key=lambda r: (list(TABLE_V).index(r.row), order.index(r.column)))


def _table_v_column(column, rows, n):
    return table_references(
        paper=PAPER,
        table="Table V",
        columns=(column,),
        rows=rows,
        row_fields={
            row: dict(
                resolution=resolution(row), samples=f"{total(row)} generated", note=TABLE_V_ROW_NOTES[row],
                variant=variant(row, n),
            )
            for row in rows
        },
        cell_notes={cell: note for cell, note in TABLE_V_NOTES.items() if cell[1] == column.label and rows[cell[0]][0] is not None},
        gan="sn-gan",
        classifier="ijacsa-cnn",
        dataset_family=TWO_CLASS,
        protocol=PROTOCOL_V,
        differences=(
            "training data unclear: Section IV.C trains on the generated images, Section V.C on original plus "
            "generated",
            "test set not stated",
            "what the 'average' is taken over (runs, folds, batches) not stated",
        ),
    )


def table_vi():
    baseline = ("baseline GANs' training and settings not stated (run by the authors or quoted)",)
    references = []
    for category, by_method in TABLE_VI.items():
        for method, values in by_method.items():
            row = f"{category}, {method}"
            references += table_references(
                paper=PAPER,
                table="Table VI",
                columns=(
                    Column("SSIM", per_class("ssim_nearest_real", category), differences=(SSIM_SETTINGS,)),
                    Column("PSNR", per_class("psnr_nearest_real", category), "dB"),
                ),
                rows={row: values},
                row_fields={
                    row: dict(
                        gan=GANS[method],
                        differences=(() if method == "Proposed GAN" else baseline)
                        + ((DDGAN_READING,) if method == "DDGAN" else ()),
                    )
                },
                cell_notes={(row, "PSNR"): "OCR prints '255'; read as 25.5 like its neighbours"}
                if row == "Meningioma, Proposed GAN"
                else {},
                dataset_family=FOUR_CLASS,
                resolution=256,
                protocol=PROTOCOL_VI,
                variant=TABLE_VI_VARIANT,
                differences=SIMILARITY_DIFFERENCES + (RESIZED,),
            )
    return references


def measures(key: str, gan: str, variant_name: str) -> Measure:
    """A measured quantity of the suite; the downstream keys are the paper's CNN's."""
    return Measure(gan, key, "ijacsa-cnn" if key.startswith("tstr_") else None, variant_name)


def _table_vi_claim(score: str) -> Claim:
    pairs = []
    for category in TABLE_VI:
        key = per_class(f"{score}_nearest_real", category)
        for method, gan in GANS.items():
            if method != "Proposed GAN":
                pairs.append((measures(key, "sn-gan", TABLE_VI_VARIANT), measures(key, gan, TABLE_VI_VARIANT)))
    return Claim(
        paper=PAPER,
        where="Table VI",
        text=f"for every category, the proposed GAN's images have the highest {score.upper()} (beside DDGAN, WGAN, LSGAN, InfoGAN)",
        comparisons=tuple(pairs),
        note="DDGAN read as DCGAN; per class: the scores over that tumour class's generated images",
    )


CLAIMS = (
    _table_vi_claim("ssim"),
    _table_vi_claim("psnr"),
    Claim(
        paper=PAPER,
        where="Table IV, Section V",
        text="512x512 images are more similar to the originals than 256x256 ones (SSIM 0.81 vs 0.65 at 800 images)",
        comparisons=(
            (measures("ssim_nearest_real", "sn-gan", variant("512x512, 800")), measures("ssim_nearest_real", "sn-gan", variant("256x256, 800"))),
        ),
    ),
    Claim(
        paper=PAPER,
        where="Section V, Table V",
        text="as the image size increased, the CNN model achieved higher accuracy (800 images, 30 epochs: 87.5% at 256x256, 92.6% at 512x512)",
        comparisons=(
            (measures("tstr_accuracy", "sn-gan", variant("512x512, 800")), measures("tstr_accuracy", "sn-gan", variant("256x256, 800"))),
        ),
    ),
    Claim(
        paper=PAPER,
        where="Table V",
        text="more generated images give the CNN higher accuracy (256x256: 87.5% with 800, 88.7% with 1,200, 90.2% with 1,600)",
        note="read off Table V's rows; the text says it of 'varying sizes and increased diversity'",
        comparisons=(
            (measures("tstr_accuracy", "sn-gan", variant("256x256, 1,600")), measures("tstr_accuracy", "sn-gan", variant("256x256, 1,200"))),
            (measures("tstr_accuracy", "sn-gan", variant("256x256, 1,200")), measures("tstr_accuracy", "sn-gan", variant("256x256, 800"))),
        ),
    ),
    Claim(
        paper=PAPER,
        where="Table V",
        text="training the CNN longer raises its accuracy (256x256, 800 images: 79.2% after 5 epochs, 82.7% after 10, 87.5% after 30)",
        comparisons=(
            (measures("tstr_accuracy", "sn-gan", variant("256x256, 800", 30)), measures("tstr_accuracy", "sn-gan", variant("256x256, 800", 10))),
            (measures("tstr_accuracy", "sn-gan", variant("256x256, 800", 10)), measures("tstr_accuracy", "sn-gan", variant("256x256, 800", 5))),
        ),
    ),
)


@hookimpl
def register_references(register):
    for reference in table_iii() + table_iv() + table_v() + table_vi():
        register(reference)


@hookimpl
def register_claims(register):
    for claim in CLAIMS:
        register(claim)
