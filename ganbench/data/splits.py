"""Deterministic train/test splits. The split never depends on the run seed: every seed
of every GAN is tested on the same real images.

* `stratified_split`: per class, items sorted by key, shuffled with
  ``numpy.random.default_rng(SPLIT_SEED)``; the first ``round(n * test_fraction)`` (at
  least 1, at most n - 1) are held out.
* `patient_split`: the same rule over *patients* instead of images, stratified by
  each patient's set of classes, so that no patient has images on both sides (a GAN
  trained on one slice of a volume must not be judged against its neighbour slice).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Hashable, Sequence

import numpy as np

from ..errors import DatasetLayoutError

SPLIT_SEED = 0
"""The seed of every split: fixed, never the run seed."""
PAPER_RATIOS = {"80/20": 0.2, "70/30": 0.3}
"""The ratios the papers use, by name, for the ``test_fraction`` option."""


def parse_test_fraction(value: float | str) -> float:
    """Read a ``test_fraction`` option: ``0.2``, ``"0.2"``, ``"80/20"`` or ``"70/30"``.

    Args:
        value: a number or a string as typed after ``--data-option test_fraction=``.

    Returns:
        The held-out fraction, strictly between 0 and 1.

    Raises:
        DatasetLayoutError: not a number in (0, 1) nor one of `PAPER_RATIOS`.
    """
    if isinstance(value, str) and value in PAPER_RATIOS:
        return PAPER_RATIOS[value]
    try:
        fraction = float(value)
    except (TypeError, ValueError):
        raise DatasetLayoutError(f"test_fraction must be a number between 0 and 1 or one of {', '.join(PAPER_RATIOS)}, got {value!r}") from None
    if not 0.0 < fraction < 1.0:
        raise DatasetLayoutError(f"test_fraction must be between 0 and 1, got {value!r}")
    return fraction


def _held_out(n: int, test_fraction: float, what: str) -> int:
    if n < 2:
        raise DatasetLayoutError(f"{what} has {n} item(s); a split needs at least 2 to hold one out for testing")
    return min(max(int(round(n * test_fraction)), 1), n - 1)


def stratified_split(keys: Sequence[str], labels: Sequence[int], test_fraction: float, class_names: Sequence[str]) -> tuple[list[int], list[int]]:
    """A deterministic train/test split that holds out ``test_fraction`` of every class.

    Per class, items are sorted by key and shuffled with
    ``numpy.random.default_rng(SPLIT_SEED)``; the first ``round(n * test_fraction)``
    (at least 1, at most n - 1) go to test. The same keys always split the same way.

    Args:
        keys: one unique, stable string per item (its relative path), for the order.
        labels: one class index per item, ``0..len(class_names)-1``.
        test_fraction: the share held out, in (0, 1) (`parse_test_fraction`).
        class_names: the class names, for error messages.

    Returns:
        ``(train indices, test indices)`` into the items, each sorted by (label, key).

    Raises:
        DatasetLayoutError: a class has fewer than 2 items.
    """
    by_class: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_class[int(label)].append(i)
    train, test = [], []
    for label in sorted(by_class):
        members = sorted(by_class[label], key=lambda i: keys[i])
        n_test = _held_out(len(members), test_fraction, f"the class {class_names[label]!r}")
        order = np.random.default_rng(SPLIT_SEED).permutation(len(members))
        test += [members[i] for i in order[:n_test]]
        train += [members[i] for i in order[n_test:]]
    order_key = lambda i: (int(labels[i]), keys[i])  # noqa: E731
    return sorted(train, key=order_key), sorted(test, key=order_key)


def patient_split(keys: Sequence[str], labels: Sequence[int], patients: Sequence[Hashable], test_fraction: float) -> tuple[list[int], list[int]]:
    """A deterministic train/test split with every patient wholly on one side.

    The stratified rule applied to patients instead of images, stratified by each
    patient's set of classes, so that no patient has images on both sides (a GAN
    trained on one slice of a volume must not be judged against its neighbour).

    Args:
        keys: one unique, stable string per item (its relative path or volume and
            slice), for the order.
        labels: one class index per item.
        patients: one patient key per item (any hashable: an id, a salted hash).
        test_fraction: the share of patients held out, in (0, 1).

    Returns:
        ``(train indices, test indices)`` into the items, each sorted by (label, key).

    Raises:
        DatasetLayoutError: fewer than 2 patients.
    """
    members: dict[Hashable, list[int]] = defaultdict(list)
    for i, patient in enumerate(patients):
        members[patient].append(i)
    strata: dict[tuple, list[Hashable]] = defaultdict(list)
    for patient, idx in members.items():
        strata[tuple(sorted({int(labels[i]) for i in idx}))].append(patient)
    n_patients = len(members)
    if n_patients < 2:
        raise DatasetLayoutError(f"the data has {n_patients} patient(s); a patient-level split needs at least 2")
    test_patients: set = set()
    for stratum in sorted(strata):
        group = sorted(strata[stratum], key=str)
        if len(group) == 1:
            continue  # assigned below, so that a lone patient never forces an empty side
        n_test = _held_out(len(group), test_fraction, "a patient stratum")
        order = np.random.default_rng(SPLIT_SEED).permutation(len(group))
        test_patients.update(group[i] for i in order[:n_test])
    singles = sorted((s[0] for s in strata.values() if len(s) == 1), key=str)
    wanted = _held_out(n_patients, test_fraction, "the data")
    rng = np.random.default_rng(SPLIT_SEED)
    for i in rng.permutation(len(singles)):
        if len(test_patients) >= wanted:
            break
        test_patients.add(singles[i])
    if len(test_patients) == n_patients:  # never hold everything out
        test_patients.discard(sorted(test_patients, key=str)[0])
    order_key = lambda i: (int(labels[i]), keys[i])  # noqa: E731
    train = sorted((i for i, p in enumerate(patients) if p not in test_patients), key=order_key)
    test = sorted((i for i, p in enumerate(patients) if p in test_patients), key=order_key)
    return train, test
