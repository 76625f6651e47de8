"""skorch's own parameters of the nets, checked before anything is built from them."""

import torch
from skorch.callbacks import Callback

from ..exceptions import ParameterError

__all__ = ["check_skorch_params"]

#: Parameters that are True or False.
_FLAGS = ("warm_start", "compile", "iterator_train__shuffle")

#: Parameters that skorch calls to build an object: a class, or a function returning one.
_FACTORIES = ("optimizer", "iterator_train", "iterator_valid", "dataset")


def check_skorch_params(net):
    """Raise a ParameterError naming the first of skorch's parameters of ``net`` that is wrong.

    skorch builds the module, criterion, optimizer, data loaders and dataset
    from these when it initializes, and calls ``train_split`` and the
    callbacks while it trains: a wrong value ended in a ``TypeError`` about
    some object deep inside (``'int' object is not callable``), or was taken
    silently (``warm_start="no"``, a true value).

    Parameters
    ----------
    net : NeuralClassifier
    """
    params = net.get_params(deep=False)
    for name in _FLAGS:
        if name in params and not isinstance(params[name], bool):
            raise ParameterError(f"{name} must be True or False; got {params[name]!r}.")
    module = params["module"]
    if not (_is_class_of(module, torch.nn.Module) or isinstance(module, torch.nn.Module)):
        raise ParameterError(f"module must be a torch.nn.Module class or instance; got {module!r}.")
    criterion = params["criterion"]
    if criterion is not None and not callable(criterion):
        raise ParameterError(
            f"criterion must be None (the net's loss), a torch loss class or instance; got "
            f"{criterion!r}."
        )
    for name in _FACTORIES:
        if not callable(params[name]):
            raise ParameterError(
                f"{name} must be a class (or a callable making one); got {params[name]!r}."
            )
    if params["train_split"] is not None and not callable(params["train_split"]):
        raise ParameterError(
            "train_split must be None or a callable such as skorch.dataset.ValidSplit(5); got "
            f"{params['train_split']!r}."
        )
    nonlinearity = params["predict_nonlinearity"]
    if not (nonlinearity is None or nonlinearity == "auto" or callable(nonlinearity)):
        raise ParameterError(
            f"predict_nonlinearity must be 'auto', None or a callable; got {nonlinearity!r}."
        )
    if params["torch_load_kwargs"] is not None and not isinstance(
        params["torch_load_kwargs"], dict
    ):
        raise ParameterError(
            f"torch_load_kwargs must be None or a dict; got {params['torch_load_kwargs']!r}."
        )
    _check_callbacks_param(params["callbacks"])


def _is_class_of(value, base):
    return isinstance(value, type) and issubclass(value, base)


def _check_callbacks_param(callbacks):
    if callbacks is None or callbacks == "disable":
        return
    if not isinstance(callbacks, list | tuple):
        raise ParameterError(
            "callbacks must be None, 'disable' or a list of skorch callbacks (or (name, "
            f"callback) pairs); got {callbacks!r}."
        )
    for item in callbacks:
        callback = item
        if isinstance(item, tuple):  # a (name, callback) pair
            callback = item[1] if len(item) == 2 and isinstance(item[0], str) else None
        if not (isinstance(callback, Callback) or _is_class_of(callback, Callback)):
            raise ParameterError(
                f"callbacks: {item!r} is not a skorch Callback (instance or class) nor a "
                "(name, callback) pair."
            )
