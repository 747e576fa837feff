"""Reweighting figures: a variable in source, reweighted source and target with a ratio panel; the weights."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from neyman.metrics import HistogramComparison

__all__ = ["plot_closure", "plot_weights"]

_COLOURS = ("tab:blue", "tab:red", "black")


def plot_closure(comparison: HistogramComparison, variable: str, *, reference: str | None = None) -> Figure:
    """Normalised histograms of one variable with each sample's ratio to the reference below.

    Parameters
    ----------
    comparison
        The samples' histograms (:func:`neyman.metrics.compare_histograms`); the
        last one is drawn as points with error bars (the target).
    variable
        Axis label.
    reference
        Sample the ratios are taken to (default: the last one).
    """
    fig = Figure(figsize=(5.6, 5.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1)})
    edges = comparison.edges
    centres = 0.5 * (edges[1:] + edges[:-1])
    ref = comparison.names.index(reference) if reference is not None else len(comparison.names) - 1
    ref_h, ref_e = comparison.densities[ref], comparison.errors[ref]
    widest = 0.0
    for i, name in enumerate(comparison.names):
        h, e = comparison.densities[i], comparison.errors[i]
        colour = _COLOURS[i % len(_COLOURS)] if i != ref else "black"
        if i == ref:
            top.errorbar(centres, h, yerr=e, fmt="o", ms=3, color=colour, label=name)
            rel = np.nan_to_num(_safe_ratio(ref_e, ref_h))
            bottom.stairs(1 + rel, edges, baseline=1 - rel, fill=True, color="0.85", label=f"{name} stat.")
            continue
        top.stairs(h, edges, color=colour, label=name, lw=1.5)
        r = _safe_ratio(h, ref_h)
        precise = _safe_ratio(ref_e, ref_h) < 0.1  # bins where a deviation is not the reference's noise
        widest = max(widest, float(np.nanmax(np.abs(r - 1)[precise], initial=0.0)))
        bottom.errorbar(centres, r, yerr=_safe_ratio(e, ref_h), fmt="_", color=colour, ms=8)
    top.set_ylabel("fraction of events")
    top.legend(frameon=False, fontsize="small")
    bottom.axhline(1.0, color="0.4", lw=0.8)
    # ±30 %, widened (up to ±100 %) so that a sample far from the reference stays in view
    half = min(max(0.3, 1.1 * widest), 1.0)
    bottom.set_ylim(1 - half, 1 + half)
    bottom.set_ylabel(f"ratio to\n{comparison.names[ref]}", fontsize="small")
    bottom.set_xlabel(variable)
    return fig


def _safe_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(np.divide(a, b, out=np.full(len(a), np.nan), where=b > 0))


def plot_weights(weights: npt.ArrayLike, *, max_weight: float | None = None) -> Figure:
    """The distribution of the reweighting weights on a logarithmic axis, with the clip marked."""
    w = np.asarray(weights, dtype=np.float64)
    positive = w[w > 0]
    fig = Figure(figsize=(5.6, 4.0), layout="constrained")
    ax = fig.add_subplot()
    if len(positive):
        low, high = float(positive.min()), float(positive.max())
        bins = np.geomspace(low, high * 1.0001, 60) if high > low else np.array([low * 0.9, high * 1.1])
        ax.hist(positive, bins=list(bins), histtype="step", color="tab:red", lw=1.5)
        ax.set_xscale("log")
    ax.set_yscale("log")
    if max_weight is not None and np.isfinite(max_weight):
        ax.axvline(max_weight, color="0.3", ls="--", lw=1, label=f"clip at {max_weight:.3g}")
        ax.legend(frameon=False, fontsize="small")
    ax.set_xlabel("weight $w = p_T / p_S$")
    ax.set_ylabel("source events")
    return fig
