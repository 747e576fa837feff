"""Weighted metrics of classifiers and regressions, in pure NumPy.

Every metric takes per-event ``sample_weight`` (negative weights included) and
documents its defining formula in its ``Notes``.

Modules
-------
classification
    ROC curve, AUC, background rejection, accuracy, cross-entropies and the
    multi-class discriminant.
regression
    Weighted quantiles and the bias / resolution / pull summary of a regression.
"""

from __future__ import annotations

from neyman.metrics.classification import (
    RocCurve,
    accuracy,
    background_rejection,
    binary_cross_entropy,
    multiclass_accuracy,
    multiclass_cross_entropy,
    multiclass_discriminant,
    roc_auc,
    roc_curve,
    signal_efficiency_at,
)
from neyman.metrics.regression import RegressionSummary, regression_summary, weighted_quantile

__all__ = [
    "RegressionSummary",
    "RocCurve",
    "accuracy",
    "background_rejection",
    "binary_cross_entropy",
    "multiclass_accuracy",
    "multiclass_cross_entropy",
    "multiclass_discriminant",
    "regression_summary",
    "roc_auc",
    "roc_curve",
    "signal_efficiency_at",
    "weighted_quantile",
]
