"""Search spaces as scikit-learn writes them, sampled through an Optuna trial.

A space is what ``GridSearchCV`` and ``RandomizedSearchCV`` take: a dict from
parameter name to a list of values or a ``scipy.stats`` frozen distribution,
or a list of such dicts. :class:`SearchSpace` checks it once and turns it
into Optuna suggestions: lists become categorical choices, uniform,
log-uniform and integer-uniform distributions become Optuna's float and int
distributions (so that TPE and GP model them as numbers), and any other
distribution is sampled through its quantile function from a suggested
uniform quantile.
"""

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import rv_discrete

from ..exceptions import ParameterError
from ..utils._fingerprint import describe

__all__ = ["SearchSpace"]

#: Values that Optuna stores as categorical choices as they are.
_PRIMITIVE = (type(None), bool, int, float, str)

#: Quantiles are kept this far from 0 and 1, where unbounded distributions reach infinity.
_EPS = 1e-12


class SearchSpace:
    """A checked search space: one or more dicts of parameter name -> values or distribution.

    Parameters
    ----------
    param_distributions : dict or list of dict
        Parameter name -> list (or 1-D array) of values, or a ``scipy.stats``
        frozen distribution (anything with ``rvs``, ``ppf`` and
        ``support``). A list of dicts is a choice between subspaces, as in
        ``RandomizedSearchCV``.

    Raises
    ------
    ParameterError
        Naming the parameter whose values are not a list or a distribution
        (or a distribution that gives non-finite values), or if no subspace
        names a parameter.
    """

    def __init__(self, param_distributions):
        spaces = param_distributions
        if isinstance(spaces, Mapping):
            spaces = [spaces]
        if not isinstance(spaces, Sequence) or isinstance(spaces, str) or not spaces:
            raise ParameterError(
                "param_distributions must be a dict (parameter name -> list of values or "
                "scipy.stats distribution) or a non-empty list of such dicts; got "
                f"{param_distributions!r}."
            )
        self.subspaces = []
        for space in spaces:
            if not isinstance(space, Mapping):
                raise ParameterError(
                    "param_distributions must be a dict or a list of dicts; got an element "
                    f"{space!r} of type {type(space).__name__}."
                )
            self.subspaces.append(
                {name: _dimension(name, values) for name, values in space.items()}
            )
        if not any(self.subspaces):
            raise ParameterError(
                "param_distributions must name at least one parameter to search; got "
                f"{param_distributions!r}."
            )

    @property
    def names(self):
        """Every parameter name, in the order of first appearance."""
        return list(dict.fromkeys(name for space in self.subspaces for name in space))

    def description(self):
        """The space as a value to hash, the same in every process that builds the same space.

        A frozen scipy distribution holds a random generator (NumPy's global
        one, unless given another), whose state a hash would read: it is
        described by its family and parameters instead.
        """
        return [
            {name: dim.description() for name, dim in space.items()} for space in self.subspaces
        ]

    def examples(self):
        """One valid value of every parameter (for checking names against an estimator)."""
        return {name: dim.example() for space in self.subspaces for name, dim in space.items()}

    def suggest(self, trial):
        """Draw one configuration through an Optuna trial (ask-and-tell).

        Returns
        -------
        params : dict
            Parameter name -> value, ready for ``set_params``.
        """
        index = 0
        if len(self.subspaces) > 1:
            index = trial.suggest_categorical("subspace", list(range(len(self.subspaces))))
        prefix = f"subspace{index}:" if len(self.subspaces) > 1 else ""
        return {
            name: dim.suggest(trial, prefix + name) for name, dim in self.subspaces[index].items()
        }


def _dimension(name, values):
    if not isinstance(name, str):
        raise ParameterError(f"param_distributions keys must be parameter names; got {name!r}.")
    if hasattr(values, "rvs"):
        return _Distribution(name, values)
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence | np.ndarray):
        raise ParameterError(
            f"param_distributions[{name!r}] must be a list of values or a scipy.stats "
            f"distribution; got {values!r} (of type {type(values).__name__}). Wrap a single "
            "value in a list."
        )
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ParameterError(
            f"param_distributions[{name!r}] must be a 1-D list of values; got an array of shape "
            f"{values.shape}."
        )
    if len(values) == 0:
        raise ParameterError(
            f"param_distributions[{name!r}] is an empty list; give 1 value or more."
        )
    return _Choices(list(values))


class _Choices:
    """A list of values, suggested as an Optuna categorical parameter.

    Optuna stores only ``None``, bools, ints, floats and strings: other values
    (tuples of layer sizes, classes, callbacks) are suggested by their
    ``repr`` (or their position, when two ``repr`` are equal or a ``repr``
    holds a memory address, which changes from run to run) and mapped back.
    """

    def __init__(self, values):
        self.values = values
        plain = [v.item() if isinstance(v, np.generic) else v for v in values]
        # Optuna finds a choice by equality: 1, 1.0 and True would be confused.
        if all(isinstance(v, _PRIMITIVE) for v in plain) and not any(
            a == b for i, a in enumerate(plain) for b in plain[i + 1 :]
        ):
            self.labels = plain
        else:
            labels = [repr(v) for v in values]
            if any(" at 0x" in label for label in labels):  # object() reprs change every run
                labels = [f"{i}: {type(v).__name__}" for i, v in enumerate(values)]
            elif len(set(labels)) < len(labels):
                labels = [f"{i}: {label}" for i, label in enumerate(labels)]
            self.labels = labels

    def description(self):
        return "choices", describe(self.values)

    def example(self):
        return self.values[0]

    def suggest(self, trial, name):
        return self.values[self.labels.index(trial.suggest_categorical(name, self.labels))]


class _Distribution:
    """A scipy.stats frozen distribution, suggested as an Optuna float or int, or as a quantile."""

    def __init__(self, name, dist):
        self.dist = dist
        if not all(hasattr(dist, attr) for attr in ("ppf", "support")):
            raise ParameterError(
                f"param_distributions[{name!r}] must be a list or a scipy.stats frozen "
                f"distribution (with ppf and support); got {dist!r}, which only has rvs."
            )
        family = getattr(getattr(dist, "dist", None), "name", None)
        # Draws lie between these quantiles (an infinite bound or a NaN parameter shows there).
        with np.errstate(invalid="ignore", over="ignore"):
            quantiles = [float(dist.ppf(q)) for q in (_EPS, 0.5, 1.0 - _EPS)]
        if not all(map(math.isfinite, quantiles)):
            args = [
                *map(str, getattr(dist, "args", ())),
                *(f"{key}={value}" for key, value in getattr(dist, "kwds", {}).items()),
            ]
            raise ParameterError(
                f"param_distributions[{name!r}] must give finite values; got "
                f"{family or type(dist).__name__}({', '.join(args)}), whose quantiles {_EPS:g}, "
                f"0.5 and 1 - {_EPS:g} are {quantiles}."
            )
        self.discrete = isinstance(getattr(dist, "dist", None), rv_discrete)
        low, high = (float(bound) for bound in dist.support())
        self.low, self.high = low, high
        if family == "uniform" and math.isfinite(low) and math.isfinite(high):
            self.kind = "float"
        elif (
            family in ("loguniform", "reciprocal")
            and 0 < low < high < math.inf
            and math.isclose(float(dist.ppf(0.5)), math.sqrt(low * high), rel_tol=1e-9)
        ):
            self.kind = "log"
        elif family == "randint" and math.isfinite(low) and math.isfinite(high):
            self.kind = "int"
        else:
            self.kind = "quantile"

    def description(self):
        family = getattr(getattr(self.dist, "dist", None), "name", type(self.dist).__qualname__)
        args = getattr(self.dist, "args", ())
        return "distribution", family, describe(args), describe(getattr(self.dist, "kwds", {}))

    def example(self):
        return self._cast(self.dist.ppf(0.5))

    def suggest(self, trial, name):
        if self.kind == "float":
            return trial.suggest_float(name, self.low, self.high)
        if self.kind == "log":
            return trial.suggest_float(name, self.low, self.high, log=True)
        if self.kind == "int":
            return trial.suggest_int(name, int(self.low), int(self.high))
        quantile = trial.suggest_float(name, 0.0, 1.0)
        return self._cast(self.dist.ppf(min(max(quantile, _EPS), 1.0 - _EPS)))

    def _cast(self, value):
        value = float(value)
        return int(round(value)) if self.discrete else value
