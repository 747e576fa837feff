"""Classifier score distributions per class, with the train-versus-test overlay."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes

from neyman.exceptions import DataError
from neyman.plotting.style import class_name, ensure_axes

__all__ = ["plot_scores"]


def _sample(
    scores: npt.ArrayLike, labels: npt.ArrayLike, weight: npt.ArrayLike | None, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if s.ndim != 1:
        raise DataError(f"{what} scores must be 1-dimensional (one score per event), got {s.shape}")
    w = np.ones(len(s)) if weight is None else np.asarray(weight, dtype=np.float64)
    if y.shape != s.shape or w.shape != s.shape:
        raise DataError(
            f"{what} scores, labels and weights must have equal lengths, got {len(s)}, {len(y)} and {len(w)}"
        )
    finite = np.isfinite(s) & np.isfinite(w)
    return s[finite], y[finite], w[finite]


def plot_scores(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
    bins: int | npt.ArrayLike = 50,
    ax: Axes | None = None,
    train_scores: npt.ArrayLike | None = None,
    train_labels: npt.ArrayLike | None = None,
    train_weight: npt.ArrayLike | None = None,
) -> Axes:
    """Normalised, weighted score histograms per class; training sample as points.

    Parameters
    ----------
    scores
        Classifier output of the test events, shape ``(n_events,)``.
    labels
        Their class labels (0 = background, 1 = signal, or class indices).
    sample_weight
        Per-event weights of the test events; unit weights when None.
    class_names
        Name of each class, indexed by label; "background"/"signal" for 0/1 otherwise.
    bins
        Number of bins over the range of all scores, or the bin edges.
    ax
        Axes to draw on; a new figure when None.
    train_scores, train_labels, train_weight
        The same for the training events: drawn as points with error bars over the
        test histograms, so a disagreement (overtraining) is visible.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Each class is normalised to unit area: in bin ``b`` of width ``Δ_b``,
    ``h_b = Σ_{i ∈ b} w_i / (Δ_b Σ_i w_i)`` with statistical error
    ``√(Σ_{i ∈ b} w_i²) / (Δ_b Σ_i w_i)``.  Non-finite scores are left out.
    """
    test = _sample(scores, labels, sample_weight, "test")
    train = None
    if train_scores is not None:
        if train_labels is None:
            raise DataError("train_scores needs train_labels as well")
        train = _sample(train_scores, train_labels, train_weight, "train")
        if len(train[0]) == 0:
            train = None

    if isinstance(bins, (int, np.integer)):
        if bins < 1:
            raise DataError(f"bins must be at least 1, got {bins}")
        pooled = test[0] if train is None else np.concatenate([test[0], train[0]])
        if len(pooled) == 0:
            raise DataError("no finite scores to histogram")
        low, high = float(pooled.min()), float(pooled.max())
        if low == high:
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, int(bins) + 1)
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or len(edges) < 2 or (np.diff(edges) <= 0).any():
            raise DataError("bins must be a count or increasing bin edges (at least two)")
    widths = np.diff(edges)

    classes = np.unique(test[1]) if train is None else np.union1d(test[1], train[1])
    binary = set(classes.tolist()) <= {0, 1}
    ax = ensure_axes(ax)
    for i, label in enumerate(classes):
        name = class_name(label, class_names, binary)
        color = f"C{i}"
        s, y, w = test
        mask = y == label
        total = float(w[mask].sum())
        if total > 0:
            counts, _ = np.histogram(s[mask], bins=edges, weights=w[mask])
            density = counts / (total * widths)
            ax.stairs(density, edges, fill=True, alpha=0.3, color=color, label=f"{name} (test)")
            ax.stairs(density, edges, color=color)
        if train is not None:
            s, y, w = train
            mask = y == label
            # the density is the same for any scale of the weights; relative ones keep w² finite
            wm = w[mask] / max(float(np.max(np.abs(w[mask]), initial=0.0)), np.finfo(np.float64).tiny)
            total = float(wm.sum())
            if total > 0:
                counts, _ = np.histogram(s[mask], bins=edges, weights=wm)
                sum_w2, _ = np.histogram(s[mask], bins=edges, weights=wm**2)
                centres = (edges[1:] + edges[:-1]) / 2
                ax.errorbar(
                    centres,
                    counts / (total * widths),
                    yerr=np.sqrt(np.abs(sum_w2)) / (total * widths),
                    fmt="o",
                    ms=3,
                    color=color,
                    label=f"{name} (train)",
                )
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("classifier score")
    ax.set_ylabel("(1/N) dN/d(score)")
    ax.legend(frameon=False)
    return ax
