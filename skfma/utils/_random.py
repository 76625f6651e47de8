"""Seeds for torch, drawn from scikit-learn's ``random_state`` parameters."""

import numpy as np
from sklearn.utils import check_random_state

from ..exceptions import ParameterError
from ._validation import is_int

__all__ = ["check_seed", "torch_seed"]


def check_seed(random_state):
    """Return ``random_state`` if scikit-learn takes it as a seed, else raise naming it.

    Raises
    ------
    ParameterError
        Unless ``random_state`` is None, an int from 0 to 2**32 - 1 or a
        ``numpy.random.RandomState``.
    """
    if random_state is None or isinstance(random_state, np.random.RandomState):
        return random_state
    if not is_int(random_state) or not 0 <= random_state < 2**32:
        raise ParameterError(
            "random_state must be None, an int from 0 to 2**32 - 1 or a "
            f"numpy.random.RandomState; got {random_state!r}."
        )
    return random_state


def torch_seed(random_state):
    """An int seed for ``torch.manual_seed``, drawn from ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        As scikit-learn takes it: an int gives the same seed every call, a
        ``RandomState`` advances, ``None`` draws from NumPy's global generator.

    Returns
    -------
    seed : int
        In ``[0, 2**31 - 1)``.
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
