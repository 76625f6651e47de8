"""Checks of skorch's own parameters of the nets, one per parameter, for the nets' table.

skorch builds the module, criterion, optimizer, data loaders and dataset from
these when it initializes, and calls ``train_split`` and the callbacks while it
trains: a wrong value ended in a ``TypeError`` about some object deep inside
(``'int' object is not callable``), or was taken silently (``warm_start="no"``,
a true value). :data:`SKORCH_PARAMETER_CHECKS` names each one's check, as
``NeuralClassifier._parameter_checks`` declares them
(:func:`skfma.base.validate_parameters`).
"""

import torch
from skorch.callbacks import Callback

from ..exceptions import ParameterError
from ..utils import check_bool

__all__ = ["SKORCH_PARAMETER_CHECKS"]


def _is_class_of(value, base):
    return isinstance(value, type) and issubclass(value, base)


def _check_module(name, module):
    if not (_is_class_of(module, torch.nn.Module) or isinstance(module, torch.nn.Module)):
        raise ParameterError(f"{name} must be a torch.nn.Module class or instance; got {module!r}.")


def _check_criterion(name, criterion):
    if criterion is not None and not callable(criterion):
        raise ParameterError(
            f"{name} must be None (the net's loss), a torch loss class or instance; got "
            f"{criterion!r}."
        )


def _check_factory(name, factory):
    """A parameter that skorch calls to build an object: a class, or a function returning one."""
    if not callable(factory):
        raise ParameterError(f"{name} must be a class (or a callable making one); got {factory!r}.")


def _check_train_split(name, split):
    if split is not None and not callable(split):
        raise ParameterError(
            f"{name} must be None or a callable such as skorch.dataset.ValidSplit(5); got "
            f"{split!r}."
        )


def _check_nonlinearity(name, nonlinearity):
    if not (nonlinearity is None or nonlinearity == "auto" or callable(nonlinearity)):
        raise ParameterError(f"{name} must be 'auto', None or a callable; got {nonlinearity!r}.")


def _check_load_kwargs(name, kwargs):
    if kwargs is not None and not isinstance(kwargs, dict):
        raise ParameterError(f"{name} must be None or a dict; got {kwargs!r}.")


def _check_callbacks(name, callbacks):
    if callbacks is None or callbacks == "disable":
        return
    if not isinstance(callbacks, list | tuple):
        raise ParameterError(
            f"{name} must be None, 'disable' or a list of skorch callbacks (or (name, "
            f"callback) pairs); got {callbacks!r}."
        )
    for item in callbacks:
        callback = item
        if isinstance(item, tuple):  # a (name, callback) pair
            callback = item[1] if len(item) == 2 and isinstance(item[0], str) else None
        if not (isinstance(callback, Callback) or _is_class_of(callback, Callback)):
            raise ParameterError(
                f"{name}: {item!r} is not a skorch Callback (instance or class) nor a "
                "(name, callback) pair."
            )


def _checked_where_used(name, value):
    """A constructor argument of the module, optimizer, criterion or data loaders.

    The object it is given to checks it when skorch builds that object (the
    nets' modules name their own arguments: ``KostrzewaCNNModule: filters must
    be ...``).
    """


#: skorch's parameters of the nets, and their checks.
SKORCH_PARAMETER_CHECKS = {
    "module": _check_module,
    "criterion": _check_criterion,
    "optimizer": _check_factory,
    "iterator_train": _check_factory,
    "iterator_valid": _check_factory,
    "dataset": _check_factory,
    "train_split": _check_train_split,
    "callbacks": _check_callbacks,
    "predict_nonlinearity": _check_nonlinearity,
    "warm_start": check_bool,
    "compile": check_bool,
    "iterator_train__shuffle": check_bool,
    "torch_load_kwargs": _check_load_kwargs,
    **dict.fromkeys(
        (
            "module__*",
            "optimizer__*",
            "criterion__*",
            "iterator_train__*",
            "iterator_valid__*",
            "dataset__*",
            "callbacks__*",
        ),
        _checked_where_used,
    ),
}
