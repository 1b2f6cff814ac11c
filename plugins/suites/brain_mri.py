"""The `brain-mri` suite: the GAN variants of the five papers on brain MRI, judged by
distribution distance (FID, KID), similarity to the nearest real image (SSIM, PSNR) and
usefulness (a classifier trained on synthetic images, tested on real ones).

Without ``--data`` it runs on the embedded `brain-phantom`; with ``--data PATH`` on a
class-subfolder tree such as the Kaggle brain-tumour set. The smoke profile runs the two
GANs of BrainGAN so that it fits ten minutes of a 2-core CPU; the other profiles run
the whole zoo (``--gans`` picks any registered GANs at any profile).
"""

from ganbench.api import ProfileSettings, Suite, hookimpl

ALL_GANS = (
    "vanilla-gan", "dcgan", "cdcgan", "sn-gan", "wgan", "wgan-gp", "lsgan", "infogan",
    "gan-4layer", "gan-7layer", "gan-15layer", "cyclegan",
)

#: The papers' classifiers (and ganbench's small baseline): quick and paper run them all;
#: smoke runs the small CNN only (``--classifiers`` picks others at any profile).
ALL_CLASSIFIERS = ("small-cnn", "braingan-cnn", "ijacsa-cnn", "mobilenet-v2", "resnet50", "resnet152", "efficientnet-lite0")

BRAIN_MRI = Suite(
    name="brain-mri",
    description="The papers' GAN variants on 4-class brain MRI: FID, KID, precision/recall, SSIM, PSNR, MSE; TSTR, TRTR and TRSTR classification",
    gans=ALL_GANS,
    datasets=("brain-phantom",),
    takes_data=True,
    metrics=(
        "fid", "kid", "precision-recall", "ssim", "ms-ssim", "psnr", "mse", "diversity-ms-ssim", "memorization",
        "tstr", "trtr", "trstr",
    ),
    classifiers=ALL_CLASSIFIERS,
    profiles={
        # Minutes on a 2-core CPU: what the README's first command shows.
        "smoke": ProfileSettings(
            image_size=32, seeds=2, n_fake=200, n_real=400, gans=("vanilla-gan", "dcgan"), classifiers=("small-cnn",),
        ),
        # A real but short benchmark on one GPU.
        "quick": ProfileSettings(
            image_size=64, seeds=3, n_fake=2000, n_real=3000, metric_settings={"memorization_spaces": ("pixels", "inception")},
        ),
        # BrainGAN generated 1400 images (700 per class for its 2 classes); the GAN
        # resolution is not stated in the paper, 128 px is used.
        "paper": ProfileSettings(
            image_size=128, seeds=5, n_fake=2800, n_real=10000, metric_settings={"memorization_spaces": ("pixels", "inception")},
        ),
    },
    default_profile="smoke",
    source="BrainGAN (Sensors 2022), IJACSA 2024, GAN-depth thesis 2023, CycleGAN brain MRI 2022, cGAN report 2023",
)


@hookimpl
def register_suites(register):
    register(BRAIN_MRI)
