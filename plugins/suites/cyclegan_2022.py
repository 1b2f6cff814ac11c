"""The `cyclegan-2022` suite: the CycleGAN brain-MRI paper's protocol (2022, Table 1).

CycleGAN translates no-tumour slices into tumour slices at 256 px; FID compares the
translations with real tumour images, beside a DCGAN trained per class on the same
data. The paper's data is private T2 DICOM of Bach Mai Hospital; ganbench runs on any
tumour / no-tumour set (4-class sets merged), which reads "different data".
"""

from ganbench.api import ProfileSettings, Suite, hookimpl

CYCLEGAN_2022 = Suite(
    name="cyclegan-2022",
    description="CycleGAN brain MRI (2022): no tumour -> tumour translation at 256 px, FID beside DCGAN (Table 1)",
    gans=("cyclegan", "dcgan"),
    datasets=("brain-tumor-classification-mri",),
    takes_data=True,
    class_task="tumour-vs-normal",
    metrics=("fid", "kid", "training-cost"),
    classifiers=(),
    profiles={
        "smoke": ProfileSettings(image_size=32, seeds=2, n_fake=200, n_real=400),
        "quick": ProfileSettings(image_size=128, seeds=3, n_fake=660, n_real=647),
        # The paper: 660 translated no-tumour images against 647 real tumour images.
        "paper": ProfileSettings(image_size=256, seeds=3, n_fake=660, n_real=647),
    },
    source="CycleGAN for brain MRI tumour image generation, 2022",
    paper="cyclegan-brain-mri-2022",
    data_note=(
        "private T2 DICOM of 123 patients at Bach Mai Hospital (1,307 slices: 660 without, 647 with tumour); "
        "not obtainable. A DICOM tree of one's own is read by the `dicom-folder` plugin; any tumour / no-tumour "
        "image set by `image-folder` or the Kaggle layouts."
    ),
)


@hookimpl
def register_suites(register):
    register(CYCLEGAN_2022)
