"""A model's own uncertainty: against its score, and the coverage of its intervals."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from neyman.plotting.style import figure

__all__ = ["plot_coverage", "plot_uncertainty_profile"]


def plot_uncertainty_profile(
    centres: np.ndarray, curves: Mapping[str, np.ndarray], *, xlabel: str = "score (bins of equal test events)"
) -> Figure:
    """The mean model uncertainty in bins of the score or another variable (one line per column, own y-axes).

    A classifier's spread is largest where it hesitates (scores near 0.5) and where
    it has seen few events; ``logit_std`` keeps growing where ``score_std`` is
    squeezed by a saturated score.
    """
    fig, ax = figure()
    axes = [ax, ax.twinx()] if len(curves) > 1 else [ax]
    for (name, values), axis, colour in zip(curves.items(), axes, ("C0", "C1"), strict=False):
        axis.plot(centres, values, "o-", color=colour, ms=3, label=name)
        axis.set_ylabel(name, color=colour)
    ax.set_xlabel(xlabel)
    return fig


def plot_coverage(centres: np.ndarray, cover68: np.ndarray, cover95: np.ndarray) -> Figure:
    """Observed coverage of the 68% and 95% intervals in bins of the model uncertainty.

    Honest uncertainties put every point on its dashed line; points below it mean
    intervals too narrow.
    """
    fig, ax = figure()
    for level, values, colour in ((0.6827, cover68, "C0"), (0.9545, cover95, "C1")):
        ax.plot(centres, values, "o-", color=colour, label=f"{level:.1%} intervals")
        ax.axhline(level, color=colour, ls="--", lw=1)
    ax.set_xlabel("σ_model (quartiles of the test events)")
    ax.set_ylabel("fraction of events inside")
    ax.set_ylim(0.0, 1.05)
    ax.legend(frameon=False)
    return fig
