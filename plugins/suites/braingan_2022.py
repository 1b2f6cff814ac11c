"""The `braingan-2022` suite: BrainGAN's protocol (Alrashedy et al., Sensors 2022).

Vanilla GAN and DCGAN, one GAN per class on tumour / no-tumour MRI; 1,400 generated
images (700 a class) train each classifier (the paper's CNN, MobileNetV2, ResNet152),
tested on real images (224 px in the paper; 256 px at the paper profile here, the nearest
size DCGAN makes), each score the best over validation epochs (Table 7,
the DCGAN rows of Table 8). The paper's data is Kaggle's 400-image "MRI Based Brain
Tumor Images" (``mri-based-brain-tumor-images``); any 4-class set is merged into
tumour / no tumour (``class_task``) and reads "different data" in the report.
"""

from ganbench.api import ProfileSettings, Suite, hookimpl

PAPER = "braingan-sensors-2022"
CLASSIFIERS = ("braingan-cnn", "mobilenet-v2", "resnet152")

BRAINGAN_2022 = Suite(
    name="braingan-2022",
    description="BrainGAN (Sensors 2022): Vanilla GAN and DCGAN per class, TSTR with its CNN, MobileNetV2 and ResNet152 (Tables 7-8)",
    gans=("vanilla-gan", "dcgan"),
    datasets=("mri-based-brain-tumor-images",),
    takes_data=True,
    class_task="tumour-vs-normal",
    metrics=("tstr", "fid", "training-cost"),
    classifiers=CLASSIFIERS,
    profiles={
        # About ten minutes of a 2-core CPU on the shared 4-class set, merged to two classes.
        "smoke": ProfileSettings(image_size=32, seeds=2, n_fake=200, n_real=400, classifiers=("braingan-cnn", "mobilenet-v2")),
        "quick": ProfileSettings(image_size=64, seeds=3, n_fake=1400, n_real=1000),
        # The paper: 1,400 generated (700 a class), classifiers at 224 px. The GANs'
        # own resolution is not stated; DCGAN makes powers of two only (224 would need a
        # 7 x 7 seed map the paper does not describe), so GANs and classifiers run at 256 px.
        "paper": ProfileSettings(image_size=256, seeds=5, n_fake=1400, n_real=400),
    },
    source="Alrashedy et al., BrainGAN, Sensors 22(11):4297, 2022",
    paper=PAPER,
    data_note=(
        "Kaggle mhantor/mri-based-brain-tumor-images, 400 images (170 Normal, 230 Tumor), read by the "
        "`mri-based-brain-tumor-images` dataset plugin (`--data PATH`). The paper tests on the same 400 images "
        "its GANs trained on; ganbench tests on a held-out split."
    ),
)


@hookimpl
def register_suites(register):
    register(BRAINGAN_2022)
