"""Validation helpers shared by skfma's estimators and torch modules (NumPy only).

``skfma.utils._random`` (seeds for torch from ``random_state``) and
``skfma.utils._fingerprint`` (what a step computes, for cache and result keys) need
scikit-learn and are imported from there, so that :mod:`skfma.nn` stays free of it.
"""

from ._files import files_digest, write_atomically
from ._validation import (
    SAMPLE_RATES,
    check_array_like,
    check_bool,
    check_choice,
    check_dropout,
    check_frequency,
    check_int,
    check_mel_range,
    check_n_jobs,
    check_paths,
    check_positive,
    check_sample_rate,
    check_sizes,
    check_top_db,
    ensure_writable_folder,
    expand_path,
    is_finite_number,
    is_int,
    names_its_errors,
    validate_arguments,
    value_check,
)

__all__ = [
    "SAMPLE_RATES",
    "check_array_like",
    "check_bool",
    "check_choice",
    "check_dropout",
    "check_frequency",
    "check_int",
    "check_mel_range",
    "check_n_jobs",
    "check_paths",
    "check_positive",
    "check_sample_rate",
    "check_sizes",
    "check_top_db",
    "ensure_writable_folder",
    "expand_path",
    "files_digest",
    "is_finite_number",
    "is_int",
    "names_its_errors",
    "validate_arguments",
    "value_check",
    "write_atomically",
]
