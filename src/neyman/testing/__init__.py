"""Helpers for tests and tutorials: datasets with a known answer."""

from neyman.testing.synthetic import (
    TRUE_LOG_LR,
    gaussian_regression_dataset,
    likelihood_ratio_dataset,
    multiclass_dataset,
)

__all__ = [
    "TRUE_LOG_LR",
    "gaussian_regression_dataset",
    "likelihood_ratio_dataset",
    "multiclass_dataset",
]
