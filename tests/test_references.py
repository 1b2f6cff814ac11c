"""The reference registry: every result table of the five papers is there, sampled
values match the printed numbers, and every name a reference uses is one ganbench knows
(or a model it knowingly lacks)."""

from collections import Counter

import pytest

from ganbench.leaderboard.paper_report import SETTING_KEYS

from ganbench.plugins import load_plugins
from ganbench_plugins.references import (
    braingan_2022,
    cgan_report_2023,
    cyclegan_2022,
    ijacsa_2024,
    tables,
    thesis_2023,
)

MODULES = (braingan_2022, ijacsa_2024, thesis_2023, cyclegan_2022, cgan_report_2023)

TABLES = {
    ("braingan-sensors-2022", "Table 7"),
    ("braingan-sensors-2022", "Table 8"),
    ("gan-cnn-mri-ijacsa-2024", "Table III"),
    ("gan-cnn-mri-ijacsa-2024", "Table IV"),
    ("gan-cnn-mri-ijacsa-2024", "Table V"),
    ("gan-cnn-mri-ijacsa-2024", "Table VI"),
    ("gan-depth-fid-thesis-2023", "Table 5"),
    ("cyclegan-brain-mri-2022", "Table 1"),
    ("cgan-resnet50-report-2023", "Section 5.1.4"),
    ("cgan-resnet50-report-2023", "Section 5.2.4"),
    ("cgan-resnet50-report-2023", "Section 5.3"),
}

#: Models the papers report that ganbench does not have; they never meet a measurement.
OUTSIDE_MODELS = {
    "none",  # a classifier trained on real images only
    "original-data",  # IJACSA Table III's real images
    "ddgan",  # IJACSA Table VI baseline
    "tumorgan",  # CycleGAN paper, Li et al. 2020
    "pre-trained-gan",  # BrainGAN Table 8, Ghassemi & Rouhani
    "c-gan",  # BrainGAN Table 8, Gupta et al.
}

#: Reported numbers with no ganbench result key: the settings of a paper's run (counts,
#: epochs), which its report shows as settings, never scores.
NON_KEY_METRICS = set(SETTING_KEYS)

# (paper, table, row, column, number as printed, printed as a percentage), each read
# again from /work/shared/papers/ independently of the modules' tables.
PRINTED = [
    ("braingan-sensors-2022", "Table 7", "MobileNetV2", "DCGAN, AUC", 97.50, True),
    ("braingan-sensors-2022", "Table 7", "ResNet152V2", "Vanilla GAN, Loss", 0.32, False),
    ("braingan-sensors-2022", "Table 7", "CNN", "Vanilla GAN, Recall", 95.49, True),
    ("braingan-sensors-2022", "Table 8", "[18] Nayak, et al. (2022)", "Precision", 98.75, True),
    ("braingan-sensors-2022", "Table 8", "The proposed models using DCGAN, ResNet152V2", "Recall", 99.08, True),
    ("gan-cnn-mri-ijacsa-2024", "Table III", "512x512, 1,200", "Number of No Tumor (Normal) Images", 510, False),
    ("gan-cnn-mri-ijacsa-2024", "Table III", "Various and different sizes", "Number of Tumor Images", 230, False),
    ("gan-cnn-mri-ijacsa-2024", "Table IV", "512x512, 1,600", "Average PSNR (dB)", 33.6, False),
    ("gan-cnn-mri-ijacsa-2024", "Table IV", "256x256, 1,200", "Average MSE", 0.012, False),
    ("gan-cnn-mri-ijacsa-2024", "Table V", "256x256, 800", "Average Loss (10)", 0.157, False),
    ("gan-cnn-mri-ijacsa-2024", "Table V", "512x512, 1,200", "Average Accuracy (30)", 95.1, True),
    ("gan-cnn-mri-ijacsa-2024", "Table VI", "Pituitary, InfoGAN", "PSNR", 16.75, False),
    ("gan-cnn-mri-ijacsa-2024", "Table VI", "Glioma, LSGAN", "SSIM", 0.48, False),
    ("gan-depth-fid-thesis-2023", "Table 5", "7 layers, 30k, 100", "FID", 38.47, False),
    ("gan-depth-fid-thesis-2023", "Table 5", "4 layers, 50k, 100", "FID", 39.83, False),
    ("gan-depth-fid-thesis-2023", "Table 5", "15 layers, 50k, 50", "Time", 132, False),  # "2 h 12 m"
    ("cyclegan-brain-mri-2022", "Table 1", "This study", "FID", 53.61, False),
    ("cyclegan-brain-mri-2022", "Table 1", "Li, Qingyun, et al., 2020 [12]", "FID", 77.43, False),
    ("cyclegan-brain-mri-2022", "Table 1", "Kossen, Tabea, et al., 2021 [11]", "FID", 141.82, False),
    ("cgan-resnet50-report-2023", "Section 5.1.4", "Recall_Score", "ResNet50", 0.945743, False),
    ("cgan-resnet50-report-2023", "Section 5.2.4", "F1_Score", "ResNet50", 0.946320, False),
    ("cgan-resnet50-report-2023", "Section 5.2.4", "2", "support", 81, False),
    ("cgan-resnet50-report-2023", "Section 5.2.4", "macro avg", "recall", 0.95, False),
    ("cgan-resnet50-report-2023", "Section 5.3", "First Model, Meningioma", "Recall", 97, True),
]


@pytest.fixture(scope="module")
def plugins():
    return load_plugins()


@pytest.fixture(scope="module")
def registered(plugins):
    return [reference for reference, _ in plugins.registry.items("references")]


@pytest.fixture(scope="module")
def built():
    """What the five modules register, before the registry could refuse a twin."""
    collected = []
    for module in MODULES:
        module.register_references(collected.append)
    return collected


def test_reference_plugins_load_without_errors(plugins):
    modules = {m.__name__ for m in MODULES}
    loaded = {info.module: info.error for info in plugins.infos if info.module in modules}
    assert loaded == dict.fromkeys(modules), "reinstall (pip install -e .) if a module is missing"


def test_every_paper_and_table_is_there(registered):
    papers = {paper for paper, _ in TABLES}
    assert {(r.paper, r.table) for r in registered if r.paper in papers} == TABLES


def test_every_reference_of_the_modules_is_registered(built, registered):
    assert {r.name for r in built} <= {r.name for r in registered}


@pytest.mark.parametrize("paper, table, row, column, printed, percent", PRINTED, ids=lambda v: str(v)[:30])
def test_value_is_the_printed_number(built, paper, table, row, column, printed, percent):
    matches = [r for r in built if (r.paper, r.table, r.row, r.column) == (paper, table, row, column)]
    assert len(matches) == 1, [r.name for r in matches]
    reference = matches[0]
    if percent:
        assert reference.unit == "fraction"
        assert reference.value * 100 == pytest.approx(printed)
    else:
        assert reference.value == pytest.approx(printed)


def test_samples_cover_every_paper():
    per_paper = Counter(paper for paper, *_ in PRINTED)
    assert set(per_paper) == {paper for paper, _ in TABLES}
    assert min(per_paper.values()) >= 3


def test_names_are_unique(built):
    twins = [name for name, n in Counter(r.name for r in built).items() if n > 1]
    assert not twins


def test_gans_are_registered_or_known_outside_models(built, plugins):
    gans = set(plugins.registry.names("gans"))
    assert not OUTSIDE_MODELS & gans
    assert {r.gan for r in built} - gans - OUTSIDE_MODELS == set()


def test_classifiers_are_registered(built, plugins):
    classifiers = set(plugins.registry.names("classifiers"))
    assert {r.classifier for r in built if r.classifier is not None} <= classifiers


def test_metrics_are_result_keys_or_settings(built, plugins):
    metrics = [metric for metric, _ in plugins.registry.items("metrics")]
    assert not any(m.declares(key) for m in metrics for key in NON_KEY_METRICS)
    undeclared = {r.metric for r in built if not any(m.declares(r.metric) for m in metrics)}
    assert undeclared - NON_KEY_METRICS == set()


def test_fractions_lie_in_the_unit_interval(built):
    fractions = [r for r in built if r.unit == "fraction"]
    assert fractions
    assert [r.name for r in fractions if not 0 <= r.value <= 1] == []


def test_every_reference_says_where_and_how(built):
    for r in built:
        assert r.row and r.column and r.dataset_family and r.protocol, r.name
        assert r.unit in {"", "fraction", "dB", "minutes", "images", "epochs"}, r.name


def test_percentages_become_fractions_that_print_back():
    assert tables.fraction(94.84) == 0.9484
    assert tables.fraction(94.84) * 100 == pytest.approx(94.84)


def test_thesis_durations_and_counts_parse():
    assert thesis_2023.minutes("1 h 52 m") == 112
    assert thesis_2023.minutes("4 h") == 240
    assert thesis_2023.minutes("60 m") == 60
    assert thesis_2023.thousands("50k") == 50000
    with pytest.raises(ValueError):
        thesis_2023.minutes("about an hour")


def test_a_note_on_a_missing_cell_is_refused():
    with pytest.raises(ValueError, match="notes on cells without a value"):
        tables.table_references(
            paper="p",
            table="T",
            columns=(tables.Column("A", "fid"),),
            rows={"r": (None,)},
            cell_notes={("r", "A"): "lost"},
            gan="dcgan",
            dataset_family="f",
            protocol="x",
        )
