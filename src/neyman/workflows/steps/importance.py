"""The inputs of an evaluated run: their distributions, correlations and importance."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neyman import metrics
from neyman.exceptions import NeymanWarning
from neyman.preprocessing import TEST
from neyman.runs import TrainedRun
from neyman.table import LABEL, WEIGHT, Table
from neyman.tasks import ScoredEvents

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["IMPORTANCE_EVENTS", "inputs_and_importance"]

IMPORTANCE_EVENTS = 100_000
"""At most this many test events enter the permutation importance."""

SaveFigure = Callable[["Figure", str], list[Path]]


def _input_figures(trained: TrainedRun, table: Table, x: np.ndarray, save: SaveFigure) -> dict[str, list[Path]]:
    """Weighted feature distributions per class and each class's correlation matrix."""
    from neyman import plotting

    feats = trained.features
    w_all = np.asarray(table[WEIGHT], dtype=np.float64)
    labels = np.asarray(table[LABEL])
    fig = plotting.plot_feature_distributions(x, labels, feats, sample_weight=w_all, class_names=trained.classes)
    figs = {"inputs": save(fig, "inputs"), "correlations": []}
    for k, name in enumerate(trained.classes):
        sel = labels == k
        if not sel.any():  # an anomaly run's test events may hold no signal (or no label at all)
            continue
        corr = metrics.correlation_matrix(x[sel], sample_weight=w_all[sel])
        fig, ax = plotting.figure(figsize=(2.5 + 0.5 * len(feats), 1.8 + 0.45 * len(feats)))
        plotting.plot_correlation(corr, feats, ax=ax, title=f"correlations: {name}")
        figs["correlations"] += save(fig, f"correlation_{name}")
    return figs


def _importance_figure(values: dict[str, tuple[float, float]], n: int, save: SaveFigure, stem: str) -> list[Path]:
    from neyman import plotting

    fig, ax = plotting.figure(figsize=(6.4, 1.2 + 0.35 * n))
    plotting.plot_importance(values, ax=ax)
    return save(fig, stem)


def inputs_and_importance(
    trained: TrainedRun,
    table: Table,
    x: np.ndarray,
    scored: ScoredEvents,
    *,
    seed: int,
    save: SaveFigure,
) -> tuple[dict[str, Any], dict[str, list[Path]]]:
    """Input figures (classifiers), permutation importance and, for boosted trees, gain importance.

    Parameters
    ----------
    trained
        The run (it rescores permuted inputs).
    table, x
        The evaluated events and their feature matrix.
    scored
        Their scores, truth, weights and split.
    seed
        Seed of the event sample and the permutations.
    save
        Writes a figure under a file stem and returns its PNG files.

    Returns
    -------
    tuple
        The numbers for ``metrics.json`` and the figures by report section.

    Notes
    -----
    The permutation importance of feature ``j`` is ``m(s, y) - m(s_j, y)``, the drop
    of the task's metric :meth:`~neyman.tasks.Task.importance_metric` when column
    ``j`` of at most :data:`IMPORTANCE_EVENTS` test events is shuffled (mean and
    spread over 3 shuffles).
    """
    task, feats = trained.task, trained.features
    figs = _input_figures(trained, table, x, save) if trained.classes else {}
    idx = np.flatnonzero(scored.split == TEST)
    if len(idx) > IMPORTANCE_EVENTS:
        idx = np.sort(np.random.default_rng(seed).choice(idx, IMPORTANCE_EVENTS, replace=False))
    sub = table.take(idx)
    folds = scored.fold[idx] if trained.kfold >= 2 else None  # each event by the fold model that never saw it

    def predict(xm: np.ndarray) -> np.ndarray:
        shuffled = sub.with_columns(**{f: xm[:, j] for j, f in enumerate(feats)})
        return task.importance_scores(trained.score(shuffled, folds=folds))

    imp = metrics.permutation_importance(
        predict,
        x[idx],
        scored.truth[idx],
        metric=task.importance_metric(),
        sample_weight=scored.weight[idx],
        n_repeats=3,
        seed=seed,
        feature_names=feats,
    )
    if not any(np.isfinite(v[0]) for v in imp.values()):  # the metric is undefined here (no background events)
        warnings.warn(
            f"no permutation importance: its measure ({task.importance_change}) is undefined on these test events "
            "(an anomaly run's test events without background)",
            NeymanWarning,
            stacklevel=3,
        )
        return {}, figs
    out: dict[str, Any] = {
        "permutation_importance": {k: {"mean": v[0], "std": v[1]} for k, v in imp.items()},
        "permutation_importance_measures": task.importance_change,
    }
    figs["importance"] = _importance_figure(imp, len(feats), save, "importance_permutation")
    native = getattr(trained.models[0], "feature_importance", None)
    if callable(native):
        gains = np.mean([m.feature_importance() for m in trained.models], axis=0)  # type: ignore[attr-defined]
        total = gains.sum() or 1.0
        out["gain_importance"] = {f: float(g / total) for f, g in zip(feats, gains, strict=True)}
        values = {f: (float(g / total), 0.0) for f, g in zip(feats, gains, strict=True)}
        figs["importance"] += _importance_figure(values, len(feats), save, "importance_gain")
    return out, figs
