"""Validation helpers shared by skfma's estimators."""

from ._validation import check_choice, check_paths, check_positive

__all__ = ["check_choice", "check_paths", "check_positive"]
