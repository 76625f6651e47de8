"""Seeds for torch: ``seeded_generators`` seeds the generators it restores, and no other."""

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset

from skfma.models import NeuralClassifier
from skfma.models._augment_copies import AugmentedCopies
from skfma.nn import DNNModule, SpecAugment
from skfma.utils._random import seeded_generators


@pytest.fixture
def gpu_seeds(monkeypatch):
    """The seeds given to every GPU's generator (``torch.manual_seed`` gives them one too)."""
    seeds = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", seeds.append)
    return seeds


def test_a_seeded_block_repeats_its_draws_and_restores_the_callers_generator():
    torch.manual_seed(1)
    before = torch.get_rng_state()
    with seeded_generators(7):
        first = torch.rand(3)
    with seeded_generators(7):
        second = torch.rand(3)
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert torch.equal(torch.get_rng_state(), before)


def test_seeding_leaves_the_gpus_generators_alone(gpu_seeds):
    # fork_rng restores only the generators it is given: a GPU's reseeded inside a fork of
    # the CPU would stay reseeded (and a training GPU's, on every item of the copies).
    X = np.random.default_rng(0).standard_normal((40, 5)).astype(np.float32)
    y = np.where(X[:, 0] > 0, "a", "b")
    net = NeuralClassifier(module=DNNModule, module__hidden_layer_sizes=(4,), max_epochs=1)
    net.set_params(random_state=0, device="cpu").fit(X, y)
    dataset = Dataset(np.zeros((3, 1, 8, 16), np.float32), np.zeros(3, np.int64))
    copies = AugmentedCopies(dataset, SpecAugment(freq_mask=2, time_mask=2), 2, seed=3)
    for index in range(len(copies)):
        copies[index]
    assert gpu_seeds == []
