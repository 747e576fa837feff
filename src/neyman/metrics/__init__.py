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
binned
    The regression summary in bins of a variable.
uncertainty
    Bootstrap uncertainty of the AUC, TMVA's efficiency table and separation.
confusion
    Weighted confusion matrices and the score cut of a signal efficiency.
overtraining
    Weighted Kolmogorov–Smirnov test and TMVA's overtraining check.
significance
    Asimov and simple discovery significances and the optimal-cut scan.
calibration
    Reliability curve, Brier score and the likelihood-ratio check.
importance
    Permutation importance and weighted correlation matrices.
closure
    Effective sample size and normalised weighted histograms compared bin by bin.
variations
    Working points followed from nominal events to a generator or detector variation.
fidelity
    Generated against real events: 1-Wasserstein distance per feature, Fréchet distance.
coverage
    Coverage of predicted intervals, and profiles (an uncertainty against the score).
anomaly
    Anomaly scores on labelled events: SIC and ε_S at the Dark Machines working points.
decorrelation
    Sculpting of a variable by cuts on a tagger (1/JSD) and the distance correlation.
"""

from __future__ import annotations

from neyman.metrics.anomaly import AnomalySummary, anomaly_summary, sic_curve
from neyman.metrics.binned import binned_response
from neyman.metrics.calibration import (
    LikelihoodRatioCheck,
    ReliabilityCurve,
    brier_score,
    likelihood_ratio_check,
    reliability_curve,
)
from neyman.metrics.classification import (
    RocCurve,
    accuracy,
    background_rejection,
    binary_cross_entropy,
    bounded_rejection,
    multiclass_accuracy,
    multiclass_cross_entropy,
    multiclass_discriminant,
    rejection_limit,
    rejection_text,
    roc_auc,
    roc_curve,
    signal_efficiency_at,
)
from neyman.metrics.closure import (
    HistogramComparison,
    compare_histograms,
    comparison_edges,
    effective_sample_size,
)
from neyman.metrics.confusion import (
    ConfusionMatrix,
    confusion_matrix,
    multiclass_confusion,
    threshold_at_efficiency,
)
from neyman.metrics.coverage import binned_mean, interval_coverage
from neyman.metrics.decorrelation import (
    FrontierPoint,
    SculptingPoint,
    distance_correlation,
    jensen_shannon,
    sculpting,
    sculpting_frontier,
)
from neyman.metrics.fidelity import frechet_distance, wasserstein_distance
from neyman.metrics.importance import correlation_matrix, permutation_importance
from neyman.metrics.overtraining import kolmogorov_sf, ks_test, overtraining_check
from neyman.metrics.regression import RegressionSummary, regression_summary, weighted_quantile
from neyman.metrics.significance import (
    SignificanceScan,
    WorkingPoint,
    asimov_significance,
    s_over_sqrt_s_plus_b,
    significance_scan,
    simple_significance,
)
from neyman.metrics.uncertainty import auc_with_uncertainty, efficiency_table, fold_summary, separation
from neyman.metrics.variations import WorkingPointShift, cut_efficiency, working_point_shifts

__all__ = [
    "AnomalySummary",
    "ConfusionMatrix",
    "FrontierPoint",
    "HistogramComparison",
    "LikelihoodRatioCheck",
    "RegressionSummary",
    "ReliabilityCurve",
    "RocCurve",
    "SculptingPoint",
    "SignificanceScan",
    "WorkingPoint",
    "WorkingPointShift",
    "accuracy",
    "anomaly_summary",
    "asimov_significance",
    "auc_with_uncertainty",
    "background_rejection",
    "binary_cross_entropy",
    "binned_mean",
    "binned_response",
    "bounded_rejection",
    "brier_score",
    "compare_histograms",
    "comparison_edges",
    "confusion_matrix",
    "correlation_matrix",
    "cut_efficiency",
    "distance_correlation",
    "effective_sample_size",
    "efficiency_table",
    "fold_summary",
    "frechet_distance",
    "interval_coverage",
    "jensen_shannon",
    "kolmogorov_sf",
    "ks_test",
    "likelihood_ratio_check",
    "multiclass_accuracy",
    "multiclass_confusion",
    "multiclass_cross_entropy",
    "multiclass_discriminant",
    "overtraining_check",
    "permutation_importance",
    "regression_summary",
    "rejection_limit",
    "rejection_text",
    "reliability_curve",
    "roc_auc",
    "roc_curve",
    "s_over_sqrt_s_plus_b",
    "sculpting",
    "sculpting_frontier",
    "separation",
    "sic_curve",
    "signal_efficiency_at",
    "significance_scan",
    "simple_significance",
    "threshold_at_efficiency",
    "wasserstein_distance",
    "weighted_quantile",
    "working_point_shifts",
]
