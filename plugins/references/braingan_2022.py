"""Numbers BrainGAN (Alrashedy et al., Sensors 2022, 22, 4297) reports, Table 7.

Protocol of Table 7: classifiers trained on 1400 generated images (700 Tumor, 700
No-Tumor) from GANs trained per class on the 400-image Kaggle "Brain MRI Images"
set (170 Normal, 230 Tumor), tested on those 400 real images, at 224x224; the values
are the maxima over validation epochs (the paper's Fig. 2, step 6).
"""

from ganbench import hookimpl
from ganbench.specs import Reference

PAPER = "braingan-sensors-2022"
FAMILY = "mri-based-brain-tumor-images"
PROTOCOL = "train-synthetic-test-real, 2 classes, 224 px, max over validation epochs"

# classifier -> GAN -> (loss, accuracy %, precision %, recall %, AUC %)
TABLE_7 = {
    "braingan-cnn": {
        "vanilla-gan": (0.42, 94.84, 93.24, 95.49, 95.29),
        "dcgan": (0.37, 96.63, 97.01, 96.83, 98.14),
    },
    "mobilenet-v2": {
        "vanilla-gan": (0.39, 93.27, 92.19, 95.57, 96.92),
        "dcgan": (0.33, 95.84, 96.48, 95.68, 97.50),
    },
    "resnet152": {
        "vanilla-gan": (0.32, 97.94, 96.91, 97.03, 96.65),
        "dcgan": (0.19, 99.09, 99.12, 99.08, 99.51),
    },
}
KEYS = ("tstr_loss", "tstr_accuracy", "tstr_precision", "tstr_recall", "tstr_auc")


def table_7() -> list[Reference]:
    references = []
    for classifier, by_gan in TABLE_7.items():
        for gan, values in by_gan.items():
            for key, value in zip(KEYS, values):
                percent = key != "tstr_loss"
                references.append(
                    Reference(
                        paper=PAPER,
                        table="Table 7",
                        gan=gan,
                        metric=key,
                        value=value / 100 if percent else value,
                        unit="fraction" if percent else "",
                        dataset_family=FAMILY,
                        protocol=PROTOCOL,
                        classifier=classifier,
                        resolution=224,
                        note="ResNet152V2 in the paper" if classifier == "resnet152" else "",
                    )
                )
    return references


@hookimpl
def register_references(register):
    for reference in table_7():
        register(reference)
