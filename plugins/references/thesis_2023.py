"""Numbers the GAN-depth thesis (2023) reports: Table 5, FID and training time of
generators of 4, 7 and 15 layers by training samples and epochs.

Dataset family: ``msd-brain-tumour``. Section 5.1 takes the data from the Decathlon
database [12], Simpson et al.'s Medical Segmentation Decathlon; Section 5.2 reads the
brain task's NIfTI volumes (912 "samples" of 4 frames and 150 slices), keeps slices 60
to 100, converts them to JPG with med2image and resizes 240 -> 112 px grayscale, healthy
and tumour slices together.

Table 5 prints 50 and 100 epochs, while the text announces 20, 60 and 100 and Fig. 7
shows a 20-epoch sample: the table's values are taken as printed. Samples ("10k") and
times ("1 h 52 m") are stored as numbers (images, minutes), the printed text in the note.
FID comes from "a modified version" of Brownlee's Keras code [14], whose sample sizes
the thesis does not give.
"""

import re

from ganbench.api import Claim, Measure, hookimpl

from .tables import Column, table_references

PAPER = "gan-depth-fid-thesis-2023"
FAMILY = "msd-brain-tumour"
RESOLUTION = 112

# Table 5: "GAN, Samples, Epochs" (the row) -> (Samples, Epochs, Time, FID) as printed.
TABLE_5 = {
    "4 layers, 10k, 50": ("10k", 50, "12 m", 42.84),
    "4 layers, 30k, 50": ("30k", 50, "29 m", 41.47),
    "4 layers, 50k, 50": ("50k", 50, "57 m", 39.98),
    "7 layers, 10k, 50": ("10k", 50, "20 m", 43.45),
    "7 layers, 30k, 50": ("30k", 50, "42 m", 39.72),
    "7 layers, 50k, 50": ("50k", 50, "1 h 52 m", 41.92),
    "15 layers, 10k, 50": ("10k", 50, "37 m", 43.2),
    "15 layers, 30k, 50": ("30k", 50, "1 h 47 m", 42.12),
    "15 layers, 50k, 50": ("50k", 50, "2 h 12 m", 41.34),
    "4 layers, 10k, 100": ("10k", 100, "23 m", 42.81),
    "4 layers, 30k, 100": ("30k", 100, "43 m", 41.9),
    "4 layers, 50k, 100": ("50k", 100, "60 m", 39.83),
    "7 layers, 10k, 100": ("10k", 100, "37 m", 42.84),
    "7 layers, 30k, 100": ("30k", 100, "1 h 17 m", 38.47),
    "7 layers, 50k, 100": ("50k", 100, "3 h 48 m", 39.83),
    "15 layers, 10k, 100": ("10k", 100, "59 m", 42.9),
    "15 layers, 30k, 100": ("30k", 100, "2 h 32 m", 43.28),
    "15 layers, 50k, 100": ("50k", 100, "4 h", 39.16),
}
GANS = {"4 layers": "gan-4layer", "7 layers": "gan-7layer", "15 layers": "gan-15layer"}

PROTOCOL = (
    "one unconditional GAN on 112 px grayscale slices 60-100 of the Decathlon brain volumes; "
    "FID of generated vs real images, training time on Google Colab"
)
TIME_DIFFERENCE = "trained on Google Colab (GPU not stated); ganbench's time is its own device's, see the rows"
FID_DIFFERENCES = (
    "FID from a modified version of Brownlee's Keras code (Keras's ImageNet InceptionV3 there), "
    "not the TF FID Inception network",
    "numbers of real and generated images in the FID not stated",
    "one GAN on healthy and tumour slices together, not one per class",
    "all four MRI sequences of each volume converted and pooled; ganbench reads one modality",
)


def minutes(printed: str) -> float:
    """'1 h 52 m' -> 112, '4 h' -> 240, '12 m' -> 12."""
    match = re.fullmatch(r"(?:(\d+) h)?\s*(?:(\d+) m)?", printed.strip())
    if not match or not any(match.groups()):
        raise ValueError(f"not a duration: {printed!r}")
    hours, mins = (int(g) if g else 0 for g in match.groups())
    return 60 * hours + mins


def thousands(printed: str) -> float:
    """'10k' -> 10000."""
    if not printed.endswith("k"):
        raise ValueError(f"not a count in thousands: {printed!r}")
    return 1000 * int(printed[:-1])


def table_5():
    def fields(row: str) -> dict:
        depth, samples, epochs = row.split(", ")
        return dict(gan=GANS[depth], samples=f"{samples} training slices, {epochs} epochs", variant=variant(row))

    return table_references(
        paper=PAPER,
        table="Table 5",
        columns=(
            Column("Samples", "training_samples", "images", parse=thousands),
            Column("Epochs", "epochs", "epochs"),
            Column("Time", "train_wall_time_min", "minutes", parse=minutes, differences=(TIME_DIFFERENCE,)),
            Column("FID", "fid", differences=FID_DIFFERENCES),
        ),
        rows=TABLE_5,
        row_fields={row: fields(row) for row in TABLE_5},
        dataset_family=FAMILY,
        resolution=RESOLUTION,
        protocol=PROTOCOL,
    )


def variant(row: str) -> str:
    """The thesis-depth-2023 suite variant of a Table 5 row: "4 layers, 10k, 50" -> "10k-50ep"."""
    _, samples, epochs = row.split(", ")
    return f"{samples}-{epochs}ep"


def _fid(depth: str, samples: str, epochs: int) -> Measure:
    return Measure(GANS[depth], "fid", None, f"{samples}-{epochs}ep")


CLAIMS = (
    Claim(
        paper=PAPER,
        where="Section 5.4",
        text="more layers ... almost always translate to better performance, lower FID score (50k slices, 100 epochs: "
        "15 layers 39.16, 7 layers 39.83, 4 layers 39.83)",
        comparisons=(
            (_fid("15 layers", "50k", 100), _fid("7 layers", "50k", 100)),
            (_fid("15 layers", "50k", 100), _fid("4 layers", "50k", 100)),
        ),
        note="read at the table's largest setting, where the thesis draws its conclusion",
    ),
    Claim(
        paper=PAPER,
        where="Sections 5.4 and 6",
        text="each model performed better with more samples: lower FID with 50k training slices than with 10k (50 epochs)",
        comparisons=tuple((_fid(depth, "50k", 50), _fid(depth, "10k", 50)) for depth in GANS),
    ),
    Claim(
        paper=PAPER,
        where="Section 5.4",
        text="more layers and more samples cost much more training time (15 layers take longer than 4: 10k and 50k slices, 50 epochs)",
        comparisons=tuple(
            (
                Measure(GANS["4 layers"], "train_wall_time_min", None, f"{samples}-{epochs}ep"),
                Measure(GANS["15 layers"], "train_wall_time_min", None, f"{samples}-{epochs}ep"),
            )
            for samples in ("10k", "50k")
            for epochs in (50,)
        ),
        note="'costs more' read as: the 4-layer GAN's training time is the better (lower) one",
    ),
)


@hookimpl
def register_claims(register):
    for claim in CLAIMS:
        register(claim)


@hookimpl
def register_references(register):
    for reference in table_5():
        register(reference)
