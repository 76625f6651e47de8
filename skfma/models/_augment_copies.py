"""Masked copies of the training clips, drawn once per fit (offline augmentation)."""

import copy

import numpy as np
import torch
from skorch.dataset import unpack_data

from ..utils._random import seeded_generators

__all__ = ["AugmentedCopies"]


class AugmentedCopies(torch.utils.data.Dataset):
    """Each clip of a dataset followed by ``n_copies`` augmented copies of it.

    The copies are the same every epoch, as if made once before training
    (report 001 added two SpecAugment copies of every training spectrogram
    to its training set), but they are computed when read, so memory holds
    no more than the clips: copy ``k`` of clip ``j`` is the augmentation run
    with torch's generator seeded from ``seed`` and the item's index.

    Parameters
    ----------
    dataset : Dataset
        Yields ``(clip, target)``, clips of shape ``(..., n_bins, n_frames)``.
    augment : torch.nn.Module
        The augmentation (e.g. :class:`~skfma.nn.SpecAugment`); a copy in
        training mode is used.
    n_copies : int
        Augmented copies per clip.
    seed : int
        Seed of the copies; items ``i`` of two datasets with the same seed
        are equal.
    """

    def __init__(self, dataset, augment, n_copies, seed):
        self.dataset = dataset
        self.augment = copy.deepcopy(augment).cpu().train()
        self.n_copies = n_copies
        self.seed = seed

    def __len__(self):
        return len(self.dataset) * (1 + self.n_copies)

    def __getitem__(self, index):
        clip, copy_number = divmod(index, 1 + self.n_copies)
        Xi, yi = unpack_data(self.dataset[clip])
        # Tensors for originals and copies alike: a batch mixes both, and torch's collate
        # cannot stack arrays with tensors.
        Xi = torch.tensor(np.asarray(Xi))
        if copy_number == 0:
            return Xi, yi
        with seeded_generators(self.seed + index), torch.no_grad():
            return self.augment(Xi[None])[0], yi
