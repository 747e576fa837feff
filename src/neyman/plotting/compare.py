"""Several classifiers' ROC curves with the ratio of their rejections to a reference."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from neyman.exceptions import DataError, close_matches
from neyman.metrics import RocCurve
from neyman.plotting.roc import plot_rejection, rejection_axes

__all__ = ["plot_roc_comparison", "rejection_on_grid"]

_GRID = np.linspace(0.01, 1.0, 397)


def rejection_on_grid(roc: RocCurve, signal_efficiency: np.ndarray) -> np.ndarray:
    """Background rejection ``1/ε_B`` at each of many signal efficiencies at once.

    Parameters
    ----------
    roc
        The curve.
    signal_efficiency
        Working points ``ε_S`` in ``[0, 1]``, any shape.

    Returns
    -------
    numpy.ndarray
        ``1/ε_B`` at each point (``inf`` where ``ε_B ≤ 0``, NaN where the curve never
        reaches that ``ε_S``), the shape of ``signal_efficiency``.

    Notes
    -----
    The vectorised form of :func:`neyman.metrics.background_rejection`: ``ε_B`` is
    interpolated linearly between the two curve points that bracket the target, at
    the first point (from tight to loose cuts) where ``ε_S`` reaches it.
    """
    targets = np.asarray(signal_efficiency, dtype=np.float64)
    tpr, fpr = roc.signal_efficiency, roc.background_efficiency
    # The first index with tpr >= target is the first with running-max(tpr) >= target,
    # and the running maximum is sorted, so one binary search finds it for every target.
    reached = np.maximum.accumulate(tpr)
    i = np.searchsorted(reached, targets, side="left")
    never = i >= len(tpr)
    i = np.minimum(i, len(tpr) - 1)
    previous = np.maximum(i - 1, 0)
    step = tpr[i] - tpr[previous]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where((i > 0) & (step > 0), (targets - tpr[previous]) / np.where(step > 0, step, 1.0), 1.0)
        eps_b = np.where(i > 0, fpr[previous] + t * (fpr[i] - fpr[previous]), fpr[0])
        rejection = np.where(eps_b > 0, 1.0 / np.where(eps_b > 0, eps_b, 1.0), np.inf)
    return np.asarray(np.where(never, np.nan, rejection))


def plot_roc_comparison(rocs: Mapping[str, RocCurve], *, reference: str | None = None) -> Figure:
    """Compare ROC curves: rejection against efficiency, and the ratio to a reference.

    Parameters
    ----------
    rocs
        Legend label → ROC curve, one per classifier (evaluated on the same events).
    reference
        The label whose rejection divides the others in the lower panel; the first
        curve when None.

    Returns
    -------
    matplotlib.figure.Figure
        Upper panel: background rejection ``1/ε_B`` (log scale) against signal
        efficiency ``ε_S``, each curve labelled with its AUC, and the random
        classifier.  Lower panel: ``(1/ε_B) / (1/ε_B)_ref`` on a common ``ε_S`` grid.

    Notes
    -----
    The ratio is evaluated on 397 points of ``ε_S ∈ [0.01, 1]`` where both
    rejections are finite, with ``ε_B(ε_S)`` interpolated linearly along each curve
    (:func:`rejection_on_grid`).  A ratio above one means the classifier rejects
    more background than the reference at that signal efficiency.
    """
    curves = dict(rocs)
    if not curves:
        raise DataError("no ROC curve to compare: pass a mapping of label → RocCurve")
    ref_name = next(iter(curves)) if reference is None else reference
    if ref_name not in curves:
        raise DataError(
            f"reference {ref_name!r} is not among the curves{close_matches(ref_name, curves)}; "
            f"choose one of {list(curves)}"
        )
    fig = Figure(figsize=(6.4, 6.4), layout="constrained")
    main, ratio = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    ref_rejection = rejection_on_grid(curves[ref_name], _GRID)
    for i, (name, roc) in enumerate(curves.items()):
        suffix = " (reference)" if name == ref_name and len(curves) > 1 else ""
        plot_rejection(main, roc, color=f"C{i}", label=f"{name}{suffix}, AUC = {roc.auc():.4f}")
        rejection = rejection_on_grid(roc, _GRID)
        usable = np.isfinite(rejection) & np.isfinite(ref_rejection) & (ref_rejection > 0)
        ratio.plot(_GRID[usable], rejection[usable] / ref_rejection[usable], color=f"C{i}")
    rejection_axes(main)
    main.legend(frameon=False, loc="upper right")
    main.tick_params(labelbottom=False)
    ratio.axhline(1.0, color="0.5", ls="--", lw=1.0)
    ratio.set_xlabel(r"signal efficiency $\varepsilon_S$")
    ratio.set_ylabel(f"ratio to\n{ref_name}" if len(ref_name) <= 14 else "ratio to ref.")
    return fig
