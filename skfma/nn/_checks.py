"""Argument checks shared by the torch modules (torch-free, so ``skfma.nn`` needs no sklearn)."""

from ..exceptions import ParameterError

__all__ = ["is_int", "check_int", "check_sizes", "check_dropout"]


def is_int(value):
    """Whether ``value`` is an int (a bool is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(name, value, *, minimum=1):
    """Return ``value`` if it is an int >= ``minimum``, else raise a ParameterError naming it."""
    if not is_int(value) or value < minimum:
        what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ParameterError(f"{name} must be {what}; got {value!r}.")
    return value


def check_sizes(name, values, *, allow_empty=False):
    """Validate a tuple (or list) of positive ints, such as layer widths or filter counts."""
    values = tuple(values) if isinstance(values, list | tuple) else values
    if (
        not isinstance(values, tuple)
        or (not values and not allow_empty)
        or not all(is_int(v) and v > 0 for v in values)
    ):
        raise ParameterError(f"{name} must be a tuple of positive ints; got {values!r}.")
    return values


def check_dropout(dropout):
    """Return a dropout probability in [0, 1) as a float, else raise a ParameterError."""
    if not (isinstance(dropout, int | float) and 0.0 <= dropout < 1.0):
        raise ParameterError(f"dropout must be a number in [0, 1); got {dropout!r}.")
    return float(dropout)
