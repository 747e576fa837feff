"""Regression figures: the pull distribution and the response (predicted versus true)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes

from neyman.exceptions import DataError
from neyman.plotting.style import colorbar, ensure_axes

__all__ = ["plot_pulls", "plot_response"]


def _finite_1d(values: npt.ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise DataError(f"{name} must be 1-dimensional, got shape {array.shape}")
    return array


def _weights(sample_weight: npt.ArrayLike | None, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = _finite_1d(sample_weight, "sample_weight")
    if len(w) != n:
        raise DataError(f"sample_weight has {len(w)} entries but the data has {n}")
    return w


def _with_unit(text: str, unit: str | None) -> str:
    return f"{text} [{unit}]" if unit else text


def plot_pulls(
    pulls: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    bins: int = 50,
    limits: tuple[float, float] = (-5.0, 5.0),
    ax: Axes | None = None,
) -> Axes:
    """Weighted pull distribution with the unit Gaussian it should follow.

    Parameters
    ----------
    pulls
        ``(ŷ − y)/σ`` per event, shape ``(n_events,)``.
    sample_weight
        Per-event weights; unit weights when None.
    bins
        Number of bins within ``limits``.
    limits
        The range drawn.
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The histogram is a density normalised to all finite pulls, including those
    outside ``limits``: ``h_b = Σ_{i ∈ b} w_i / (Δ_b Σ_i w_i)``, directly comparable
    to ``φ(x) = exp(−x²/2)/√(2π)``.  The legend gives the weighted mean and
    standard deviation of the pulls.
    """
    p = _finite_1d(pulls, "pulls")
    w = _weights(sample_weight, len(p))
    keep = np.isfinite(p) & np.isfinite(w)
    p, w = p[keep], w[keep]
    total = float(w.sum())
    if not total > 0:
        raise DataError(f"the pulls have a total weight of {total:g}; nothing to normalise to")
    edges = np.linspace(limits[0], limits[1], bins + 1)
    counts, _ = np.histogram(p, bins=edges, weights=w)
    density = counts / (total * np.diff(edges))
    mean = float(np.sum(w * p) / total)
    variance = float(np.sum(w * (p - mean) ** 2) / total)
    width = math.sqrt(variance) if variance >= 0 else math.nan
    ax = ensure_axes(ax)
    ax.stairs(density, edges, fill=True, alpha=0.4, color="C0")
    ax.stairs(density, edges, color="C0", label=f"pulls (mean {mean:.3f}, width {width:.3f})")
    x = np.linspace(limits[0], limits[1], 400)
    ax.plot(x, np.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi), color="C3", label="unit Gaussian")
    ax.set_xlim(*limits)
    ax.set_xlabel(r"pull $(\hat{y} - y)/\sigma$")
    ax.set_ylabel("probability density")
    ax.legend(frameon=False)
    return ax


def plot_response(
    predictions: npt.ArrayLike,
    targets: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    bins: int = 50,
    quantity: str = "target",
    unit: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """2-D histogram of predicted against true values, with the mean response.

    Parameters
    ----------
    predictions
        Predicted values ``ŷ``, shape ``(n_events,)``.
    targets
        True values ``y``, shape ``(n_events,)``.
    sample_weight
        Per-event weights; unit weights when None.
    bins
        Number of bins per axis, over the common range of both.
    quantity
        What is regressed, for the axis labels (e.g. ``"jet mass"``).
    unit
        Its unit (e.g. ``"GeV"``), appended to the axis labels in brackets.
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Cell colour is ``Σ w_i`` of the events in the cell (empty cells blank).  Points
    show the weighted mean prediction in each bin of the true value,
    ``⟨ŷ⟩_b = Σ_{i ∈ b} w_i ŷ_i / Σ_{i ∈ b} w_i``; a perfect regression lies on the
    dashed diagonal ``ŷ = y``.
    """
    pred = _finite_1d(predictions, "predictions")
    true = _finite_1d(targets, "targets")
    if len(true) != len(pred):
        raise DataError(f"targets has {len(true)} entries but predictions has {len(pred)}")
    w = _weights(sample_weight, len(pred))
    keep = np.isfinite(pred) & np.isfinite(true) & np.isfinite(w)
    pred, true, w = pred[keep], true[keep], w[keep]
    if len(pred) == 0:
        raise DataError("no finite (prediction, target) pairs to plot")
    low = float(min(pred.min(), true.min()))
    high = float(max(pred.max(), true.max()))
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    counts, _, _ = np.histogram2d(true, pred, bins=[edges, edges], weights=w)
    ax = ensure_axes(ax)
    mesh = ax.pcolormesh(edges, edges, np.ma.masked_equal(counts.T, 0.0), cmap="viridis")
    colorbar(ax, mesh, label="events")

    column = np.clip(np.searchsorted(edges, true, side="right") - 1, 0, bins - 1)
    sum_w = np.bincount(column, weights=w, minlength=bins)
    sum_wy = np.bincount(column, weights=w * pred, minlength=bins)
    filled = sum_w > 0
    centres = (edges[1:] + edges[:-1]) / 2
    ax.plot(
        centres[filled],
        sum_wy[filled] / sum_w[filled],
        "o",
        ms=3,
        color="C3",
        label="mean prediction",
    )
    ax.plot([low, high], [low, high], color="0.3", ls="--", label=r"$\hat{y} = y$")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel(_with_unit(f"true {quantity}", unit))
    ax.set_ylabel(_with_unit(f"predicted {quantity}", unit))
    ax.legend(frameon=False, loc="upper left")
    return ax
