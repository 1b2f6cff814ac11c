"""Numbers the CycleGAN brain-MRI paper (2022) reports: Table 1, FID of its CycleGAN
beside two earlier studies' GANs.

Dataset family of its own row: ``bach-mai-t2-dicom``. Section 3.1: T2 DICOM images of
123 brain-tumour patients at Bach Mai Hospital, anonymised and converted to 256x256 JPEG;
1307 images, 647 with and 660 without tumour. The data is private: no ganbench dataset
reads it, so the name only describes it. The DCGAN and TumorGAN rows are quoted from
Kossen et al. 2021 [11] and Li et al. 2020 [12]; the paper says nothing of their data,
so their families name the cited study.

Protocol of its own row: CycleGAN translates all 660 no-tumour images into tumour
images ("each MRI image without a brain tumor produces an MRI image with a brain
tumor"), and FID compares them with the 647 real tumour images.
"""

from ganbench.api import Claim, Measure, hookimpl

from .tables import Column, table_references

PAPER = "cyclegan-brain-mri-2022"

# Table 1: Article -> FID (the Algorithm column is the row's GAN).
TABLE_1 = {
    "Kossen, Tabea, et al., 2021 [11]": (141.82,),
    "Li, Qingyun, et al., 2020 [12]": (77.43,),
    "This study": (53.61,),
}
QUOTED = "quoted from the cited study: its data, FID implementation and sample sizes are not stated in this paper"
ROWS = {
    "Kossen, Tabea, et al., 2021 [11]": dict(
        gan="dcgan",
        dataset_family="cited-kossen-2021",
        note="Algorithm: DCGAN, Kossen et al.'s, not necessarily ganbench's dcgan settings",
        differences=(QUOTED,),
    ),
    "Li, Qingyun, et al., 2020 [12]": dict(
        gan="tumorgan",
        dataset_family="cited-li-2020",
        note="not in ganbench: Algorithm TumorGAN (Li et al., Sensors 2020)",
        differences=(QUOTED,),
    ),
    "This study": dict(
        gan="cyclegan",
        dataset_family="bach-mai-t2-dicom",
        resolution=256,
        samples="660 translated no-tumour images vs 647 real tumour images",
        note="Algorithm: CycleGan; private T2 data of Bach Mai Hospital, 123 patients",
        differences=(
            "FID implementation and Inception weights not stated",
            "the translated no-tumour images are the CycleGAN's own training images, not a held-out split",
        ),
    ),
}
PROTOCOL = "FID between generated tumour images and real tumour images"


def table_1():
    return table_references(
        paper=PAPER,
        table="Table 1",
        columns=(Column("FID", "fid"),),
        rows=TABLE_1,
        row_fields=ROWS,
        protocol=PROTOCOL,
    )


CLAIMS = (
    Claim(
        paper=PAPER,
        where="Section 3.3, Table 1",
        text="the CycleGAN's FID (53.61) is better than the DCGAN's (141.82)",
        comparisons=((Measure("cyclegan", "fid"), Measure("dcgan", "fid")),),
        note="the paper's DCGAN number is Kossen et al.'s on other data. Here both GANs train on the same data, but "
        "their FIDs compare different sets: CycleGAN's translations (tumour) with real tumour images, DCGAN's "
        "class-balanced samples (both classes) with real images of both classes",
    ),
)


@hookimpl
def register_claims(register):
    for claim in CLAIMS:
        register(claim)


@hookimpl
def register_references(register):
    for reference in table_1():
        register(reference)
