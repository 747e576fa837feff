"""Regression bias and resolution in bins of a variable."""

from __future__ import annotations

import numpy.typing as npt
from matplotlib.axes import Axes

from neyman.plotting.style import ensure_axes, equal_length_arrays, headroom, plot_finite

__all__ = ["plot_binned_response"]


def plot_binned_response(
    centres: npt.ArrayLike,
    bias: npt.ArrayLike,
    resolution: npt.ArrayLike,
    *,
    xlabel: str,
    unit: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Plot the bias and the resolution of a regression per bin of a variable.

    Parameters
    ----------
    centres
        Centre of each bin of the binning variable, shape ``(n_bins,)``.
    bias
        Location of the residuals ``ŷ − y`` in each bin, e.g. their weighted median
        (:func:`neyman.metrics.binned_response`) or mean, shape ``(n_bins,)``.
    resolution
        Width of the residuals in each bin, e.g. half the central 68.27 % interval
        or the standard deviation, shape ``(n_bins,)``.
    xlabel
        The binning variable with its unit, e.g. ``"true jet pT [GeV]"``.
    unit
        Unit of the regressed quantity (e.g. ``"GeV"``), for the y-axis label.
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Both are in the units of the regressed quantity.  For Gaussian residuals
    ``r = ŷ − y ~ N(μ, σ²)`` the median is ``μ`` and the half-width of the central
    68.27 % interval is ``σ``, so the robust and the moment definitions agree.  An
    unbiased regression has its bias points on the dashed zero line.  Bins with a
    non-finite value are left out.
    """
    x, b, r = equal_length_arrays("centres, bias and resolution", centres, bias, resolution)
    ax = ensure_axes(ax)
    ax.axhline(0.0, color="0.5", ls="--", lw=1.0)
    plot_finite(ax, x, b, marker="o", ms=5, color="C0", label="bias")
    plot_finite(ax, x, r, marker="s", ms=5, color="C1", label="resolution")
    ax.set_xlabel(xlabel)
    suffix = f" [{unit}]" if unit else ""
    ax.set_ylabel(rf"bias, resolution of $\hat{{y}} - y${suffix}")
    headroom(ax, 0.3)
    ax.legend(frameon=False, loc="upper left", ncols=2)
    return ax
