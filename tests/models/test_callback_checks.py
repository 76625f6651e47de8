"""Callbacks that would fail after an epoch or save nothing silently are refused before it."""

import os

import numpy as np
import pytest
from skorch.callbacks import Checkpoint, EarlyStopping, LRScheduler, TrainEndCheckpoint
from skorch.dataset import ValidSplit

from skfma.exceptions import CheckpointError, ParameterError
from skfma.models import KostrzewaCNN

X = np.random.default_rng(0).random((12, 16, 16), dtype=np.float32)
y = np.arange(12) % 2


def net(**params):
    return KostrzewaCNN(module__filters=(2,), module__kernel_size=3, max_epochs=2, **params)


@pytest.mark.parametrize(
    ("callback", "monitor"),
    [
        (EarlyStopping(), "valid_loss"),
        (EarlyStopping(monitor="valid_acc", lower_is_better=False), "valid_acc"),
        (Checkpoint(dirname="unused"), "valid_loss_best"),
        (LRScheduler("ReduceLROnPlateau", monitor="valid_loss"), "valid_loss"),
    ],
)
def test_validation_monitors_without_a_validation_split_are_refused(callback, monitor, tmp_path):
    if isinstance(callback, Checkpoint):
        callback.dirname = str(tmp_path)
    refused = net(callbacks=[callback])
    with pytest.raises(ParameterError, match=f"monitors '{monitor}'.*train_split=None"):
        refused.fit(X, y)
    assert not len(refused.history_)  # refused before the first epoch
    # With a split they run.
    net(callbacks=[callback], train_split=ValidSplit(3, stratified=True)).fit(X, y)


def test_training_monitors_run_without_a_split(tmp_path):
    callbacks = [
        EarlyStopping(monitor="train_loss", patience=1),
        Checkpoint(monitor="train_loss_best", dirname=str(tmp_path)),
    ]
    net(callbacks=callbacks).fit(X, y)
    assert (tmp_path / "params.pt").exists()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc, unwritable even by root")
@pytest.mark.parametrize(
    "callback",
    [
        Checkpoint(monitor=None, dirname="/proc/self"),
        Checkpoint(monitor=None, f_params="/proc/self/params.pt"),
        TrainEndCheckpoint(dirname="/proc/self"),
    ],
)
def test_a_checkpoint_that_cannot_write_is_refused_before_the_first_epoch(
    callback, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # where the other files of a Checkpoint without dirname go
    trained = net(callbacks=[callback])
    with pytest.raises(CheckpointError, match=r"cannot write its files into '/proc/self'"):
        trained.fit(X, y)
    assert not len(trained.history_)  # refused before the first epoch


def test_folders_are_created_and_written(tmp_path):
    folder = tmp_path / "new" / "folder"
    net(callbacks=[Checkpoint(monitor=None, dirname=str(folder), fn_prefix="run_")]).fit(X, y)
    assert (folder / "run_params.pt").exists()
