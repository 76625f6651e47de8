"""skfma.exceptions holds every exception skfma raises, each under SkfmaError."""

import inspect

import pytest

import skfma
import skfma.exceptions
from skfma.exceptions import ParameterError, SkfmaError


def _skfma_modules():
    import pkgutil

    for info in pkgutil.walk_packages(skfma.__path__, "skfma."):
        if info.name.endswith("__main__"):
            continue
        yield __import__(info.name, fromlist=["_"])


def test_every_exception_class_of_skfma_is_in_skfma_exceptions():
    pytest.importorskip("torchvision")
    defined = {
        value
        for module in _skfma_modules()
        for _, value in inspect.getmembers(module, inspect.isclass)
        if issubclass(value, BaseException)
        and value.__module__.startswith("skfma")
        and not value.__name__.startswith("_")
    }
    public = {getattr(skfma.exceptions, name) for name in skfma.exceptions.__all__}
    assert defined == public
    assert all(issubclass(error, SkfmaError) for error in public)


def test_a_parameter_error_is_a_value_error_and_a_type_error():
    """As scikit-learn's InvalidParameterError: either ``except`` catches it."""
    for caught in (ValueError, TypeError, SkfmaError):
        with pytest.raises(caught):
            raise ParameterError("n_mels must be an int; got 'a'.")
