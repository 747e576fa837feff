"""Feature importance as horizontal bars, most important at the top."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import NullLocator

from neyman.exceptions import DataError
from neyman.plotting.style import ensure_axes

__all__ = ["plot_importance"]


def plot_importance(
    values: Mapping[str, tuple[float, float]],
    *,
    xlabel: str = "importance",
    ax: Axes | None = None,
) -> Axes:
    """Draw one bar per feature with its uncertainty, sorted by importance.

    Parameters
    ----------
    values
        Feature name → ``(importance, uncertainty)``, e.g. the mean and standard
        deviation of the drop of a metric over repeated permutations of that
        feature.  An uncertainty of 0 draws no error bar.
    xlabel
        What the importance measures, e.g. ``"AUC drop when shuffled"``.
    ax
        Axes to draw on; a new figure when None.  Give it a height of about
        0.35 inch per feature so the names stay readable.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Bars are sorted by decreasing importance from top to bottom; a negative
    importance (the metric improved when the feature was shuffled: the feature is
    useless, and the value is noise) is drawn to the left of the zero line.
    """
    if not values:
        raise DataError("no feature importance to plot: pass a mapping of feature → (value, uncertainty)")
    items = []
    for name, pair in values.items():
        try:
            mean, std = (float(v) for v in pair)
        except (TypeError, ValueError) as exc:
            raise DataError(f"importance of {name!r} must be a pair (value, uncertainty), got {pair!r}") from exc
        items.append((str(name), mean, std))
    items.sort(key=lambda item: -item[1] if np.isfinite(item[1]) else np.inf)
    names = [item[0] for item in items]
    means = np.array([item[1] for item in items])
    stds = np.array([item[2] for item in items])
    positions = np.arange(len(items))[::-1]

    ax = ensure_axes(ax)
    errors = np.where(np.isfinite(stds) & (stds > 0), stds, 0.0)
    ax.barh(
        positions,
        np.where(np.isfinite(means), means, 0.0),
        xerr=errors if errors.any() else None,
        color="C0",
        alpha=0.8,
        height=0.7,
        error_kw={"ecolor": "0.2", "capsize": 3, "elinewidth": 1.0},
    )
    ax.axvline(0.0, color="0.3", lw=0.8)
    ax.set_yticks(positions, names)
    ax.tick_params(axis="y", which="both", length=0)
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_ylim(-0.6, len(items) - 0.4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("feature")
    return ax
