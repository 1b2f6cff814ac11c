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
