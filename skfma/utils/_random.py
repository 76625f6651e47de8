"""Seeds for torch, drawn from scikit-learn's ``random_state`` parameters, and seeded blocks."""

import contextlib

import numpy as np
import torch
from sklearn.utils import check_random_state

from ..exceptions import ParameterError
from ._validation import is_int

__all__ = ["check_seed", "seeded_generators", "torch_seed"]


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


@contextlib.contextmanager
def seeded_generators(seed, cuda_devices=()):
    """A block whose torch generators start from ``seed``, the caller's restored after it.

    ``torch.manual_seed`` seeds the CPU generator and every GPU's, while
    ``torch.random.fork_rng`` restores only those it is given: seeding
    inside a fork of the CPU alone would leave the GPUs' generators reseeded
    for the rest of the process. This forks and seeds the same generators.

    Parameters
    ----------
    seed : int or None
        None: the generators are forked, not seeded (the block may restore
        saved states itself).
    cuda_devices : sequence of int, default=()
        Indices of the GPUs whose generators the block uses.
    """
    cuda_devices = list(cuda_devices)
    with torch.random.fork_rng(devices=cuda_devices):
        if seed is not None:
            torch.default_generator.manual_seed(seed)
            for index in cuda_devices:
                torch.cuda.default_generators[index].manual_seed(seed)
        yield
