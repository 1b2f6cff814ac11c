"""The `thesis-depth-2023` suite: the GAN-depth thesis's protocol (2023, Table 5).

Generators of 4, 7 and 15 layers, each one unconditional GAN on healthy and tumour
slices together (axial slices 60-100 of the Decathlon Task01 volumes, 112 px), swept
over training-set size (10k / 30k / 50k slices) x epochs (50 / 100): FID and training
time per cell. The variants are the rows of Table 5, named as its references name them.
"""

from ganbench.api import ProfileSettings, Suite, Variant, hookimpl
from ganbench_plugins.references.thesis_2023 import TABLE_5, thousands, variant

#: (variant name, training slices, epochs) of Table 5, in its order, once each.
SWEEP = tuple(
    dict.fromkeys((variant(row), int(thousands(samples)), int(epochs)) for row, (samples, epochs, _, _) in TABLE_5.items())
)


def paper_variants() -> tuple[Variant, ...]:
    return tuple(Variant(name, train_images=images, epochs=epochs) for name, images, epochs in SWEEP)


def scaled_variants(names: tuple[str, ...], images_per_thousand: int, epochs_divisor: int) -> tuple[Variant, ...]:
    """Table 5's variants at a fraction of its sizes (a profile smaller than `paper`):
    the names stay the paper's, the report says what ran."""
    return tuple(
        Variant(name, train_images=images // 1000 * images_per_thousand, epochs=max(1, epochs // epochs_divisor))
        for name, images, epochs in SWEEP
        if name in names
    )


THESIS_DEPTH_2023 = Suite(
    name="thesis-depth-2023",
    description="GAN-depth thesis (2023): 4/7/15-layer generators x training slices x epochs, FID and training time (Table 5)",
    gans=("gan-4layer", "gan-7layer", "gan-15layer"),
    datasets=("msd-brain-tumour",),
    takes_data=True,
    # One GAN on every slice, healthy and tumour together, as the thesis trains them.
    unconditional_per_class=False,
    metrics=("fid", "training-cost"),
    classifiers=(),
    profiles={
        # 200 and 1,000 training images for 5 epochs at 32 px: the sweep's shape, not its size.
        "smoke": ProfileSettings(
            image_size=32, seeds=2, n_fake=200, n_real=400, variants=scaled_variants(("10k-50ep", "50k-50ep"), 20, 10)
        ),
        "quick": ProfileSettings(image_size=64, seeds=2, n_fake=2000, n_real=2000, variants=scaled_variants(tuple(n for n, _, _ in SWEEP), 200, 5)),
        "paper": ProfileSettings(image_size=112, seeds=3, n_fake=10000, n_real=10000, variants=paper_variants()),
    },
    source="GAN-depth thesis 2023 (generators of 4, 7 and 15 layers on Decathlon brain MRI)",
    paper="gan-depth-fid-thesis-2023",
    data_note=(
        "Medical Segmentation Decathlon Task01_BrainTumour (medicaldecathlon.com, Task01_BrainTumour.tar), axial "
        "slices 60-100 of each volume, read by the `msd-brain-tumour` plugin (`--data PATH`; option `slices`). "
        "Any other slice set reads \"different data\"."
    ),
)


@hookimpl
def register_suites(register):
    register(THESIS_DEPTH_2023)
