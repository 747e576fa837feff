"""Expected significance as a function of the cut on the classifier output."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes

from neyman.exceptions import DataError
from neyman.plotting.style import ensure_axes, headroom

__all__ = ["plot_significance"]


def _best_point(cuts: np.ndarray, z: np.ndarray, cut: float | None) -> tuple[float, float] | None:
    finite = np.isfinite(cuts) & np.isfinite(z)
    if not finite.any():
        return None
    c, v = cuts[finite], z[finite]
    if cut is None:
        k = int(np.argmax(v))
        return float(c[k]), float(v[k])
    order = np.argsort(c, kind="stable")
    return float(cut), float(np.interp(cut, c[order], v[order]))


def plot_significance(
    cuts: npt.ArrayLike,
    curves: Mapping[str, npt.ArrayLike],
    *,
    best: Mapping[str, float] | None = None,
    xlabel: str = "cut on the classifier output",
    ax: Axes | None = None,
) -> Axes:
    """Plot one or more significance definitions against the cut, marking the optimum.

    Parameters
    ----------
    cuts
        The cut values ``t`` (events with ``score ≥ t`` are selected), shape ``(n_cuts,)``.
    curves
        Legend label → significance ``Z(t)`` at each cut, e.g. ``"S/√B"``,
        ``"S/√(S+B)"`` and the Asimov ``Z_A``; each of shape ``(n_cuts,)``.
    best
        Label → the cut chosen for that definition, marked on its curve.  When None
        (or for a label it lacks) the maximum of the curve is marked.
    xlabel
        What the cut is applied to.
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Non-finite points (e.g. ``S/√B`` where ``B = 0``) are not drawn and never chosen
    as the maximum.  The legend gives ``Z`` at the marked cut, so the definitions can
    be compared at their own optima.
    """
    c = np.asarray(cuts, dtype=np.float64)
    if c.ndim != 1 or len(c) == 0:
        raise DataError(f"cuts must be a non-empty 1-dimensional array, got shape {c.shape}")
    if not curves:
        raise DataError("no significance curve to plot: pass a mapping of label → Z per cut")
    ax = ensure_axes(ax)
    lowest = 0.0
    for i, (name, values) in enumerate(curves.items()):
        z = np.asarray(values, dtype=np.float64)
        if z.shape != c.shape:
            raise DataError(f"significance curve {name!r} has shape {z.shape} but cuts has {c.shape}")
        chosen = None if best is None else best.get(name)
        point = _best_point(c, z, chosen)
        shown = np.isfinite(z) & np.isfinite(c)
        label = name if point is None else f"{name}: Z = {point[1]:.3g} at cut {point[0]:.3g}"
        ax.plot(c[shown], z[shown], color=f"C{i}", label=label)
        if shown.any():
            lowest = min(lowest, float(z[shown].min()))
        if point is not None:
            ax.plot(*point, marker="o", ms=6, mfc="white", mec=f"C{i}", mew=1.5, ls="none")
            ax.axvline(point[0], color=f"C{i}", ls=":", lw=1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("expected significance $Z$")
    ax.set_ylim(bottom=lowest)
    # Headroom above the curves keeps the legend clear of them.
    headroom(ax, 0.35)
    ax.legend(frameon=False, loc="upper left")
    return ax
