"""Generated against real events, for a run whose model can draw them (a flow, a VAE)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from neyman.exceptions import DataError
from neyman.preprocessing import TEST
from neyman.runs import TrainedRun
from neyman.runs.sampling import check_drawable, condition_columns, draw, drawn_columns
from neyman.table import WEIGHT, Table
from neyman.tasks import ScoredEvents

__all__ = ["generative_fidelity"]

MAX_EVENTS = 50_000
"""Real test events compared with as many generated ones (a random subset of larger test splits)."""
MAX_FEATURE_FIGURES = 12
"""Features drawn one figure each (the numbers cover all of them)."""


def _real_events(table: Table, scored: ScoredEvents, seed: int) -> Table:
    """The test split's background events (label 0 where there are labels), at most :data:`MAX_EVENTS`."""
    keep = (scored.split == TEST) & (np.asarray(scored.truth) == 0)
    index = np.flatnonzero(keep)
    if len(index) > MAX_EVENTS:
        index = np.sort(np.random.default_rng(seed).choice(index, MAX_EVENTS, replace=False))
    return table.take(index)


def generative_fidelity(
    trained: TrainedRun, table: Table | None, scored: ScoredEvents, *, seed: int, save: Callable[[Any, str], list[Path]]
) -> tuple[dict[str, Any], list[Path]]:
    """Draw as many events as the real test events and compare them, numbers and figures.

    Returns
    -------
    tuple
        ``({"generated": numbers}, figure paths)``; empty for runs that cannot draw.

    Notes
    -----
    A conditional density draws each generated event at the condition values of
    one real event, so the comparison is at the real events' conditions.  The
    numbers: the 1-Wasserstein distance of every drawn feature (also in units of
    its real standard deviation), the Fréchet distance of the standardised
    features, and the out-of-fold AUC of a boosted classifier telling generated
    from real (:func:`neyman.reweighting.two_sample_auc`; 0.5 = indistinguishable).
    """
    from neyman import metrics, plotting
    from neyman.reweighting import two_sample_auc

    if table is None or trained.representation is not None:
        return {}, []
    try:
        check_drawable(trained)
    except DataError:
        return {}, []
    real_table = _real_events(table, scored, seed)
    columns, conditions = drawn_columns(trained), condition_columns(trained)
    real = real_table.to_numpy(columns, dtype=np.float64)
    w = np.asarray(real_table[WEIGHT], dtype=np.float64)
    context = real_table.to_numpy(conditions, dtype=np.float64) if conditions else None
    generated = np.concatenate(list(draw(trained, len(real), context=context, seed=seed)))
    positive = np.clip(w, 0.0, None)
    w1 = {c: metrics.wasserstein_distance(generated[:, j], real[:, j], None, positive) for j, c in enumerate(columns)}
    std = real.std(axis=0)
    numbers = {
        "n_events": len(real),
        "two_sample_auc": two_sample_auc(real, generated, w, None, seed=seed),
        "frechet_distance": metrics.frechet_distance(real, generated),
        "wasserstein": w1,
        "wasserstein_over_std": {c: w1[c] / s if s > 0 else float("nan") for c, s in zip(columns, std, strict=True)},
    }
    paths = []
    for j, c in enumerate(columns[:MAX_FEATURE_FIGURES]):
        edges = metrics.comparison_edges(generated[:, j], real[:, j])
        comparison = metrics.compare_histograms([("generated", generated[:, j], None), ("real", real[:, j], w)], edges)
        paths += save(plotting.plot_closure(comparison, c, reference="real"), f"generated_{c}")
    paths += save(_correlations(real, w, generated, columns), "generated_correlations")
    return {"generated": numbers}, paths


def _correlations(real: np.ndarray, w: np.ndarray, generated: np.ndarray, columns: list[str]) -> Any:
    """The real and generated correlation matrices side by side."""
    from matplotlib.figure import Figure

    from neyman import metrics, plotting

    size = max(4.0, 0.45 * len(columns))
    fig = Figure(figsize=(2 * size + 1, size), layout="constrained")
    left, right = fig.subplots(1, 2)
    plotting.plot_correlation(metrics.correlation_matrix(real, sample_weight=w), columns, ax=left, title="real")
    plotting.plot_correlation(metrics.correlation_matrix(generated), columns, ax=right, title="generated")
    return fig
