"""Preprocessing: event selections, fitted feature transforms, missing values, weights.

Module map::

    selection   cut strings such as "pt > 20 and abs(eta) < 2.5", parsed safely (never eval)
    scaling     fitted feature transforms (scikit-learn contract, JSON state)
    pipeline    Preprocessor: ordered transforms over named features; build_preprocessor
    missing     NaN / ±inf: report every offending feature, or fill; markers such as -999
    weighting   event weights, class balancing with negative weights, weight checks
    splitting   deterministic train/validation/test splits and k-fold assignment
"""

from __future__ import annotations

from neyman.preprocessing.missing import check_finite, dependent_features, marker_values
from neyman.preprocessing.pipeline import Preprocessor, build_preprocessor
from neyman.preprocessing.scaling import (
    TRANSFORMS,
    Clip,
    GaussianTransform,
    LogTransform,
    MinMaxScaler,
    NotFittedError,
    Residualize,
    StandardScaler,
    Transform,
    transform_from_json,
)
from neyman.preprocessing.selection import (
    SELECTION_FUNCTIONS,
    Selection,
    apply_selection,
    cut_flow,
    parse_selection,
    selection_mask,
)
from neyman.preprocessing.splitting import (
    TEST,
    TRAIN,
    VAL,
    assign_folds,
    assign_splits,
    check_split_classes,
    event_uniform,
    hash_splits,
    split_train_val,
)
from neyman.preprocessing.weighting import (
    balance_classes,
    bootstrap_counts,
    check_weights,
    event_weights,
    planing_weights,
    unit_mean_weights,
)

__all__ = [
    "SELECTION_FUNCTIONS",
    "TEST",
    "TRAIN",
    "TRANSFORMS",
    "VAL",
    "Clip",
    "GaussianTransform",
    "LogTransform",
    "MinMaxScaler",
    "NotFittedError",
    "Preprocessor",
    "Residualize",
    "Selection",
    "StandardScaler",
    "Transform",
    "apply_selection",
    "assign_folds",
    "assign_splits",
    "balance_classes",
    "bootstrap_counts",
    "build_preprocessor",
    "check_finite",
    "check_split_classes",
    "check_weights",
    "cut_flow",
    "dependent_features",
    "event_uniform",
    "event_weights",
    "hash_splits",
    "marker_values",
    "parse_selection",
    "planing_weights",
    "selection_mask",
    "split_train_val",
    "transform_from_json",
    "unit_mean_weights",
]
