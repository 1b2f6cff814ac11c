"""The real reference set: the generated set's class mix, capped, fixed by its seed."""

from pathlib import Path

import torch

from ganbench.specs import Evaluation, ImageSplit, LoadedData, SilentProgress


def split(counts: dict[int, int]) -> ImageSplit:
    labels = torch.cat([torch.full((n,), c) for c, n in counts.items()])
    images = torch.arange(len(labels), dtype=torch.uint8).view(-1, 1, 1, 1)
    return ImageSplit(images, labels)


def class_counts(labels: torch.Tensor) -> dict[int, int]:
    return {int(c): int((labels == c).sum()) for c in labels.unique()}


def test_follows_the_generated_class_mix_not_the_datasets():
    real = split({0: 80, 1: 10, 2: 30})
    fake_labels = torch.tensor([0] * 5 + [1] * 5 + [2] * 10)
    index = real.matching(fake_labels, n=20, seed=0)
    assert class_counts(real.labels[index]) == {0: 5, 1: 5, 2: 10}
    assert torch.equal(index, index.sort().values) and len(index.unique()) == 20


def test_a_short_class_is_capped_and_not_filled_from_others():
    real = split({0: 50, 1: 3})
    index = real.matching(torch.tensor([0, 1]), n=20, seed=0)
    assert class_counts(real.labels[index]) == {0: 10, 1: 3}


def test_largest_remainders_make_up_n():
    real = split({0: 50, 1: 50, 2: 50})
    index = real.matching(torch.tensor([0, 1, 2]), n=10, seed=0)
    assert len(index) == 10 and sorted(class_counts(real.labels[index]).values()) == [3, 3, 4]


def test_deterministic_by_seed_and_a_single_class_reference():
    real = split({0: 40, 1: 40})
    fake_labels = torch.ones(7, dtype=torch.long)  # e.g. an image-to-image GAN's tumour images
    first = real.matching(fake_labels, n=15, seed=0)
    assert torch.equal(first, real.matching(fake_labels, n=15, seed=0))
    assert not torch.equal(first, real.matching(fake_labels, n=15, seed=1))
    assert set(real.labels[first].tolist()) == {1} and len(first) == 15


def test_unknown_labels_fall_back_to_a_plain_draw():
    real = split({0: 10, 1: 10})
    index = real.matching(torch.tensor([-1, -1]), n=5, seed=0)
    assert len(index) == 5


def test_evaluation_uses_n_real_and_the_fixed_seed(tmp_path: Path):
    real = split({0: 30, 1: 30})
    fake = split({0: 4, 1: 4})
    data = LoadedData("d", ("a", "b"), real, real, fingerprint="f", family="f")
    evaluation = Evaluation(data, fake, torch.device("cpu"), seed=7, settings={"n_real": 12},
                            cache_dir=tmp_path, artifacts_dir=tmp_path, progress=SilentProgress())
    reference = evaluation.real_reference()
    assert len(reference) == 12 and class_counts(reference.labels) == {0: 6, 1: 6}
    assert torch.equal(evaluation.real_reference_index(), real.matching(fake.labels, 12, seed=0))
