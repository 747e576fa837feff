"""Reliability diagram: the observed signal fraction against the predicted probability."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes

from neyman.plotting.style import ensure_axes, equal_length_arrays, plot_finite, unit_square

__all__ = ["plot_reliability"]


def plot_reliability(
    mean_predicted: npt.ArrayLike,
    observed: npt.ArrayLike,
    *,
    label: str = "classifier",
    ax: Axes | None = None,
) -> Axes:
    """Plot a reliability (calibration) curve with the diagonal of perfect calibration.

    Parameters
    ----------
    mean_predicted
        Weighted mean predicted probability of signal in each probability bin,
        shape ``(n_bins,)``; NaN for an empty bin.
    observed
        Weighted fraction of signal events in the same bins, shape ``(n_bins,)``.
    label
        Legend label of the curve.
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    In bin ``k`` with ``W_k = Σ_{i ∈ k} w_i``, the point is
    ``(Σ_{i ∈ k} w_i p_i / W_k, Σ_{i ∈ k} w_i y_i / W_k)``
    (:func:`neyman.metrics.reliability_curve`).  A calibrated classifier lies on the
    diagonal; points below it are over-confident in signal.  Empty bins (NaN) are
    left out.
    """
    x, y = equal_length_arrays("mean_predicted and observed", mean_predicted, observed)
    ax = ensure_axes(ax)
    unit_square(ax, "perfectly calibrated")
    plot_finite(ax, x, y, marker="o", ms=5, color="C0", label=label)
    ax.set_xlabel("mean predicted probability of signal")
    ax.set_ylabel("observed fraction of signal")
    ax.legend(frameon=False, loc="upper left")
    return ax


def plot_likelihood_ratio(
    true_log_ratio: npt.ArrayLike,
    estimated_log_ratio: npt.ArrayLike,
    *,
    label: str = "classifier",
    ax: Axes | None = None,
) -> Axes:
    """Plot the log likelihood ratio a classifier implies against the true one.

    Parameters
    ----------
    true_log_ratio
        Bin centres in the true ``log p_S(x)/p_B(x)``, shape ``(n_bins,)``.
    estimated_log_ratio
        Weighted mean of the classifier's ``log f/(1-f)`` (prior-corrected) in the bins.
    label
        Legend label.
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    A classifier trained with the cross-entropy on balanced classes estimates
    ``f/(1-f) = p_S/p_B`` (:mod:`neyman.tasks`), so its points lie on the diagonal
    where it has learned the likelihood ratio (:func:`neyman.metrics.likelihood_ratio_check`).
    """
    x, y = equal_length_arrays("the two ratios", true_log_ratio, estimated_log_ratio)
    shown = np.isfinite(x) & np.isfinite(y)
    ax = ensure_axes(ax)
    lo, hi = float(np.min(x[shown])), float(np.max(x[shown]))
    ax.plot([lo, hi], [lo, hi], color="0.5", ls="--", label="true likelihood ratio")
    plot_finite(ax, x, y, marker="o", ms=5, color="C0", label=label)
    ax.set_xlabel(r"true $\log\, p_S(x)/p_B(x)$")
    ax.set_ylabel(r"classifier $\log\, f/(1-f)$")
    ax.legend(loc="upper left")
    return ax
