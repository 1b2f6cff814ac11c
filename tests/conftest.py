"""Shared pytest fixtures for the ganbench tests."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The shared datasets sit beside the checkout: <repo>/../shared/datasets.
SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture(scope="module")
def session_inception_cache(tmp_path_factory):
    """One ganbench cache folder for every module that runs the Inception network, so
    the weights are converted once a session (in a temporary cache, not the user's).
    Module-scoped use of a session folder: each module sets and restores the variable."""
    from ganbench.paths import CACHE_ENV

    root = tmp_path_factory.getbasetemp() / "ganbench-cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(root))
        yield root


@pytest.fixture(scope="session")
def shared_brain_mri() -> Path:
    """The Kaggle "Brain Tumor Classification (MRI)" set, or a skip when it is absent.

    Tests that use it are marked ``@pytest.mark.shared_data`` (deselect with
    ``-m 'not shared_data'``)."""
    path = SHARED_DATASETS / "brain-tumor-classification-mri"
    if not path.is_dir():
        pytest.skip(
            f"brain-tumor-classification-mri not found at {path}: "
            "the shared datasets sit beside the checkout in ../shared"
        )
    return path


@pytest.fixture
def one_thread():
    """One torch intra-op thread for the test, the previous count restored after. For
    speed, not for the numbers: on tiny tensors on a busy 2-core machine, OpenMP threads
    spin-waiting made the work slower, and one thread is the fastest. Apply it to a
    whole module with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def fresh_real_fits():
    """No test sees a TRTR fit another test left in this process
    (plugins/metrics/real_fit_reuse.py keeps them for the run's other cells)."""
    from ganbench_plugins.metrics.real_fit_reuse import forget_fits

    forget_fits()
    yield
    forget_fits()
