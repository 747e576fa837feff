"""ROC curves in the HEP convention (rejection versus efficiency) or the classic one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from neyman.exceptions import DataError, close_matches
from neyman.metrics import RocCurve
from neyman.plotting.style import ensure_axes, unit_square

__all__ = ["ROC_KINDS", "plot_rejection", "plot_roc", "rejection_axes"]

ROC_KINDS = ("rejection", "classic")


def plot_rejection(ax: Axes, roc: RocCurve, **style: Any) -> None:
    """Draw the background rejection ``1/ε_B`` of ``roc`` against ``ε_S``.

    Points with ``ε_B ≤ 0`` (infinite rejection) or ``ε_S ≤ 0`` are left out; the
    keyword arguments go to ``ax.plot``.
    """
    tpr, fpr = roc.signal_efficiency, roc.background_efficiency
    shown = (fpr > 0) & (tpr > 0)
    ax.plot(tpr[shown], 1.0 / fpr[shown], **style)


def rejection_axes(ax: Axes) -> None:
    """Set up ``ax`` for rejection curves: the random classifier ``1/ε_S``, a log scale, ``0 ≤ ε_S ≤ 1``."""
    eff = np.linspace(0.01, 1.0, 100)
    ax.plot(eff, 1.0 / eff, color="0.5", ls="--", label="random")
    ax.set_yscale("log")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylabel(r"background rejection $1/\varepsilon_B$")


def plot_roc(
    rocs: Mapping[str, RocCurve] | RocCurve,
    *,
    ax: Axes | None = None,
    kind: str = "rejection",
) -> Axes:
    """Plot one or more ROC curves, each labelled with its AUC.

    Parameters
    ----------
    rocs
        Legend label → curve (e.g. one per classifier or per split), or one curve.
    ax
        Axes to draw on; a new figure when None.
    kind
        ``"rejection"``: background rejection ``1/ε_B`` (log scale) against signal
        efficiency ``ε_S``, the HEP convention, with the random classifier
        ``1/ε_S`` for reference.  ``"classic"``: ``ε_S`` against ``ε_B`` with the
        diagonal.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The AUC in the legend is ``∫ ε_S dε_B`` by the trapezoidal rule
    (:meth:`neyman.metrics.RocCurve.auc`).  Points with ``ε_B ≤ 0`` have infinite
    rejection and are not drawn in the ``"rejection"`` view.
    """
    if kind not in ROC_KINDS:
        raise DataError(f"unknown ROC plot kind {kind!r}{close_matches(kind, ROC_KINDS)}; use one of {ROC_KINDS}")
    curves = {"": rocs} if isinstance(rocs, RocCurve) else dict(rocs)
    if not curves:
        raise DataError("no ROC curve to plot: pass a mapping of label → RocCurve")
    ax = ensure_axes(ax)
    for i, (name, roc) in enumerate(curves.items()):
        label = f"{name} (AUC = {roc.auc():.4f})" if name else f"AUC = {roc.auc():.4f}"
        if kind == "rejection":
            plot_rejection(ax, roc, color=f"C{i}", label=label)
        else:
            ax.plot(roc.background_efficiency, roc.signal_efficiency, color=f"C{i}", label=label)
    if kind == "rejection":
        rejection_axes(ax)
        ax.set_xlabel(r"signal efficiency $\varepsilon_S$")
    else:
        unit_square(ax, "random")
        ax.set_xlabel(r"background efficiency $\varepsilon_B$")
        ax.set_ylabel(r"signal efficiency $\varepsilon_S$")
    ax.legend(frameon=False)
    return ax
