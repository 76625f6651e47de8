"""Validation helpers shared by skfma's estimators and torch modules, and torch seeds."""

from ._random import torch_seed
from ._validation import (
    check_choice,
    check_dropout,
    check_int,
    check_paths,
    check_positive,
    check_sizes,
    check_top_db,
    is_int,
)

__all__ = [
    "check_choice",
    "check_dropout",
    "check_int",
    "check_paths",
    "check_positive",
    "check_sizes",
    "check_top_db",
    "is_int",
    "torch_seed",
]
