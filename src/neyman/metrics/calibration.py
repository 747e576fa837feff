"""Is the classifier output a probability, and is it the likelihood ratio?

A classifier trained with a cross-entropy loss on classes of prior odds
``π = N_S / N_B`` estimates ``f(x) = p(S | x)``, so ``f / (1 − f) = π · p_S(x)/p_B(x)``.
The reliability curve checks the first statement on data; the likelihood-ratio
check compares the second with the true ratio, known for synthetic samples.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.importance import correlation_matrix
from neyman.metrics.inputs import (
    binary_labels,
    check_length,
    float_array,
    integer_at_least,
    probability_array,
    total_weight,
    weights,
)

__all__ = ["LikelihoodRatioCheck", "ReliabilityCurve", "brier_score", "likelihood_ratio_check", "reliability_curve"]

_EPS = float(np.finfo(np.float64).eps)


class ReliabilityCurve(NamedTuple):
    """Mean predicted probability against observed signal fraction, per probability bin.

    Attributes
    ----------
    mean_predicted
        Weighted mean probability of the events in each bin, shape ``(n_bins,)``.
    observed_fraction
        Weighted fraction of signal events in each bin.
    bin_weight
        Sum of the weights of the events in each bin (0 for an empty bin, whose
        other two entries are NaN).
    """

    mean_predicted: np.ndarray
    observed_fraction: np.ndarray
    bin_weight: np.ndarray


class LikelihoodRatioCheck(NamedTuple):
    """The classifier's log likelihood ratio against the true one, binned in the true one.

    Attributes
    ----------
    bin_centres
        Centres of the bins of the true log ratio, shape ``(n_bins,)``.
    mean_estimate
        Weighted mean of the classifier's estimate in each bin (NaN if empty).
    bin_weight
        Sum of the weights of the events in each bin.
    correlation
        Weighted Pearson correlation of estimate and truth over all events.
    """

    bin_centres: np.ndarray
    mean_estimate: np.ndarray
    bin_weight: np.ndarray
    correlation: float


def _binned_means(
    bin_index: np.ndarray, values: np.ndarray, w: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of ``values`` per bin (NaN where the bin weight is 0) and the bin weights."""
    bin_weight = np.bincount(bin_index, weights=w, minlength=n_bins)
    sums = np.bincount(bin_index, weights=w * values, minlength=n_bins)
    filled = bin_weight != 0
    means = np.full(n_bins, np.nan)
    means[filled] = sums[filled] / bin_weight[filled]
    return means, bin_weight


def reliability_curve(
    probabilities: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    n_bins: int = 10,
) -> ReliabilityCurve:
    """Weighted reliability (calibration) curve of a binary classifier.

    Parameters
    ----------
    probabilities
        Predicted probability of signal, in ``[0, 1]``, shape ``(n_events,)``.
    labels
        1 (or True) for signal, 0 (or False) for background, shape ``(n_events,)``.
    sample_weight
        Per-event weights of either sign; unit weights when None.
    n_bins
        Number of equal-width probability bins on ``[0, 1]``.

    Returns
    -------
    ReliabilityCurve
        ``(mean_predicted, observed_fraction, bin_weight)``, each of shape
        ``(n_bins,)``; all bins are returned, empty ones with NaN.

    Notes
    -----
    Bin ``k`` holds the events with ``p ∈ (k/K, (k+1)/K]`` (the first bin also
    ``p = 0``).  With ``W_k = Σ_{i ∈ k} w_i``: ``mean_predicted_k = Σ_{i ∈ k} w_i p_i / W_k``
    and ``observed_fraction_k = Σ_{i ∈ k} w_i y_i / W_k``.  A calibrated classifier
    has ``observed_fraction ≈ mean_predicted``.  For unit weights the non-empty bins
    equal ``sklearn.calibration.calibration_curve(labels, probabilities,
    n_bins=n_bins)``.
    """
    p = probability_array(probabilities)
    y = binary_labels(labels, len(p), reference="probabilities")
    w = weights(sample_weight, len(p), reference="probabilities")
    k = integer_at_least(n_bins, "n_bins", 1)
    edges = np.linspace(0.0, 1.0, k + 1)
    # Right-closed bins, as scikit-learn: p on an inner edge goes to the lower bin.
    bin_index = np.searchsorted(edges[1:-1], p, side="left")
    mean_predicted, bin_weight = _binned_means(bin_index, p, w, k)
    observed, _ = _binned_means(bin_index, y.astype(np.float64), w, k)
    return ReliabilityCurve(mean_predicted, observed, bin_weight)


def brier_score(
    probabilities: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> float:
    """Weighted Brier score: the mean squared difference of probability and label.

    Parameters
    ----------
    probabilities
        Predicted probability of signal, in ``[0, 1]``, shape ``(n_events,)``.
    labels
        1 (or True) for signal, 0 (or False) for background, shape ``(n_events,)``.
    sample_weight
        Per-event weights; unit weights when None.  Their sum must be positive.

    Returns
    -------
    float
        0 for perfect predictions, 0.25 for always predicting 0.5.

    Notes
    -----
    ``BS = Σ_i w_i (p_i − y_i)² / Σ_i w_i``; equal to
    ``sklearn.metrics.brier_score_loss`` with the same ``sample_weight``.
    """
    p = probability_array(probabilities)
    y = binary_labels(labels, len(p), reference="probabilities")
    w = weights(sample_weight, len(p), reference="probabilities")
    total = total_weight(w)
    return float(np.sum(w * (p - y) ** 2) / total)


def likelihood_ratio_check(
    scores: npt.ArrayLike,
    true_log_ratio: npt.ArrayLike,
    *,
    prior_ratio: float = 1.0,
    n_bins: int = 20,
    sample_weight: npt.ArrayLike | None = None,
    value_range: tuple[float, float] | None = None,
) -> LikelihoodRatioCheck:
    """Compare the likelihood ratio a classifier implies with the true one.

    Parameters
    ----------
    scores
        Classifier output ``f ∈ [0, 1]`` (probability of signal), shape ``(n_events,)``.
    true_log_ratio
        The true ``log p_S(x)/p_B(x)`` of each event, shape ``(n_events,)``; e.g. the
        ``true_log_lr`` column of :mod:`neyman.testing.synthetic`.
    prior_ratio
        The signal-to-background ratio of the (weighted) training sample, ``π > 0``.
    n_bins
        Number of equal-width bins of the true log ratio.
    sample_weight
        Per-event weights; unit weights when None.  Their sum must be positive.
    value_range
        ``(low, high)`` of the bins; the smallest and largest true log ratio when
        None.  Events outside are left out of the bins (not of the correlation).

    Returns
    -------
    LikelihoodRatioCheck
        ``(bin_centres, mean_estimate, bin_weight, correlation)``.

    Notes
    -----
    The classifier's estimate of the log likelihood ratio is

    ``ℓ̂ = log(f / (1 − f)) − log π``,

    with ``f`` clipped to ``[ε, 1 − ε]`` (ε the float64 machine epsilon).  An optimal,
    calibrated classifier has ``ℓ̂ = ℓ``: ``mean_estimate`` follows the diagonal of
    ``bin_centres`` and the correlation is 1.  The correlation is the weighted
    Pearson coefficient (:func:`~neyman.metrics.correlation_matrix`) of ``ℓ̂`` and ``ℓ``.
    """
    f = float_array(scores, "scores")
    n = len(f)
    if f.size and (f.min() < 0.0 or f.max() > 1.0):
        raise DataError(
            f"scores must be probabilities in [0, 1], found values in [{f.min():g}, {f.max():g}]; "
            "for a logit output use the sigmoid of it"
        )
    truth = float_array(true_log_ratio, "true_log_ratio")
    check_length(truth, "true_log_ratio", n, "scores")
    w = weights(sample_weight, n)
    total_weight(w)
    prior = float(prior_ratio)
    if not (np.isfinite(prior) and prior > 0):
        raise DataError(f"prior_ratio must be positive and finite, got {prior_ratio!r}")
    k = integer_at_least(n_bins, "n_bins", 1)
    f = np.clip(f, _EPS, 1.0 - _EPS)
    estimate = np.log(f) - np.log1p(-f) - np.log(prior)
    if value_range is None:
        low, high = float(truth.min()), float(truth.max())
    else:
        low, high = float(value_range[0]), float(value_range[1])
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        if value_range is not None:
            raise DataError(f"value_range must be finite with low < high, got {value_range!r}")
        low, high = low - 0.5, high + 0.5  # all true ratios equal: one centred bin range
    edges = np.linspace(low, high, k + 1)
    inside = (truth >= low) & (truth <= high)
    # Left-closed bins with the last one closed on the right, as numpy.histogram.
    bin_index = np.clip(np.searchsorted(edges, truth[inside], side="right") - 1, 0, k - 1)
    mean_estimate, bin_weight = _binned_means(bin_index, estimate[inside], w[inside], k)
    correlation = float(correlation_matrix(np.column_stack([estimate, truth]), sample_weight=w)[0, 1])
    return LikelihoodRatioCheck(0.5 * (edges[1:] + edges[:-1]), mean_estimate, bin_weight, correlation)
