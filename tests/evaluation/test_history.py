"""training_history (skfma/evaluation/_history.py): the epoch numbers it accepts.

The table of a fitted net is checked in test_plots.py, beside its figure.
"""

import re

import numpy as np
import pandas as pd
import pytest

from skfma.evaluation import training_history
from skfma.exceptions import ParameterError


@pytest.mark.parametrize("epoch", ["a", None, 1.5, np.nan, True, [1]], ids=repr)
def test_an_epoch_number_that_is_not_an_integer_is_named(epoch):
    history = [{"epoch": 1, "train_loss": 0.9}, {"epoch": epoch, "train_loss": 0.8}]
    with pytest.raises(
        ParameterError,
        match=r"^training_history: net_or_history must number its epochs with integers .*"
        rf"epoch at position 1 is {re.escape(repr(epoch))}\.$",
    ):
        training_history(history)


@pytest.mark.parametrize("epochs", [["a", "b"], [1.0, 2.5]], ids=["strings", "fraction"])
def test_a_dataframe_with_non_integer_epochs_is_named(epochs):
    frame = pd.DataFrame({"epoch": epochs, "train_loss": [0.9, 0.8]})
    with pytest.raises(ParameterError, match=r"^training_history: .*epochs with integers"):
        training_history(frame)
    with pytest.raises(ParameterError, match=r"^training_history: .*epochs with integers"):
        training_history(frame.set_index("epoch"))


def test_integral_epoch_numbers_of_any_type_become_ints():
    history = [{"epoch": np.int64(1), "train_loss": 0.9}, {"epoch": 2.0, "train_loss": 0.8}]
    table = training_history(history)
    assert table.index.tolist() == [1, 2] and table.index.dtype == np.int64
    frame = pd.DataFrame({"epoch": [1.0, 2.0], "train_loss": [0.9, 0.8]})
    assert training_history(frame).index.dtype == np.int64
