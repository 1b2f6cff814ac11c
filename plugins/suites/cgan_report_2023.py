"""The `cgan-report-2023` suite: the conditional-GAN + ResNet50 report's protocol (2023).

A conditional DCGAN on 4 classes at 128 px; ResNet50 trained on the real training split
(before augmentation, ``trtr``) and on real plus generated images (after, ``trstr``),
scored per class (precision, recall, F1) with macro and weighted averages on real
held-out images. The report's 3,096-image set is unnamed; any 4-class set reads
"different data".
"""

from ganbench.api import ProfileSettings, Suite, hookimpl

CGAN_REPORT_2023 = Suite(
    name="cgan-report-2023",
    description="cGAN + ResNet50 report (2023): cdcgan on 4 classes at 128 px, ResNet50 before/after augmentation, per-class P/R/F1",
    gans=("cdcgan",),
    datasets=("brain-tumor-classification-mri",),
    takes_data=True,
    metrics=("trtr", "trstr", "fid", "training-cost"),
    classifiers=("resnet50",),
    profiles={
        # cdcgan 150 steps and ResNet50 one epoch from scratch: about ten minutes of a 2-core CPU.
        "smoke": ProfileSettings(
            image_size=32, seeds=2, n_fake=400, n_real=400, gan_overrides={"steps": 150}, metric_settings={"classifier_epochs": 1}
        ),
        "quick": ProfileSettings(image_size=64, seeds=3, n_fake=4000, n_real=1000),
        # The report: 10,000 generated images (2,500 a class) at 128 px.
        "paper": ProfileSettings(image_size=128, seeds=3, n_fake=10000, n_real=2000),
    },
    source="Conditional GAN + ResNet50 brain MRI report, 2023",
    paper="cgan-resnet50-report-2023",
    data_note=(
        "an unnamed set of 3,096 grayscale 256x256 images in four classes (glioma, meningioma, pituitary, no "
        "tumour); not obtainable as such. Any 4-class folder tree is read by `image-folder` or the Kaggle layouts."
    ),
)


@hookimpl
def register_suites(register):
    register(CGAN_REPORT_2023)
