"""Per-class result keys of the similarity and downstream metrics: declared by base in
``per_class_keys``, built by ganbench.result_keys' grammar from the run's class names,
accepted by the metric contract, and (for MS-SSIM, which inherits the nearest-real
machinery) equal to the score over one class's pairs."""

import numpy as np
import pytest
import torch

from ganbench.metric_contract import result_problems
from ganbench.result_keys import parse
from ganbench.specs import Evaluation, ImageSplit, LoadedData, MetricResult, SilentProgress
from ganbench.testing import check_metric, tiny_evaluation
from ganbench_plugins.classifiers.small_cnn import SmallCNN
from ganbench_plugins.metrics.downstream import TRSTR, TRTR, TSTR
from ganbench_plugins.metrics.ms_ssim import MSSSIM, mean_ms_ssim
from ganbench_plugins.metrics.similarity import MSE, PSNR, SSIM

SIMILARITY = (SSIM(), PSNR(), MSE(), MSSSIM())
DOWNSTREAM = (TSTR(), TRTR(), TRSTR())


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("metric", SIMILARITY + DOWNSTREAM, ids=lambda m: m.name)
def test_per_class_bases_have_ranges_and_stay_out_of_result_keys_of_their_own(metric):
    assert metric.per_class_keys
    for base in metric.per_class_keys:
        parse(base)  # a base is a key of the grammar on its own
        assert metric.declares(f"{base}[glioma]")
        assert metric.range_of(f"{base}[glioma]") == metric.range_of(base) != (-float("inf"), float("inf"))
    assert not metric.declares("fid[glioma]")


def test_per_class_bases_of_different_metrics_do_not_clash():
    bases = [base for metric in SIMILARITY + DOWNSTREAM for base in metric.per_class_keys]
    assert len(bases) == len(set(bases))
    keys = {key for metric in SIMILARITY + DOWNSTREAM for key in metric.result_keys}
    # A base that only exists per class is no other metric's overall key either.
    for metric in SIMILARITY + DOWNSTREAM:
        for base in metric.per_class_keys:
            assert base not in keys or base in metric.result_keys


@pytest.mark.parametrize("metric", SIMILARITY, ids=lambda m: m.name)
def test_similarity_metric_keeps_the_contract_with_per_class_keys(metric, tmp_path):
    evaluation = tiny_evaluation(tmp_path)
    result = check_metric(metric, evaluation)
    qualified = {parse(k) for k in result.values if parse(k).qualifier is not None}
    base = metric.per_class_keys[0]
    assert {(k.base, k.qualifier) for k in qualified} == {(base, name) for name in evaluation.data.class_names}
    assert not result_problems(metric, result)


@pytest.mark.parametrize("metric", DOWNSTREAM, ids=lambda m: m.name)
def test_downstream_metric_keeps_the_contract_with_per_class_keys(metric, tmp_path):
    evaluation = tiny_evaluation(tmp_path)
    result = check_metric(metric, evaluation, classifier=SmallCNN())
    qualified = [parse(k) for k in result.values if parse(k).qualifier is not None]
    assert {k.base for k in qualified} <= set(metric.per_class_keys)
    assert {k.qualifier for k in qualified} <= set(evaluation.data.class_names)
    # The test split has every class, so every class has its three scores per model.
    finals = [k for k in qualified if "_best_val_" not in k.base]
    assert len(finals) == 3 * len(evaluation.data.class_names)
    prefix = metric.name
    for score in ("precision", "recall", "f1"):
        assert 0.0 <= result.values[f"{prefix}_weighted_{score}"] <= 1.0


def test_the_contract_refuses_a_per_class_key_of_an_undeclared_base():
    result = MetricResult({"ssim_nearest_real": 0.5, "ssim_paired_translation[glioma]": 0.5, "ssim_nearest_real[glioma]": 2.0})
    problems = " ".join(result_problems(SSIM(), result))
    assert "ssim_paired_translation[glioma]" in problems  # not a per-class base
    assert "ssim_nearest_real[glioma]=2.0 not in [-1.0, 1.0]" in problems  # the base's range applies


def test_ms_ssim_per_class_is_the_score_over_the_class_pairs(tmp_path):
    g = torch.Generator().manual_seed(0)
    train = ImageSplit(torch.randint(0, 256, (24, 1, 16, 16), generator=g, dtype=torch.uint8), torch.tensor([0] * 12 + [1] * 12))
    sources = torch.tensor([1, 15, 13, 20])
    noise = torch.randint(-6, 7, (4, 1, 16, 16), generator=g)
    fake = ImageSplit((train.images[sources].int() + noise).clamp(0, 255).to(torch.uint8), torch.tensor([0, 0, 1, 1]))
    data = LoadedData(name="t", class_names=("glioma", "no_tumor"), train=train, test=train, fingerprint="t", family="t")
    evaluation = Evaluation(data=data, fake=fake, device=torch.device("cpu"), seed=0, settings={"n_real": 1000},
                            cache_dir=tmp_path, artifacts_dir=tmp_path, progress=SilentProgress())
    values = MSSSIM().compute(evaluation).values
    assert set(values) == {"ms_ssim_nearest_real", "ms_ssim_nearest_real[glioma]", "ms_ssim_nearest_real[no_tumor]"}
    # Nearest real image of the same class, by a plain numpy search.
    f, r = fake.images.numpy().astype(np.float64), train.images.numpy().astype(np.float64)
    partners = []
    for i, label in enumerate(fake.labels.tolist()):
        members = [j for j in range(24) if train.labels[j] == label]
        partners.append(members[int(np.argmin([((f[i] - r[j]) ** 2).mean() for j in members]))])
    # Fake 1 copies a no_tumor image but is labelled glioma: it is paired within glioma.
    assert partners[0] == 1 and partners[1] < 12 and partners[2:] == [13, 20]
    paired = train.images[partners]
    assert values["ms_ssim_nearest_real[glioma]"] == pytest.approx(mean_ms_ssim(fake.images[:2], paired[:2]))
    assert values["ms_ssim_nearest_real[no_tumor]"] == pytest.approx(mean_ms_ssim(fake.images[2:], paired[2:]))
    assert values["ms_ssim_nearest_real"] == pytest.approx(mean_ms_ssim(fake.images, paired))
    assert "`ms_ssim_nearest_real[<class>]`" in MSSSIM.protocol
