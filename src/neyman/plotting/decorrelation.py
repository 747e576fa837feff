"""The sculpting figure (the background's mass spectrum before and after cuts on a tagger) and
the plane of 1/JSD against rejection on which decorrelated taggers are compared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from neyman.metrics import SculptingPoint
from neyman.plotting.style import figure

__all__ = ["plot_decorrelation_plane", "plot_sculpting"]


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
    ax.set_ylim(0.0, 1.3 * float(max(np.max(points[0].before), *(np.max(p.after) for p in points)) or 1.0))
    ax.legend(frameon=False, fontsize="small")
    return fig


def plot_decorrelation_plane(points: Mapping[str, Sequence[tuple[float, float, str]]]) -> Figure:
    """Taggers on the plane of background rejection (x) against 1/JSD (y), both logarithmic.

    Parameters
    ----------
    points
        Method → its points ``(1/ε_B, 1/JSD, label)`` (e.g. one per strength λ, in
        the order they are joined by a line).

    Returns
    -------
    matplotlib.figure.Figure
        One marker style per method; up and to the right is better: more rejection
        and less sculpting at the same signal efficiency.
    """
    fig, ax = figure()
    markers = "osD^v<>ph*"
    for i, (method, pts) in enumerate(points.items()):
        usable = [(r, j, label) for r, j, label in pts if np.isfinite(r) and np.isfinite(j) and r > 0 and j > 0]
        if not usable:
            continue
        ax.plot([p[0] for p in usable], [p[1] for p in usable], marker=markers[i % len(markers)], label=method)
        for r, j, label in usable:
            if label:
                ax.annotate(label, (r, j), textcoords="offset points", xytext=(4, 4), fontsize="x-small")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("background rejection 1/ε_B")
    ax.set_ylabel("1/JSD of the background mass")
    ax.legend(frameon=False, fontsize="small")
    return fig
