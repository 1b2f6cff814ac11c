import pytest

from ganbench.runner.matrix import Cell, expand
from ganbench.runner.training import BatchOrder, balanced_labels, step_count

import torch


def test_expand_is_the_full_product_in_dataset_major_order():
    cells = expand("s", "smoke", ["g1", "g2"], ["d1", "d2"], [0, 1])
    assert len(cells) == 8
    assert cells[0] == Cell("s", "d1", "g1", 0, "smoke")
    assert cells[1] == Cell("s", "d1", "g1", 1, "smoke")
    assert cells[4].dataset == "d2"
    assert expand("s", "smoke", ["g1", "g2"], ["d1", "d2"], [0, 1]) == cells


def test_expand_drops_repeats_and_keys_are_unique():
    cells = expand("s", "quick", ["g", "g"], ["d"], [0, 0, 1])
    assert [c.seed for c in cells] == [0, 1]
    assert len({c.key for c in cells}) == len(cells)
    assert cells[0].key == "s/d/g/seed-0/quick"


def test_expand_needs_something_to_run():
    with pytest.raises(ValueError):
        expand("s", "smoke", [], ["d"], [0])


def test_step_count_from_steps_or_epochs():
    assert step_count({"steps": 7, "batch_size": 64}, 1000) == 7
    assert step_count({"epochs": 2, "batch_size": 64}, 130) == 2 * 3
    assert step_count({"epochs": 1, "batch_size": 64}, 10) == 1


def test_batches_cover_each_epoch_without_repeats():
    gen = BatchOrder(10, 4, seed=0)
    first_epoch = torch.cat([next(gen), next(gen)])
    assert len(set(first_epoch.tolist())) == 8


def test_batch_order_is_the_seeded_permutation_per_epoch_and_resumes_mid_epoch():
    # The sequence of the earlier generator function: one randperm per epoch, the
    # partial batch dropped, so results stay bit-identical to rows made before.
    generator = torch.Generator().manual_seed(3)
    expected = []
    for _ in range(3):
        order = torch.randperm(10, generator=generator)
        expected += [order[0:4], order[4:8]]
    gen = BatchOrder(10, 4, seed=3)
    drawn = [next(gen) for _ in range(3)]
    state = gen.state_dict()
    resumed = BatchOrder(10, 4, seed=99)
    resumed.load_state_dict(state)
    drawn += [next(resumed) for _ in range(3)]
    assert all(torch.equal(a, b) for a, b in zip(drawn, expected))


def test_balanced_labels():
    assert balanced_labels(10, 4).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 3, 3]
