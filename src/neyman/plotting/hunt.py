"""Figures of a resonance search: the bump fit after each cut, the scores per region, sculpting, significances."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from neyman.resonance import CutResult, Regions

__all__ = ["plot_bump_fit", "plot_hunt_significance", "plot_region_scores", "plot_sculpting"]


def _z(cut: Mapping[str, Any], key: str = "z_local") -> float:
    value = cut.get(key)
    return float("nan") if value is None else float(value)


def _cut_name(efficiency: float) -> str:
    return "no cut" if efficiency >= 1 else f"top {efficiency:.3g} of the signal region"


def plot_bump_fit(cut: CutResult, regions: Regions, mass: str) -> Figure:
    """The spectrum after one cut with the fits, and its pulls against the sideband fit.

    Parameters
    ----------
    cut
        The cut's spectrum and fits (:func:`neyman.resonance.cut_and_fit`).
    regions
        The signal region (shaded) and the sidebands.
    mass
        The mass column's name (axis label).

    Notes
    -----
    The pull of bin :math:`i` is :math:`(n_i - b_i)/\\sqrt{b_i}` with :math:`b_i` the
    sideband fit's prediction: an unsculpted background scatters around 0 with unit
    width, a signal stands out in the shaded window.
    """
    fig = Figure(figsize=(6.0, 5.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1)})
    edges, n = cut.edges, cut.counts
    centres = 0.5 * (edges[1:] + edges[:-1])
    top.errorbar(centres, n, yerr=np.sqrt(n), fmt="o", ms=3, color="black", label="data")
    sig, side = cut.significance, cut.sideband
    if sig is None or side is None:
        raise ValueError(f"the cut keeping {cut.efficiency:g} left too few events for a fit; there is nothing to draw")
    top.stairs(sig.null.background, edges, color="tab:blue", label="background fit")
    top.stairs(side.background, edges, color="tab:orange", ls="--", label="sideband fit")
    top.axvspan(regions.signal.lo, regions.signal.hi, color="tab:red", alpha=0.12, label="signal region")
    top.set_yscale("log")
    top.set_ylabel("events / bin")
    converged = sig.null.valid and sig.alternative.valid and side.valid
    flag = "" if converged else " (fit not converged: no significance)"
    top.set_title(f"{_cut_name(cut.efficiency)}: Z = {sig.z:.2f}{flag}, fitted signal {sig.alternative.signal:.0f}")
    top.legend(fontsize=8)
    b = np.maximum(side.background, 1e-9)
    bottom.bar(centres, (n - b) / np.sqrt(b), width=np.diff(edges), color="tab:gray")
    bottom.axhline(0, color="black", lw=0.8)
    bottom.axvspan(regions.signal.lo, regions.signal.hi, color="tab:red", alpha=0.12)
    bottom.set_ylabel("pull")
    bottom.set_xlabel(mass)
    return fig


def plot_region_scores(score: np.ndarray, mass: np.ndarray, regions: Regions, label: np.ndarray | None) -> Figure:
    """Normalised anomaly-score histograms in the signal region and the sidebands (and of the signal)."""
    fig = Figure(figsize=(5.6, 4.2), layout="constrained")
    ax = fig.subplots()
    lo, hi = np.quantile(score, [0.001, 0.999])
    bins = list(np.linspace(lo, hi if hi > lo else lo + 1.0, 60))
    groups = [("signal region", regions.signal.contains(mass)), ("sidebands", regions.sideband(mass))]
    if label is not None and np.any(label == 1):
        groups.append(("signal (label 1)", label == 1))
    for name, keep in groups:
        if np.any(keep):
            ax.hist(np.clip(score[keep], bins[0], bins[-1]), bins=bins, density=True, histtype="step", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("anomaly score")
    ax.set_ylabel("normalised")
    ax.legend(fontsize=8)
    return fig


def plot_sculpting(
    cuts: Sequence[CutResult], background: np.ndarray, mass: np.ndarray, score: np.ndarray, name: str
) -> Figure:
    """The background's mass spectrum after each cut divided by its spectrum before, normalised.

    Parameters
    ----------
    cuts
        The cuts (thresholds and binning).
    background
        Which events are background (label 0 where known; else every event).
    mass, score
        The events of the fit range.
    name
        The mass column's name.

    Notes
    -----
    A flat ratio means the cut keeps the same share of the background at every mass:
    the background shape is not sculpted.
    """
    fig = Figure(figsize=(5.6, 4.2), layout="constrained")
    ax = fig.subplots()
    edges = cuts[0].edges
    before = np.histogram(mass[background], bins=edges)[0].astype(float)
    for cut in cuts:
        if cut.efficiency >= 1:
            continue
        kept = cut.selected if cut.selected is not None else score >= cut.threshold  # the events fitted
        after = np.histogram(mass[background & kept], bins=edges)[0].astype(float)
        share = after.sum() / max(before.sum(), 1.0)
        ratio = np.divide(after, before * share, out=np.full(len(after), np.nan), where=(before > 0) & (share > 0))
        ax.stairs(ratio, edges, label=_cut_name(cut.efficiency))
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_xlabel(name)
    ax.set_ylabel("background after cut / before (normalised)")
    if ax.get_legend_handles_labels()[0]:  # no cut below 100 %: nothing to label
        ax.legend(fontsize=8)
    return fig


def plot_hunt_significance(windows: Sequence[Mapping[str, Any]]) -> Figure:
    """The local significance per score cut: against the efficiency (one window) or the window's centre (a scan)."""
    fig = Figure(figsize=(5.6, 4.2), layout="constrained")
    ax = fig.subplots()
    if len(windows) == 1:
        cuts = windows[0]["cuts"]
        eff = [c["efficiency"] for c in cuts]
        ax.plot(eff, [_z(c) for c in cuts], "o-", label="asymptotic")
        if any(c.get("toys") for c in cuts):
            ax.plot(eff, [_z(c, "z_toys") for c in cuts], "s--", label="pseudo-experiments (bounded by their number)")
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set_xlabel("share of the signal region kept")
    else:
        centres = [0.5 * sum(w["signal_region"]) for w in windows]
        for j, first in enumerate(windows[0]["cuts"]):
            ax.plot(centres, [_z(w["cuts"][j]) for w in windows], "o-", label=_cut_name(first["efficiency"]))
        ax.set_xlabel("signal-region centre")
    ax.axhline(3.0, color="tab:red", lw=0.8, ls=":")
    ax.set_ylabel("local significance Z")
    ax.legend(fontsize=8)
    return fig
