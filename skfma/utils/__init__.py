"""Validation helpers shared by skfma's estimators and torch modules."""

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
]
