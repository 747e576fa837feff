"""Input variables: per-class distributions of every feature and their correlations."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from neyman.exceptions import DataError
from neyman.plotting.style import class_name, colorbar, ensure_axes, label_cells, matrix_ticks, square_matrix

__all__ = ["plot_correlation", "plot_feature_distributions"]

_MAX_COLUMNS = 4
_BINS = 40
# Quantiles of the pooled sample that bound the histogram range, so that a few
# far outliers do not squeeze the bulk of a distribution into one bin.
_RANGE_QUANTILES = (0.005, 0.995)
_MAX_DISCRETE_VALUES = 20


def _edges(values: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return np.linspace(0.0, 1.0, _BINS + 1)
    distinct = np.unique(values)
    if len(distinct) <= _MAX_DISCRETE_VALUES and np.all(distinct == np.round(distinct)):
        # Integer-valued (multiplicities, charges, flags): one bin per value.
        return np.arange(distinct[0] - 0.5, distinct[-1] + 1.0)
    low, high = (float(q) for q in np.quantile(values, _RANGE_QUANTILES))
    if not high > low:
        low, high = float(distinct[0]), float(distinct[-1])
    if not high > low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, _BINS + 1)


def plot_feature_distributions(
    x: npt.ArrayLike,
    labels: npt.ArrayLike,
    feature_names: Sequence[str],
    *,
    sample_weight: npt.ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
    max_features: int | None = None,
) -> Figure:
    """A grid of normalised, weighted histograms of each feature, one per class.

    Parameters
    ----------
    x
        Feature matrix, shape ``(n_events, n_features)``.
    labels
        Class label of each event (0 = background, 1 = signal, or class indices),
        shape ``(n_events,)``.
    feature_names
        One name per column of ``x`` (with its unit, e.g. ``"pt [GeV]"``), used as
        the x-axis label of its panel.
    sample_weight
        Per-event weights; unit weights when None.
    class_names
        Name of each class, indexed by label; "background"/"signal" for 0/1 otherwise.
    max_features
        Draw only the first ``max_features`` features (all when None).

    Returns
    -------
    matplotlib.figure.Figure
        Up to four panels per row; one legend for the classes above the grid.

    Notes
    -----
    Each class is normalised to unit area, ``h_b = Σ_{i ∈ b} w_i / (Δ_b Σ_i w_i)``,
    so the shapes compare whatever the class sizes.  The range is the central 99 %
    of all events (0.5 % and 99.5 % quantiles) split into 40 bins; events outside
    it are counted in the first or last bin (under- and overflow), so no weight is
    lost.  A feature with at most 20 distinct integer values gets one bin per value.
    Non-finite values are left out.
    """
    data = np.asarray(x, dtype=np.float64)
    if data.ndim != 2:
        raise DataError(f"x must have shape (n_events, n_features), got {data.shape}")
    n_events, n_features = data.shape
    names = [str(name) for name in feature_names]
    if len(names) != n_features:
        raise DataError(f"x has {n_features} features but {len(names)} feature names were given")
    y = np.asarray(labels)
    if y.shape != (n_events,):
        raise DataError(f"labels must have shape ({n_events},) like the rows of x, got {y.shape}")
    w = np.ones(n_events) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n_events,):
        raise DataError(f"sample_weight must have shape ({n_events},) like the rows of x, got {w.shape}")
    if n_features == 0:
        raise DataError("x has no features to plot")
    shown = n_features if max_features is None else max(1, min(int(max_features), n_features))

    n_columns = min(_MAX_COLUMNS, shown)
    n_rows = math.ceil(shown / n_columns)
    fig = Figure(figsize=(3.2 * n_columns, 2.6 * n_rows + 0.5), layout="constrained")
    axes = fig.subplots(n_rows, n_columns, squeeze=False)
    classes = np.unique(y)
    binary = set(classes.tolist()) <= {0, 1}
    for j in range(n_rows * n_columns):
        ax = axes.flat[j]
        if j >= shown:
            ax.set_visible(False)
            continue
        column = data[:, j]
        finite = np.isfinite(column) & np.isfinite(w)
        edges = _edges(column[finite])
        widths = np.diff(edges)
        for k, label in enumerate(classes):
            mask = finite & (y == label)
            total = float(w[mask].sum())
            if not total > 0:
                continue
            clipped = np.clip(column[mask], edges[0], edges[-1])
            counts, _ = np.histogram(clipped, bins=edges, weights=w[mask])
            density = counts / (total * widths)
            name = class_name(label, class_names, binary)
            ax.stairs(density, edges, fill=True, alpha=0.25, color=f"C{k}")
            ax.stairs(density, edges, color=f"C{k}", lw=1.2, label=name)
        ax.set_xlabel(names[j])
        ax.set_ylabel("normalised density")
        ax.set_ylim(bottom=0.0)
        ax.set_xlim(edges[0], edges[-1])
    handles, legend_labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, legend_labels, loc="outside upper center", ncols=len(handles), frameon=False)
    if shown < n_features:
        fig.suptitle(f"first {shown} of {n_features} features", fontsize="medium")
    return fig


def plot_correlation(
    matrix: npt.ArrayLike,
    feature_names: Sequence[str],
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a linear correlation matrix as a colour map, in percent per cell.

    Parameters
    ----------
    matrix
        Correlation coefficients in ``[-1, 1]``, shape ``(n_features, n_features)``.
    feature_names
        One name per row/column.
    ax
        Axes to draw on; a new figure when None.  About 0.45 inch per feature keeps
        the numbers readable.
    title
        Drawn above the matrix (e.g. ``"correlations: signal"``).

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Cell ``(i, j)`` is the (weighted) Pearson coefficient
    ``ρ_ij = cov(x_i, x_j) / (σ_i σ_j)``, written as ``100 ρ_ij`` (as TMVA does) when
    there are at most 25 features.  NaN cells (a feature of zero variance) are left
    blank.
    """
    names = [str(name) for name in feature_names]
    m = square_matrix(matrix, "correlation")
    if len(names) != m.shape[0]:
        raise DataError(f"the matrix has {m.shape[0]} features but {len(names)} feature names were given")
    ax = ensure_axes(ax)
    image = ax.imshow(np.ma.masked_invalid(m), cmap="RdBu_r", vmin=-1.0, vmax=1.0, aspect="equal")
    bar = colorbar(ax, image, shrink=0.9)
    if bar is not None:
        bar.set_label("linear correlation coefficient", fontsize="small")
        bar.ax.tick_params(labelsize="small")
    n = len(names)
    if n <= 25:
        fontsize = 9 if n <= 8 else max(4.5, 9 - 0.3 * (n - 8))
        cells = ((i, j, float(m[i, j])) for i in range(n) for j in range(n))
        label_cells(
            ax,
            ((i, j, f"{100 * value:.0f}", abs(value) > 0.6) for i, j, value in cells if np.isfinite(value)),
            fontsize=fontsize,
        )
    matrix_ticks(ax, names, rotation=90, top=False, right=False, labelsize="small")
    if title:
        ax.set_title(title, fontsize="medium")
    return ax
