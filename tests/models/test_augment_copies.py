"""augment_copies: SpecAugment copies added to the training set once per fit (report 001)."""

import numpy as np
import pytest
import torch
from torch.utils.data import Subset

from skfma.exceptions import ParameterError
from skfma.models import NeuralClassifier
from skfma.models._augment_copies import AugmentedCopies
from skfma.nn import SpecAugment

N_CLIPS, N_BINS, N_FRAMES = 12, 6, 10
FILL = -99.0  # no spectrogram value: marks the masked cells


class RecordingNet(torch.nn.Module):
    """A linear classifier that keeps every training batch it sees."""

    seen = []

    def __init__(self, *, input_shape=(1, N_BINS, N_FRAMES), n_classes=2):
        super().__init__()
        self.linear = torch.nn.Linear(int(np.prod(input_shape)), n_classes)

    def forward(self, x):
        if self.training:
            RecordingNet.seen.append(x.detach().clone())
        return self.linear(x.flatten(1))


def spectrograms():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_CLIPS, N_BINS, N_FRAMES)).astype(np.float32)
    return X, np.where(X.mean(axis=(1, 2)) > 0, "up", "down")


def masking(**kwargs):
    return SpecAugment(freq_mask=2, time_mask=3, fill=FILL, **kwargs)


def fit_recording(copies, *, train_split=None, max_epochs=2, random_state=0):
    RecordingNet.seen = []
    X, y = spectrograms()
    net = NeuralClassifier(
        module=RecordingNet,
        augment=masking(),
        augment_copies=copies,
        train_split=train_split,
        iterator_train__shuffle=False,
        batch_size=-1,  # one batch per epoch
        max_epochs=max_epochs,
        random_state=random_state,
    ).fit(X, y)
    epochs = [torch.cat(RecordingNet.seen[i::max_epochs]) for i in range(max_epochs)]
    return net, X, [epoch[:, 0].numpy() for epoch in epochs]


def test_each_clip_is_followed_by_its_copies_the_same_every_epoch():
    net, X, (first, second) = fit_recording(2)
    assert first.shape == (3 * N_CLIPS, N_BINS, N_FRAMES)
    np.testing.assert_array_equal(first, second)  # drawn once: offline copies
    originals, copies = first[0::3], np.concatenate([first[1::3], first[2::3]])
    np.testing.assert_array_equal(originals, X)  # the clips themselves stay unmasked
    masked = copies == FILL
    assert masked.any(axis=(1, 2)).all()  # every copy is masked ...
    np.testing.assert_array_equal(copies[~masked], np.concatenate([X, X])[~masked])  # ... only
    assert not np.array_equal(first[1::3] == FILL, first[2::3] == FILL)  # two different copies
    assert sum(net.history_[-1, "batches", :, "train_batch_size"]) == 3 * N_CLIPS


def test_on_the_fly_masks_differ_every_epoch():
    _, _, (first, second) = fit_recording(None)
    assert first.shape == (N_CLIPS, N_BINS, N_FRAMES)
    assert (first == FILL).any() and not np.array_equal(first, second)


def test_the_copies_follow_random_state():
    _, _, (same, _) = fit_recording(1, random_state=3)
    _, _, (again, _) = fit_recording(1, random_state=3)
    _, _, (other, _) = fit_recording(1, random_state=4)
    np.testing.assert_array_equal(same, again)
    assert not np.array_equal(same, other)


def test_validation_clips_are_not_copied():
    def hold_out_four(dataset, y=None):
        return Subset(dataset, np.arange(8)), Subset(dataset, np.arange(8, 12))

    net, _, (first, _) = fit_recording(2, train_split=hold_out_four)
    assert first.shape[0] == 3 * 8
    assert sum(net.history_[-1, "batches", :, "valid_batch_size"]) == 4


def test_shuffled_batches_mix_clips_and_copies():
    """Batches hold originals and copies in any order (they used to be arrays and tensors)."""
    X, y = spectrograms()
    net = NeuralClassifier(
        module=RecordingNet, augment=masking(), augment_copies=2, batch_size=6, max_epochs=2
    )
    net.fit(X, y)
    assert sum(net.history_[-1, "batches", :, "train_batch_size"]) == 3 * N_CLIPS


def test_augmented_copies_dataset_reads_the_same_item_twice():
    X, y = spectrograms()
    data = AugmentedCopies(list(zip(X, y, strict=True)), masking(), 2, seed=7)
    assert len(data) == 3 * N_CLIPS
    np.testing.assert_array_equal(data[4][0], data[4][0])
    np.testing.assert_array_equal(data[3][0], X[1])
    assert data[5][1] == y[1]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"augment_copies": 2}, "needs an augment module"),
        ({"augment": masking(), "augment_copies": 0}, "augment_copies"),
        ({"augment": masking(), "augment_copies": 1.5}, "augment_copies"),
    ],
)
def test_bad_augment_copies_are_refused(params, message):
    X, y = spectrograms()
    with pytest.raises(ParameterError, match=message):
        NeuralClassifier(module=RecordingNet, **params).fit(X, y)
