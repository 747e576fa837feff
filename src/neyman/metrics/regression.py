"""Weighted summaries of regression quality: bias, resolution, pulls and coverage.

The resolution is quoted the way detector papers do, as half the width of the
central 68.27% interval of the residuals, which is the Gaussian σ for Gaussian
residuals but is not inflated by the non-Gaussian tails that a root-mean-square
is dominated by.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.inputs import check_length, float_array, positive_values, total_weight, weights

__all__ = ["ONE_SIGMA", "RegressionSummary", "regression_summary", "weighted_quantile"]

#: Probability content of ±1σ of a Gaussian, erf(1/√2) ≈ 0.682689.
ONE_SIGMA = math.erf(1.0 / math.sqrt(2.0))
_CENTRAL = ((1.0 - ONE_SIGMA) / 2.0, (1.0 + ONE_SIGMA) / 2.0)


@overload
def weighted_quantile(
    values: npt.ArrayLike, quantiles: float, *, sample_weight: npt.ArrayLike | None = None
) -> float: ...


@overload
def weighted_quantile(
    values: npt.ArrayLike,
    quantiles: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> np.ndarray: ...


def weighted_quantile(
    values: npt.ArrayLike,
    quantiles: float | npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> float | np.ndarray:
    """Quantiles of a weighted sample (inverse of its empirical CDF).

    Parameters
    ----------
    values
        The sample, shape ``(n_events,)``.
    quantiles
        Probabilities in ``[0, 1]``, a scalar or an array of any shape.
    sample_weight
        Per-event weights; unit weights when None.  Their sum must be positive;
        zero-weight events are ignored.

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar ``quantiles``, else an array of the same shape.

    Notes
    -----
    With the values sorted, ``x_(1) ≤ … ≤ x_(n)``, and cumulative weights
    ``W_j = Σ_{i≤j} w_(i)``, the ``q``-quantile is ``x_(j)`` for the smallest ``j`` with
    ``W_j ≥ q W_n``: the inverse of the weighted empirical CDF.  With unit weights this
    is ``numpy.quantile(values, q, method="inverted_cdf")``.  With negative weights
    ``W_j`` need not increase; the first ``j`` that reaches ``q W_n`` is taken.
    """
    x = float_array(values, "values")
    w = weights(sample_weight, len(x), reference="values")
    q = np.asarray(quantiles, dtype=np.float64)
    if np.isnan(q).any() or (q < 0).any() or (q > 1).any():
        raise DataError(f"quantiles must lie in [0, 1], got {quantiles!r}")
    total_weight(w)
    nonzero = w != 0
    x, w = x[nonzero], w[nonzero]
    order = np.argsort(x, kind="stable")
    cumulative = np.cumsum(w[order])
    total = cumulative[-1]
    # The running maximum is sorted, so searchsorted finds the first j with
    # W_j >= q W_n even when negative weights make W_j go down somewhere.
    reach = np.maximum.accumulate(cumulative)
    index = np.searchsorted(reach, q * total, side="left")
    # q = 1 with rounding in the cumulative sum could point one past the end.
    index = np.minimum(index, len(x) - 1)
    result = x[order][index]
    if np.ndim(quantiles) == 0:
        return float(result)
    return np.asarray(result)


@dataclass(frozen=True)
class RegressionSummary:
    """Headline numbers of a regression; pull fields only when σ was predicted.

    Attributes
    ----------
    mse
        Weighted mean squared residual.
    rmse
        ``√mse``.
    bias
        Weighted mean residual.
    median_bias
        Weighted median residual.
    resolution
        Half the width of the central 68.27% interval of the residuals.
    pull_mean
        Weighted mean pull.
    pull_width
        Weighted standard deviation of the pulls (1 for calibrated σ).
    pull_width_robust
        Half the width of the central 68.27% interval of the pulls.
    coverage_68
        Weighted fraction of events with ``|pull| < 1`` (0.6827 for calibrated σ).
    coverage_95
        Weighted fraction of events with ``|pull| < 1.96`` (0.95 for calibrated σ).
    sigma_ratio_median
        Weighted median of ``σ_pred / σ_true``, when the true σ is known.
    """

    mse: float
    rmse: float
    bias: float
    median_bias: float
    resolution: float
    pull_mean: float | None = None
    pull_width: float | None = None
    pull_width_robust: float | None = None
    coverage_68: float | None = None
    coverage_95: float | None = None
    sigma_ratio_median: float | None = None

    def as_dict(self) -> dict[str, float]:
        """The fields that are set, as a ``name → value`` dictionary."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def _central_half_width(values: np.ndarray, w: np.ndarray) -> float:
    low, high = weighted_quantile(values, np.array(_CENTRAL), sample_weight=w)
    return float(high - low) / 2.0


def regression_summary(
    predictions: npt.ArrayLike,
    targets: npt.ArrayLike,
    *,
    sigma: npt.ArrayLike | None = None,
    sample_weight: npt.ArrayLike | None = None,
    true_sigma: npt.ArrayLike | None = None,
) -> RegressionSummary:
    """Bias, resolution and, with a predicted uncertainty, pulls and coverage.

    Parameters
    ----------
    predictions
        Predicted values ``ŷ``, shape ``(n_events,)``.
    targets
        True values ``y``, shape ``(n_events,)``.
    sigma
        Predicted per-event uncertainty ``σ > 0`` (e.g. from a Gaussian-likelihood
        regression), shape ``(n_events,)``.
    sample_weight
        Per-event weights; unit weights when None.  Their sum must be positive.
    true_sigma
        The true per-event width of the target distribution, when known (synthetic
        data); needs ``sigma``.

    Returns
    -------
    RegressionSummary

    Notes
    -----
    With residuals ``r_i = ŷ_i − y_i``, weights ``w_i`` and ``W = Σ w_i``:

    - ``mse = Σ w_i r_i² / W``, ``rmse = √mse``, ``bias = Σ w_i r_i / W``;
    - ``median_bias = Q(0.5)`` and ``resolution = [Q(0.8413) − Q(0.1587)] / 2``, with
      ``Q`` the weighted quantile of ``r`` (:func:`weighted_quantile`);
    - pulls ``π_i = r_i / σ_i``: ``pull_mean`` and ``pull_width`` are their weighted
      mean and standard deviation (``√(Σ w_i (π_i − π̄)² / W)``), ``pull_width_robust``
      the central-68.27% half-width, ``coverage_68 = Σ w_i 1[|π_i| < 1] / W`` and
      ``coverage_95`` the same with 1.96;
    - ``sigma_ratio_median`` is the weighted median of ``σ_i / σ_true,i``.

    For a calibrated Gaussian prediction the pulls are unit normal: mean 0, widths 1,
    coverages 0.6827 and 0.95.
    """
    pred = float_array(predictions, "predictions")
    n = len(pred)
    true = float_array(targets, "targets")
    check_length(true, "targets", n, "predictions")
    w = weights(sample_weight, n, reference="predictions")
    total = total_weight(w)
    residual = pred - true
    mse = float(np.sum(w * residual**2) / total)
    if true_sigma is not None and sigma is None:
        raise DataError("true_sigma is only used to judge a predicted sigma; pass sigma as well")
    pull_fields: dict[str, float] = {}
    if sigma is not None:
        s = positive_values(sigma, "sigma", n)
        pulls = residual / s
        pull_mean = float(np.sum(w * pulls) / total)
        variance = float(np.sum(w * (pulls - pull_mean) ** 2) / total)
        pull_fields = {
            "pull_mean": pull_mean,
            # Negative weights can make a weighted variance negative: report NaN.
            "pull_width": math.sqrt(variance) if variance >= 0 else math.nan,
            "pull_width_robust": _central_half_width(pulls, w),
            "coverage_68": float(np.sum(w[np.abs(pulls) < 1.0]) / total),
            "coverage_95": float(np.sum(w[np.abs(pulls) < 1.96]) / total),
        }
        if true_sigma is not None:
            ratio = s / positive_values(true_sigma, "true_sigma", n)
            pull_fields["sigma_ratio_median"] = weighted_quantile(ratio, 0.5, sample_weight=w)
    return RegressionSummary(
        mse=mse,
        rmse=math.sqrt(mse) if mse >= 0 else math.nan,
        bias=float(np.sum(w * residual) / total),
        median_bias=weighted_quantile(residual, 0.5, sample_weight=w),
        resolution=_central_half_width(residual, w),
        **pull_fields,
    )
