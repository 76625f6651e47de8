"""The argument checks shared by skfma's estimators and torch modules."""

import re

import numpy as np
import pytest

from skfma import MusicnnFeatures
from skfma.exceptions import ParameterError
from skfma.utils import (
    check_array_like,
    check_bool,
    check_choice,
    check_dropout,
    check_int,
    check_n_jobs,
    check_positive,
    check_sample_rate,
    check_sizes,
    check_top_db,
    expand_path,
    validate_arguments,
    value_check,
)
from skfma.utils._random import check_seed


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_])
def test_check_bool_returns_a_python_bool(value):
    checked = check_bool("flag", value)
    assert checked is bool(value)


@pytest.mark.parametrize("value", [0, 1, 1.0, "True", None, np.int64(1), [True]])
def test_check_bool_refuses_what_only_compares_equal_to_a_bool(value):
    message = f"flag must be True or False; got {value!r}."
    with pytest.raises(ParameterError, match=f"^{re.escape(message)}$"):
        check_bool("flag", value)


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_check_int_returns_a_python_int(value):
    checked = check_int("n", value)
    assert checked == 3 and type(checked) is int
    assert type(check_positive("n", value, integer=True)) is int


@pytest.mark.parametrize(
    ("value", "minimum", "message"),
    [
        (0, 1, "n must be a positive integer; got 0"),
        (True, 1, "n must be a positive integer; got True"),
        (2.0, 1, "n must be a positive integer; got 2.0"),
        ("2", 1, "n must be a positive integer; got '2'"),
        (-1, 0, "n must be an int >= 0; got -1"),
        (1, 2, "n must be an int >= 2; got 1"),
        (2**31, 1, "n must be at most 2\\*\\*31 - 1; got 2147483648"),
        (10**30, 1, "n must be at most 2\\*\\*31 - 1; got 1" + "0" * 30),
    ],
)
def test_check_int_rejects_with_the_name(value, minimum, message):
    with pytest.raises(ParameterError, match=f"^{message}"):
        check_int("n", value, minimum=minimum)


def test_check_int_allow_none():
    assert check_int("n", None, allow_none=True) is None
    with pytest.raises(ParameterError, match="n must be a positive integer or None"):
        check_int("n", 0, allow_none=True)
    with pytest.raises(ParameterError, match="n must be a positive integer; got None"):
        check_int("n", None)


def test_check_positive_reals():
    assert check_positive("sr", 22050.5) == 22050.5
    for bad in (0, -1.0, True, "1", float("nan")):
        with pytest.raises(ParameterError, match="sr must be a finite number > 0"):
            check_positive("sr", bad)


def test_check_sizes():
    assert check_sizes("filters", [np.int64(8), 16]) == (8, 16)
    assert all(type(size) is int for size in check_sizes("filters", (np.int64(8),)))
    assert check_sizes("hidden", (), allow_empty=True) == ()
    for bad in ((), (8, 0), (8, 2.0), 8, (True,), (2**40, 8)):
        with pytest.raises(ParameterError, match="filters must be a tuple of positive ints"):
            check_sizes("filters", bad)


def test_check_dropout_and_top_db():
    assert check_dropout(0) == 0.0 and check_dropout(np.float32(0.5)) == 0.5
    for bad in (1.0, -0.1, False, "0.1"):
        with pytest.raises(ParameterError, match="dropout must be a number in"):
            check_dropout(bad)
    assert check_top_db(None) is None and check_top_db(0) == 0
    for bad in (-1, True, "80"):
        with pytest.raises(ParameterError, match="top_db must be None or a finite number >= 0"):
            check_top_db(bad)


@pytest.mark.parametrize("sr", [100, 8000, 22050.0, 1_000_000])
def test_sample_rates_in_range_pass(sr):
    assert check_sample_rate("sr", sr) == sr


@pytest.mark.parametrize(
    "sr", [99, 1e-300, 1e300, 0, -1, float("nan"), float("inf"), "22050", True]
)
def test_sample_rates_out_of_range_are_named(sr):
    with pytest.raises(ParameterError, match=r"sr must be a number of Hz from 100 to 1,000,000"):
        check_sample_rate("sr", sr)


@pytest.mark.parametrize("sr", [1e-300, 1e300])
def test_musicnn_refuses_sample_rates_it_would_hang_or_overflow_on(sr):
    with pytest.raises(ParameterError, match="MusicnnFeatures: sr must be"):
        MusicnnFeatures(sr=sr).fit_transform(np.zeros((1, 16000), np.float32))


@pytest.mark.parametrize("seed", [None, 0, 2**32 - 1, np.int64(3), np.random.RandomState(0)])
def test_seeds_scikit_learn_takes_pass(seed):
    assert check_seed(seed) is seed


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0", True, object()])
def test_other_seeds_are_named(seed):
    with pytest.raises(ParameterError, match="random_state must be None, an int from 0"):
        check_seed(seed)


def test_check_positive_takes_an_upper_bound():
    assert check_positive("lr", 1e3, maximum=1e3) == 1e3
    assert check_positive("lr", None, allow_none=True, maximum=1.0) is None
    with pytest.raises(ParameterError, match=r"^lr must be at most 1000; got 1e\+300\.$"):
        check_positive("lr", 1e300, maximum=1e3)
    with pytest.raises(ParameterError, match=r"^n must be at most 10; got 11\.$"):
        check_positive("n", 11, integer=True, maximum=10)
    assert check_positive("n", np.int64(10), integer=True, maximum=10) == 10


def test_value_check_adapts_a_check_that_names_its_parameter_itself():
    entry = value_check(check_n_jobs)
    assert entry("n_jobs", 2) == 2
    with pytest.raises(ParameterError, match="n_jobs"):
        entry("n_jobs", 0)


@validate_arguments(
    {"path": expand_path, "n": check_int, "flag": check_bool, "extra": check_array_like}
)
def _decorated(path, n=3, *, flag=False, extra=()):
    return path, n, flag, extra


def test_validate_arguments_hands_the_body_what_each_check_returns(monkeypatch):
    monkeypatch.setenv("HOME", "/home/someone")
    path, n, flag, extra = _decorated("~/x", np.int64(2), flag=np.True_)
    assert path == "/home/someone/x"
    assert type(n) is int and n == 2
    assert flag is True
    assert extra == ()  # check_array_like returns None: the argument is kept as given


def test_validate_arguments_checks_defaults_and_names_the_function_and_parameter():
    with pytest.raises(ParameterError, match=r"^_decorated: n must be a positive integer"):
        _decorated("x", 0)
    with pytest.raises(ParameterError, match=r"^_decorated: flag must be True or False"):
        _decorated("x", flag=1)
    assert _decorated._parameter_checks["n"] is check_int


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        ({"a": check_int}, r"missing \['b'\], unknown \[\]"),
        ({"a": check_int, "b": check_int, "c": check_int}, r"missing \[\], unknown \['c'\]"),
    ],
)
def test_validate_arguments_refuses_a_table_that_does_not_match_the_signature(checks, message):
    with pytest.raises(TypeError, match=message):

        @validate_arguments(checks)
        def function(a, b, *args, **kwargs):
            pass


def test_validate_arguments_leaves_star_args_unchecked():
    @validate_arguments({"a": check_int})
    def function(a, *args, **kwargs):
        return a, args, kwargs

    assert function(1, "anything", key=object)[:2] == (1, ("anything",))


@pytest.mark.parametrize("value", [np.array(["small", "medium"]), np.array(["small"]), ["small"]])
def test_check_choice_refuses_arrays_and_lists_whatever_they_hold(value):
    """An array compared element-wise: a raw NumPy error, or np.array(['small']) accepted."""
    with pytest.raises(ParameterError, match=r"^subset must be one of 'small', 'medium'; got"):
        check_choice("subset", value, ("small", "medium"))
    assert check_choice("subset", np.str_("small"), ("small", "medium")) == "small"
