"""Figures of an anomaly score: its distribution per class and the significance improvement curve."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from neyman.plotting.style import figure

__all__ = ["plot_anomaly_scores", "plot_sic"]


def plot_anomaly_scores(
    scores: np.ndarray, labels: np.ndarray, weights: np.ndarray, classes: Sequence[str], *, bins: int = 60
) -> Figure:
    """Normalised histograms of the anomaly score per class, on a logarithmic axis.

    Parameters
    ----------
    scores, labels, weights
        Anomaly scores, labels (0 background, 1 signal) and weights of the test events.
    classes
        Class names by label.
    bins
        Bins between the 0.1% and 99.9% quantiles of all scores (the tails pile
        into the first and last bin); logarithmic when the scores are positive and
        span more than two decades.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Each class is normalised to unit area, ``h_b = Σ_{i∈b} w_i / (Δ_b Σ_i w_i)``;
    the logarithmic axis shows the far tail where a search cuts.
    """
    fig, ax = figure()
    finite = np.isfinite(scores)
    if not finite.any():
        return fig
    lo, hi = np.quantile(scores[finite], [0.001, 0.999])
    logarithmic = lo > 0 and hi > 100 * lo  # reconstruction errors span decades
    if logarithmic:
        edges = np.geomspace(lo, hi, bins + 1)
        ax.set_xscale("log")
    else:
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    for k in np.unique(labels):
        sel = finite & (labels == k)
        if weights[sel].sum() <= 0:
            continue
        values = np.clip(scores[sel], edges[0], edges[-1])
        counts, _ = np.histogram(values, bins=edges, weights=weights[sel])
        ax.stairs(counts / (np.diff(edges) * weights[sel].sum()), edges, label=str(classes[int(k)]), linewidth=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("anomaly score")
    ax.set_ylabel("normalised events / bin width")
    ax.legend()
    return fig


def plot_sic(signal_efficiency: np.ndarray, sic: np.ndarray) -> Figure:
    """The significance improvement ``SIC = ε_S / √ε_B`` against the signal efficiency.

    Parameters
    ----------
    signal_efficiency, sic
        The curve of :func:`neyman.metrics.sic_curve` (cuts with enough background only).

    Returns
    -------
    matplotlib.figure.Figure
        The curve with its maximum marked and the line ``SIC = 1`` (no gain).
    """
    fig, ax = figure()
    if len(sic):
        ax.plot(signal_efficiency, sic, color="C0")
        best = int(np.argmax(sic))
        ax.plot(signal_efficiency[best], sic[best], "o", color="C3", label=f"max SIC = {sic[best]:.2f}")
        ax.legend()
    ax.axhline(1.0, color="grey", linestyle=":")
    ax.set_xlabel("signal efficiency ε_S")
    ax.set_ylabel("SIC = ε_S / √ε_B")
    ax.set_xlim(0, 1)
    return fig
