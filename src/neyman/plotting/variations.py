"""A tagger on nominal events and on generator or detector variations: ROC band and score overlays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from neyman.metrics import RocCurve
from neyman.plotting.compare import plot_roc_comparison, rejection_on_grid

__all__ = ["plot_variation_rocs", "plot_variation_scores"]

_GRID = np.linspace(0.01, 1.0, 397)

Scored = tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike | None]


def plot_variation_rocs(rocs: Mapping[str, RocCurve], nominal: str) -> Figure:
    """ROC curves of every sample with the band the variations span around the nominal one.

    Parameters
    ----------
    rocs
        Sample name → ROC curve of the same tagger.
    nominal
        The name of the nominal sample (the ratios' reference).

    Returns
    -------
    matplotlib.figure.Figure
        :func:`plot_roc_comparison` with, in the ratio panel, the envelope
        ``min/max_v R_v(ε_S) / R_nom(ε_S)`` of the variations shaded.
    """
    fig = plot_roc_comparison(rocs, reference=nominal)
    ratio_axes = fig.axes[1]
    ref = rejection_on_grid(rocs[nominal], _GRID)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = [rejection_on_grid(roc, _GRID) / ref for name, roc in rocs.items() if name != nominal]
    if ratios:
        stack = np.vstack(ratios)
        usable = np.all(np.isfinite(stack), axis=0) & np.isfinite(ref) & (ref > 0)
        lo, hi = np.min(stack, axis=0), np.max(stack, axis=0)
        ratio_axes.fill_between(_GRID[usable], lo[usable], hi[usable], color="0.8", zorder=0, label="variations")
        ratio_axes.legend(frameon=False, fontsize="small", loc="upper right")
    return fig


def plot_variation_scores(samples: Mapping[str, Scored], class_names: Sequence[str], *, bins: int = 40) -> Figure:
    """Each class's normalised score distribution, nominal (points) and variations (lines).

    Parameters
    ----------
    samples
        Sample name → ``(scores, labels, weights)``; the first is the nominal one.
    class_names
        Names of label 0 and label 1.
    bins
        Equal bins of the score between the smallest and largest score.
    """
    fig = Figure(figsize=(9.6, 4.0), layout="constrained")
    axes = fig.subplots(1, 2, sharey=False)
    arrays = {
        n: (np.asarray(s, dtype=np.float64), np.asarray(y).astype(int), None if w is None else np.asarray(w))
        for n, (s, y, w) in samples.items()
    }
    low = min(float(np.min(s[0])) for s in arrays.values())
    high = max(float(np.max(s[0])) for s in arrays.values())
    edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    for k, ax in enumerate(axes):
        for i, (name, (scores, labels, weights)) in enumerate(arrays.items()):
            mine = labels == k
            w = None if weights is None else weights[mine]
            h, _ = np.histogram(scores[mine], bins=edges, weights=w)
            h = h / max(float(np.sum(h)), 1e-300)
            if i == 0:
                ax.plot(centres, h, "o", ms=3, color="black", label=f"{name} (nominal)")
            else:
                ax.stairs(h, edges, color=f"C{i - 1}", lw=1.4, label=name)
        ax.set_title(class_names[k])
        ax.set_xlabel("score")
        ax.set_ylabel("fraction of events")
        ax.set_yscale("log")
        ax.legend(frameon=False, fontsize="small")
    return fig
