"""Fixtures of the dataset tests: a small synthetic FMA-like dataset."""

import pytest

from skfma.datasets import make_fma_like


@pytest.fixture(scope="session")
def fma_like(tmp_path_factory):
    """A make_fma_like dataset (24 tracks, 3 genres, 0.5 s clips); do not modify it."""
    root = tmp_path_factory.mktemp("fma_like")
    make_fma_like(root, n_clips=24, n_genres=3, duration=0.5, random_state=0)
    return root
