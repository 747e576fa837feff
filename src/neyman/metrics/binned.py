"""Regression quality in bins of a variable: bias, resolution and pulls versus ``pt``, ``eta``…

A regression that is good on average can still be biased at low ``pt`` or have a
resolution that grows with ``|eta|``; detector papers therefore quote each
summary as a function of the true value or of another variable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.inputs import check_length, float_array, positive_values, weights
from neyman.metrics.regression import ONE_SIGMA, weighted_quantile

__all__ = ["binned_response"]

_QUANTILES = np.array([(1.0 - ONE_SIGMA) / 2.0, 0.5, (1.0 + ONE_SIGMA) / 2.0])


def _edges(by: np.ndarray, bins: int | Sequence[float] | npt.NDArray[np.floating]) -> np.ndarray:
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        if bins < 1:
            raise DataError(f"bins must be a positive number of bins or a sequence of edges, got {bins!r}")
        if len(by) == 0:
            raise DataError("binned_response needs events to choose bin edges, got empty arrays")
        low, high = float(by.min()), float(by.max())
        if low == high:
            low, high = low - 0.5, high + 0.5
        return np.linspace(low, high, int(bins) + 1)
    edges = float_array(bins, "bins")
    if len(edges) < 2 or not (np.diff(edges) > 0).all():
        raise DataError(f"bin edges must be at least two strictly increasing numbers, got {edges.tolist()}")
    return edges


def _per_bin_sum(index: np.ndarray, values: np.ndarray, n_bins: int) -> np.ndarray:
    return np.bincount(index, weights=values, minlength=n_bins)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.full(len(numerator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def binned_response(
    predictions: npt.ArrayLike,
    targets: npt.ArrayLike,
    by: npt.ArrayLike,
    *,
    bins: int | Sequence[float] | npt.NDArray[np.floating],
    sample_weight: npt.ArrayLike | None = None,
    sigma: npt.ArrayLike | None = None,
) -> dict[str, np.ndarray]:
    """Bias, resolution, response and (with σ) pull width and coverage in bins of ``by``.

    Parameters
    ----------
    predictions
        Predicted values ``ŷ``, shape ``(n_events,)``.
    targets
        True values ``y``, shape ``(n_events,)``.
    by
        The variable to bin in (often ``targets`` itself), shape ``(n_events,)``.
    bins
        A number of equal-width bins between the smallest and largest ``by``, or the
        bin edges (strictly increasing).  Events outside the edges are left out.
    sample_weight
        Per-event weights of either sign; unit weights when None.
    sigma
        Predicted per-event uncertainty ``σ > 0``, shape ``(n_events,)``; adds the
        pull and coverage entries.

    Returns
    -------
    dict
        Arrays of shape ``(n_bins,)``: ``bin_low``, ``bin_high``, ``bin_centre``,
        ``count`` (events), ``weight`` (sum of weights), ``bias``, ``resolution``,
        ``response`` and, with ``sigma``, ``pull_mean``, ``pull_width``,
        ``coverage_68`` and ``coverage_95``.  Entries of a bin whose total weight
        is not positive are NaN.

    Notes
    -----
    Bins are left-closed, the last one also right-closed (as ``numpy.histogram``).
    In each bin, with residuals ``r_i = ŷ_i − y_i`` and ``Q`` the weighted quantile
    (:func:`~neyman.metrics.weighted_quantile`):

    - ``bias = Q_r(0.5)``, the weighted median residual;
    - ``resolution = [Q_r(0.8413) − Q_r(0.1587)] / 2``, half the central-68.27% width;
    - ``response = Σ w_i (ŷ_i / y_i) / Σ w_i`` over the events with ``y_i ≠ 0``;
    - pulls ``π_i = r_i / σ_i``: ``pull_mean`` and ``pull_width`` are their weighted
      mean and standard deviation ``√(Σ w_i (π_i − π̄)² / Σ w_i)``, and
      ``coverage_68 = Σ w_i 1[|π_i| < 1] / Σ w_i`` (``coverage_95`` with 1.96).

    As :func:`~neyman.metrics.regression_summary` in every bin.
    """
    pred = float_array(predictions, "predictions")
    n = len(pred)
    true = float_array(targets, "targets")
    variable = float_array(by, "by")
    for name, array in (("targets", true), ("by", variable)):
        check_length(array, name, n, "predictions")
    w = weights(sample_weight, n, reference="predictions")
    s = None if sigma is None else positive_values(sigma, "sigma", n)
    edges = _edges(variable, bins)
    n_bins = len(edges) - 1

    inside = (variable >= edges[0]) & (variable <= edges[-1])
    index = np.clip(np.searchsorted(edges, variable[inside], side="right") - 1, 0, n_bins - 1)
    residual = pred[inside] - true[inside]
    w_in = w[inside]
    count = np.bincount(index, minlength=n_bins)
    bin_weight = _per_bin_sum(index, w_in, n_bins)
    usable = bin_weight > 0

    # One sort groups the events of each bin; the loop runs over bins, not events.
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(n_bins + 1), side="left")
    sorted_residual, sorted_w = residual[order], w_in[order]
    low_q, median, high_q = (np.full(n_bins, np.nan) for _ in range(3))
    for k in np.flatnonzero(usable):
        part = slice(bounds[k], bounds[k + 1])
        try:
            low_q[k], median[k], high_q[k] = weighted_quantile(
                sorted_residual[part], _QUANTILES, sample_weight=sorted_w[part]
            )
        except DataError:
            # A total weight that is positive in one summation order and not in
            # another (cancelling negative weights): the bin stays NaN.
            continue

    true_in = true[inside]
    has_target = true_in != 0
    ratio = np.divide(pred[inside], true_in, out=np.zeros_like(true_in), where=has_target)
    w_target = np.where(has_target, w_in, 0.0)
    result = {
        "bin_low": edges[:-1].copy(),
        "bin_high": edges[1:].copy(),
        "bin_centre": 0.5 * (edges[:-1] + edges[1:]),
        "count": count.astype(np.int64),
        "weight": bin_weight,
        "bias": median,
        "resolution": (high_q - low_q) / 2.0,
        "response": _ratio(_per_bin_sum(index, w_target * ratio, n_bins), _per_bin_sum(index, w_target, n_bins)),
    }
    if s is not None:
        pulls = residual / s[inside]
        pull_mean = _ratio(_per_bin_sum(index, w_in * pulls, n_bins), bin_weight)
        centred = pulls - np.nan_to_num(pull_mean)[index]
        variance = _ratio(_per_bin_sum(index, w_in * centred**2, n_bins), bin_weight)
        result["pull_mean"] = pull_mean
        # Negative weights can make a weighted variance negative: NaN, as regression_summary.
        result["pull_width"] = np.sqrt(np.where(variance >= 0, variance, np.nan))
        result["coverage_68"] = _ratio(_per_bin_sum(index, w_in * (np.abs(pulls) < 1.0), n_bins), bin_weight)
        result["coverage_95"] = _ratio(_per_bin_sum(index, w_in * (np.abs(pulls) < 1.96), n_bins), bin_weight)
    return result
