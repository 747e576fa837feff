"""Is a model's uncertainty honest? Interval coverage, overall and binned in the uncertainty."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError

__all__ = ["binned_mean", "interval_coverage"]


def interval_coverage(
    prediction: npt.ArrayLike,
    truth: npt.ArrayLike,
    sigma: npt.ArrayLike,
    *,
    levels: Sequence[float] = (0.6827, 0.9545),
    sample_weight: npt.ArrayLike | None = None,
) -> dict[float, float]:
    """The fraction of events whose truth lies in the predicted central Gaussian interval.

    Parameters
    ----------
    prediction, truth
        Predicted and true values.
    sigma
        The predicted total uncertainty of each prediction (positive).
    levels
        Nominal probabilities of the central intervals (68.27% = ±1σ).
    sample_weight
        Event weights (unit when None).

    Returns
    -------
    dict
        Level → observed (weighted) coverage; an honest σ gives coverage = level.

    Notes
    -----
    For level :math:`p` the interval is :math:`\\hat y \\pm z_p \\sigma` with
    :math:`z_p = \\Phi^{-1}((1 + p)/2)`; the coverage is
    :math:`\\sum_i w_i [|y_i - \\hat y_i| \\le z_p \\sigma_i] / \\sum_i w_i`.
    """
    from scipy.special import ndtri  # scikit-learn's dependency; loaded when used

    p, y, s = (np.asarray(a, dtype=np.float64).ravel() for a in (prediction, truth, sigma))
    w = np.ones(len(p)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    if not len(p) == len(y) == len(s) == len(w) or not len(p):
        raise DataError(f"coverage: {len(p)} predictions, {len(y)} truths, {len(s)} sigmas, {len(w)} weights")
    if np.any(~(s > 0)):
        raise DataError("coverage: every predicted sigma must be positive")
    pull = np.abs(y - p) / s
    out = {}
    for level in levels:
        if not 0 < level < 1:
            raise DataError(f"coverage: a level is a probability in (0, 1), got {level}")
        z = float(ndtri(0.5 * (1.0 + level)))
        out[float(level)] = float(np.sum(w * (pull <= z)) / np.sum(w))
    return out


def binned_mean(
    x: npt.ArrayLike, values: npt.ArrayLike, *, bins: int = 10, quantiles: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The mean of ``values`` in bins of ``x`` (quantile bins by default): a profile.

    Returns
    -------
    tuple of numpy.ndarray
        Bin centres (the mean ``x`` of each bin) and the mean value in it; empty bins dropped.
    """
    a, v = np.asarray(x, dtype=np.float64).ravel(), np.asarray(values, dtype=np.float64).ravel()
    if len(a) != len(v) or not len(a):
        raise DataError(f"profile: {len(a)} x values for {len(v)} values")
    edges = np.quantile(a, np.linspace(0, 1, bins + 1)) if quantiles else np.linspace(a.min(), a.max(), bins + 1)
    index = np.clip(np.searchsorted(edges, a, side="right") - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    keep = counts > 0
    centres = np.bincount(index, weights=a, minlength=bins)[keep] / counts[keep]
    means = np.bincount(index, weights=v, minlength=bins)[keep] / counts[keep]
    return centres, means
