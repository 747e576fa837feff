"""The sculpting figure: the background's mass spectrum before and after cuts on a tagger."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from neyman.metrics import SculptingPoint
from neyman.plotting.style import figure

__all__ = ["plot_sculpting"]


def plot_sculpting(points: Sequence[SculptingPoint], variable: str) -> Figure:
    """The background's normalised distribution of ``variable`` before and after each cut.

    Parameters
    ----------
    points
        The working points of :func:`neyman.metrics.sculpting` (one binning).
    variable
        The variable's name (the x-axis label).

    Returns
    -------
    matplotlib.figure.Figure
        Step histograms: all background (black, filled) and the background passing
        the cut of each signal efficiency, labelled with ``ε_S``, ``1/ε_B`` and
        ``1/JSD``.  A tagger that does not sculpt leaves every curve on the black
        one; one that does moves the passing background towards the signal's
        values of the variable.
    """
    fig, ax = figure()
    if not points:
        return fig
    edges = points[0].edges
    ax.stairs(points[0].before, edges, color="black", fill=True, alpha=0.15, label="background, no cut")
    ax.stairs(points[0].before, edges, color="black")
    for p in points:
        label = f"ε_S = {p.signal_efficiency:.0%}: 1/ε_B = {p.rejection:.3g}, 1/JSD = {p.inverse_jsd:.3g}"
        ax.stairs(p.after, edges, label=label, linewidth=1.5)
    ax.set_xlabel(variable)
    ax.set_ylabel("fraction of background per bin")
    ax.set_xlim(float(edges[0]), float(edges[-1]))
    ax.set_ylim(0.0, 1.3 * float(max(np.max(p.after) for p in [*points, points[0]]) or 1.0))
    ax.legend(frameon=False, fontsize="small")
    return fig
