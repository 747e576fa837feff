"""Helpers for tests and tutorials: datasets with a known answer."""

from neyman.testing.files import EXTENSIONS, write_labelled_file, write_signal_background
from neyman.testing.synthetic import (
    TRUE_LOG_LR,
    gaussian_regression_dataset,
    likelihood_ratio_dataset,
    mass_sculpting_dataset,
    multiclass_dataset,
    resonance_search_dataset,
    signed_weight_dataset,
)

__all__ = [
    "EXTENSIONS",
    "TRUE_LOG_LR",
    "gaussian_regression_dataset",
    "likelihood_ratio_dataset",
    "mass_sculpting_dataset",
    "multiclass_dataset",
    "resonance_search_dataset",
    "signed_weight_dataset",
    "write_labelled_file",
    "write_signal_background",
]
