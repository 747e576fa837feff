"""A model's uncertainty on the evaluated events, and against how far they lie from the training data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from neyman.preprocessing import TEST
from neyman.runs import TrainedRun
from neyman.table import Table
from neyman.tasks import ScoredEvents

__all__ = ["input_radius", "radius_profile", "test_uncertainty"]


def test_uncertainty(trained: TrainedRun, table: Table | None, scored: ScoredEvents) -> np.ndarray | None:
    """The model's uncertainty of the test events (each by the fold model that scores it), or None."""
    if not trained.uncertainty_names or table is None:
        return None
    test = scored.split == TEST
    folds = scored.fold[test] if trained.kfold >= 2 else None
    return trained.uncertainty(table.take(test), folds=folds)


def input_radius(trained: TrainedRun, table: Table, folds: np.ndarray | None) -> np.ndarray | None:
    """How far each event lies from the bulk of the training data (tabular runs), or None.

    Notes
    -----
    With the preprocessed features :math:`z_j` (Gaussianised or standardised on
    the training split), :math:`r = \\sqrt{\\frac1d \\sum_j z_j^2}`: about 1 in the
    bulk, large where the training sample is sparse — a proxy of the training
    density that needs no density estimate (it ignores correlations between features).
    """
    if trained.representation is not None:
        return None
    x = trained.matrix(table)

    def radius(k: int, sel: np.ndarray) -> np.ndarray:
        z = np.asarray(trained.preprocessors[k].transform(x[sel]), dtype=np.float64)
        return np.asarray(np.sqrt(np.mean(z * z, axis=1)))

    if trained.kfold < 2:
        return radius(0, np.ones(len(x), dtype=bool))
    folds = np.full(len(x), -1) if folds is None else np.asarray(folds)
    out = np.zeros(len(x))
    for k in range(trained.kfold):
        if (folds == k).any():
            out[folds == k] = radius(k, folds == k)
    free = folds < 0  # events of no fold (--test-data): the mean over the folds' preprocessing
    if free.any():
        out[free] = np.mean([radius(k, free) for k in range(trained.kfold)], axis=0)
    return out


def radius_profile(
    trained: TrainedRun,
    table: Table | None,
    scored: ScoredEvents,
    spread: np.ndarray | None,
    save: Callable[[Any, str], list[Path]],
) -> tuple[dict[str, Any], list[Path]]:
    """The model's uncertainty in bins of :func:`input_radius` of the test events: numbers and figure."""
    from neyman import metrics, plotting

    if spread is None or table is None:
        return {}, []
    test = scored.split == TEST
    radius = input_radius(trained, table.take(test), scored.fold[test] if trained.kfold >= 2 else None)
    if radius is None:
        return {}, []
    names = trained.uncertainty_names
    centres = metrics.binned_mean(radius, spread[:, 0])[0]
    curves = {n: metrics.binned_mean(radius, spread[:, j])[1] for j, n in enumerate(names)}
    fig = plotting.plot_uncertainty_profile(centres, curves, xlabel="distance from the training bulk r")
    numbers = {"radius": centres.tolist(), **{n: c.tolist() for n, c in curves.items()}}
    return {"vs_input_radius": numbers}, save(fig, "uncertainty_vs_radius")
