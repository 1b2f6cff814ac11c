"""The `ijacsa-2024` suite: the GAN + CNN brain-MRI paper's protocol (IJACSA 15(6), 2024).

Two parts, as the paper has them, each a set of variants named as its references name
them:

* Tables III-V: the paper's GAN (ganbench's ``sn-gan``), one per class on tumour / no
  tumour (4-class sets merged), at 256 and 512 px with 800 / 1,200 / 1,600 generated
  images; PSNR, MSE and SSIM against real images (Table IV) and the paper's CNN trained
  5 / 10 / 30 epochs on the generated images (Table V). Variant ``<size>px-<count>-cnn<epochs>``.
* Table VI: sn-gan, WGAN, LSGAN, InfoGAN and "DDGAN" (read as DCGAN) per class on the
  4-class Nickparvar set at 256 px; SSIM and PSNR per tumour class. Variant ``table-vi``.

Table VI's data family is at hand (``brain-tumor-mri-dataset``, a 224 px copy); Tables
III-V's (the 400-image ``mri-based-brain-tumor-images``) is not.
"""

from ganbench.api import ProfileSettings, Suite, Variant, hookimpl
from ganbench_plugins.references.ijacsa_2024 import (
    CLASSIFIER_EPOCHS,
    GANS,
    GENERATED_ROWS,
    TABLE_VI_VARIANT,
    resolution,
    total,
    variant,
)

SIMILARITY = ("ssim", "psnr", "mse")
TABLE_VI_GANS = tuple(dict.fromkeys(GANS.values()))


def generated_variants(rows=GENERATED_ROWS, epochs=CLASSIFIER_EPOCHS, image_size=None) -> tuple[Variant, ...]:
    """Tables III-V's variants; ``image_size`` replaces the rows' 256 / 512 px (a
    profile smaller than `paper`: the names stay the paper's, the report says what ran)."""
    return tuple(
        Variant(
            variant(row, n),
            image_size=image_size or resolution(row),
            n_fake=int(total(row).replace(",", "")),
            classifier_epochs=n,
            gans=("sn-gan",),
            metrics=SIMILARITY + ("tstr", "training-cost"),
        )
        for row in rows
        for n in epochs
    )


def table_vi_variant(image_size: int, n_fake: int) -> Variant:
    return Variant(
        TABLE_VI_VARIANT, image_size=image_size, n_fake=n_fake, class_task="", gans=TABLE_VI_GANS,
        metrics=SIMILARITY + ("training-cost",),
    )


IJACSA_2024 = Suite(
    name="ijacsa-2024",
    description="GAN + CNN brain MRI (IJACSA 2024): sn-gan at 256/512 px x generated counts x CNN epochs (Tables III-V); per-class SSIM/PSNR of five GANs (Table VI)",
    gans=TABLE_VI_GANS,
    datasets=("brain-tumor-mri-dataset",),
    takes_data=True,
    class_task="tumour-vs-normal",
    metrics=SIMILARITY + ("tstr", "training-cost"),
    classifiers=("ijacsa-cnn",),
    profiles={
        # Table VI at 32 px and Table V's 800-image row at 32 px, every GAN 80 steps a
        # class: about fifteen minutes of a 2-core CPU.
        "smoke": ProfileSettings(
            image_size=32, seeds=2, n_fake=800, n_real=400, gan_overrides={"steps": 80},
            variants=generated_variants(rows=GENERATED_ROWS[:1], image_size=32) + (table_vi_variant(32, 200),),
        ),
        "quick": ProfileSettings(
            image_size=64, seeds=3, n_fake=800, n_real=1000,
            variants=generated_variants(rows=GENERATED_ROWS[:3], image_size=64) + (table_vi_variant(64, 800),),
        ),
        # Table VI's generated count is not stated: 1,200 (300 a class), as the middle row of Table III.
        "paper": ProfileSettings(
            image_size=256, seeds=3, n_fake=1200, n_real=2000,
            variants=generated_variants() + (table_vi_variant(256, 1200),),
        ),
    },
    source="GAN + CNN brain tumour MRI, IJACSA 15(6), 2024",
    paper="gan-cnn-mri-ijacsa-2024",
    data_note=(
        "Tables III-V: Kaggle mhantor/mri-based-brain-tumor-images (230 tumour + 170 normal), read by "
        "`mri-based-brain-tumor-images`. Table VI: Nickparvar's Brain Tumor MRI Dataset (Kaggle "
        "masoudnickparvar/brain-tumor-mri-dataset, 7,023 images, 4 classes), read by `brain-tumor-mri-dataset`; "
        "`../shared/datasets/brain-tumor-mri-dataset-224` is that family resized to 224 px."
    ),
)


@hookimpl
def register_suites(register):
    register(IJACSA_2024)
