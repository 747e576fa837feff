"""Confusion matrix: true class against predicted class, each cell annotated."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes

from neyman.exceptions import DataError
from neyman.plotting.style import colorbar, ensure_axes, label_cells, matrix_ticks, square_matrix

__all__ = ["NORMALISATIONS", "plot_confusion"]

NORMALISATIONS = ("true", "pred", None)


def _normalised(matrix: np.ndarray, normalise: str | None) -> tuple[np.ndarray, str]:
    if normalise is None:
        return matrix, "events (sum of weights)"
    axis = 1 if normalise == "true" else 0
    totals = matrix.sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = np.where(totals != 0, matrix / np.where(totals != 0, totals, 1.0), np.nan)
    what = "true" if normalise == "true" else "predicted"
    return fractions, f"fraction of the {what} class"


def _cell_text(value: float, normalised: bool) -> str:
    if not np.isfinite(value):
        return "–"
    if normalised:
        return f"{value:.2f}"
    if value == round(value) and abs(value) < 1e6:
        return f"{value:.0f}"
    return f"{value:.3g}"


def plot_confusion(
    matrix: npt.ArrayLike,
    class_names: Sequence[str],
    *,
    normalise: str | None = "true",
    ax: Axes | None = None,
) -> Axes:
    """Draw a confusion matrix as a colour map with the value written in each cell.

    Parameters
    ----------
    matrix
        ``matrix[i, j]`` = sum of the weights of events of true class ``i`` predicted
        as class ``j``, shape ``(n_classes, n_classes)`` (scikit-learn's convention:
        a binary matrix reads ``[[TN, FP], [FN, TP]]``).
    class_names
        One name per class, in index order.
    normalise
        ``"true"``: each row divided by its sum, so the diagonal shows the efficiency
        of each class; ``"pred"``: each column divided by its sum, so the diagonal
        shows the purity; None: the weighted counts as given.
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    With ``normalise="true"`` cell ``(i, j)`` is ``M_ij / Σ_k M_ik``, the fraction of
    class ``i`` called ``j``; with ``"pred"`` it is ``M_ij / Σ_k M_kj``, the fraction
    of the events called ``j`` that are of class ``i``.  A row (column) of zero sum
    has no fraction and is drawn blank with a dash.
    """
    if normalise not in NORMALISATIONS:
        raise DataError(f"normalise must be one of {NORMALISATIONS}, got {normalise!r}")
    names = [str(name) for name in class_names]
    m = square_matrix(matrix, "confusion")
    if len(names) != m.shape[0]:
        raise DataError(f"the matrix has {m.shape[0]} classes but {len(names)} class names were given: {names}")
    values, colour_label = _normalised(m, normalise)
    normalised = normalise is not None

    ax = ensure_axes(ax)
    finite = values[np.isfinite(values)]
    vmax = 1.0 if normalised else (float(finite.max()) if finite.size and finite.max() > 0 else 1.0)
    vmin = 0.0 if normalised or not finite.size else min(0.0, float(finite.min()))
    image = ax.imshow(np.ma.masked_invalid(values), cmap="Blues", vmin=vmin, vmax=vmax, aspect="equal")
    colorbar(ax, image, label=colour_label)

    n = len(names)
    fontsize = 14.0 if n <= 3 else 11.0 if n <= 6 else max(5.0, 11.0 - 0.4 * (n - 6))
    threshold = vmin + 0.6 * (vmax - vmin)
    cells = ((i, j, float(values[i, j])) for i in range(n) for j in range(n))
    texts = ((i, j, _cell_text(v, normalised), bool(np.isfinite(v) and v > threshold)) for i, j, v in cells)
    label_cells(ax, texts, fontsize=fontsize)
    rotate = max(map(len, names)) > 6
    matrix_ticks(ax, names, rotation=45 if rotate else 0, ha="right" if rotate else "center")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return ax
