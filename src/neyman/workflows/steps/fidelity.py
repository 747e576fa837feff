"""Generated against real events, for a run whose model can draw them (a flow, a VAE, a jet-image generator)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neyman.exceptions import DataError
from neyman.preprocessing import TEST
from neyman.representations import IMAGE_OBSERVABLES, ImageSpec, image_observables
from neyman.runs import TrainedRun
from neyman.runs.sampling import check_drawable, condition_columns, draw, drawn_columns
from neyman.table import WEIGHT, Table
from neyman.tasks import ScoredEvents
from neyman.workflows.steps.data import events_in_order

__all__ = ["generative_fidelity"]

MAX_EVENTS = 50_000
"""Real test events compared with as many generated ones (a random subset of larger test splits)."""
MAX_IMAGES = 20_000
"""Real test images compared with as many generated ones (the pixel classifier's cost grows with both)."""
MAX_FEATURE_FIGURES = 12
"""Features drawn one figure each (the numbers cover all of them)."""


def _test_background(scored: ScoredEvents, limit: int, seed: int) -> np.ndarray:
    """Rows of the test split's background events (label 0 where there are labels), at most ``limit``."""
    index = np.flatnonzero((scored.split == TEST) & (np.asarray(scored.truth) == 0))
    if len(index) > limit:
        index = np.sort(np.random.default_rng(seed).choice(index, limit, replace=False))
    return index


def _unseen_folds(trained: TrainedRun, scored: ScoredEvents, index: np.ndarray) -> np.ndarray | None:
    """For a k-fold run, the fold whose model never saw each real event: it draws the event's counterpart."""
    folds = np.asarray(scored.fold)[index]
    return folds if len(trained.models) > 1 and np.all(folds >= 0) else None


def generative_fidelity(
    trained: TrainedRun,
    table: Table | None,
    scored: ScoredEvents,
    *,
    seed: int,
    save: Callable[[Any, str], list[Path]],
    read: Callable[[], Table] | None = None,
) -> tuple[dict[str, Any], list[Path]]:
    """Draw as many events as the real test events and compare them, numbers and figures.

    Parameters
    ----------
    table
        The scored events in the order of ``scored``, or ``None``.
    read
        Reads the run's events (image runs evaluated on their own test split,
        whose events are not held in ``table``).

    Returns
    -------
    tuple
        ``({"generated": numbers}, figure paths)``; empty for runs that cannot draw.

    Notes
    -----
    A conditional model draws each generated event at the condition values of
    one real event (a jet-image generator at each real image's total), so the
    comparison is at the real events' conditions.  The numbers: the
    1-Wasserstein distance of every compared feature (also in units of its real
    standard deviation), the Fréchet distance of the standardised features, and
    the out-of-fold AUC of a boosted classifier telling generated from real
    (:func:`neyman.reweighting.two_sample_auc`; 0.5 = indistinguishable).  For
    images the features are the jet observables of
    :func:`neyman.representations.image_observables`, and ``two_sample_auc`` is
    that of a classifier on the pixels themselves (``observables_auc`` on the
    observables).
    """
    try:
        check_drawable(trained)
    except DataError:
        return {}, []
    spec = trained.representation
    if isinstance(spec, ImageSpec) and (table is not None or read is not None):
        return _image_fidelity(trained, events_in_order(table, read, scored.event_id), scored, seed=seed, save=save)
    if table is None or spec is not None:
        return {}, []
    index = _test_background(scored, MAX_EVENTS, seed)
    from neyman.reweighting.twosample import MIN_EVENTS

    if len(index) < MIN_EVENTS:  # too few real background events for the two-sample test: nothing to compare
        return {}, []
    real_table = table.take(index)
    columns, conditions = drawn_columns(trained), condition_columns(trained)
    real = real_table.to_numpy(columns, dtype=np.float64)
    w = np.asarray(real_table[WEIGHT], dtype=np.float64)
    context = real_table.to_numpy(conditions, dtype=np.float64) if conditions else None
    folds = _unseen_folds(trained, scored, index)
    generated = np.concatenate(list(draw(trained, len(real), context=context, seed=seed, folds=folds)))
    numbers, paths = _compare(real, w, generated, columns, seed=seed, save=save, given=context, given_names=conditions)
    return {"generated": numbers}, paths


def _image_fidelity(
    trained: TrainedRun, events: Table, scored: ScoredEvents, *, seed: int, save: Callable[[Any, str], list[Path]]
) -> tuple[dict[str, Any], list[Path]]:
    """Generated against real test images: pixels, jet observables and the mean images."""
    from neyman.plotting.anomaly import plot_average_images
    from neyman.reweighting import two_sample_auc
    from neyman.reweighting.twosample import MIN_EVENTS

    spec = trained.representation
    assert isinstance(spec, ImageSpec)
    index = _test_background(scored, MAX_IMAGES, seed)
    if not len(index):  # no real background among the test events: nothing to compare with
        return {}, []
    real = np.asarray(trained.inputs(events.take(index)), dtype=np.float64)
    w = np.asarray(scored.weight, dtype=np.float64)[index]
    totals = real.reshape(len(real), -1).sum(axis=1)
    keep = totals > 0
    real, w, totals = real[keep], w[keep], totals[keep]
    if len(real) < MIN_EVENTS:
        return {}, []
    folds = _unseen_folds(trained, scored, index[keep])
    generated = np.concatenate(list(draw(trained, len(real), context=totals[:, None], seed=seed, folds=folds)))
    generated = generated.reshape(real.shape)
    names = list(IMAGE_OBSERVABLES)
    numbers, paths = _compare(
        image_observables(real, spec), w, image_observables(generated, spec), names, seed=seed, save=save
    )
    numbers["observables_auc"] = numbers["two_sample_auc"]
    numbers["two_sample_auc"] = two_sample_auc(
        real.reshape(len(real), -1), generated.reshape(len(real), -1), w, None, seed=seed
    )
    paths += save(plot_average_images(real, generated), "generated_mean_image")
    return {"generated": numbers}, paths


def _compare(
    real: np.ndarray,
    w: np.ndarray,
    generated: np.ndarray,
    columns: list[str],
    *,
    seed: int,
    save: Callable[[Any, str], list[Path]],
    given: np.ndarray | None = None,
    given_names: Sequence[str] = (),
) -> tuple[dict[str, Any], list[Path]]:
    """W1 per feature, the Fréchet distance and the two-sample AUC; histograms and correlations.

    ``given``: the condition of each real event, at which its generated partner was drawn.
    The two-sample AUC, the Fréchet distance and the correlations compare the events with
    their conditions, (x, c): on x alone a model that ignored c and drew x from its marginal
    would pass (AUC 0.52 where the pairs give 0.95).
    """
    from neyman import metrics, plotting
    from neyman.reweighting import two_sample_auc

    positive = np.clip(w, 0.0, None)
    w1 = {c: metrics.wasserstein_distance(generated[:, j], real[:, j], None, positive) for j, c in enumerate(columns)}
    std = real.std(axis=0)
    joint_real, joint_generated, joint_names = (
        (real, generated, columns)
        if given is None
        else (np.column_stack([real, given]), np.column_stack([generated, given]), [*columns, *given_names])
    )
    numbers = {
        "n_events": len(real),
        "two_sample_auc": two_sample_auc(joint_real, joint_generated, w, None, seed=seed),
        "frechet_distance": metrics.frechet_distance(joint_real, joint_generated),
        "wasserstein": w1,
        # a column constant in the real events has no scale: null, shown as n/a (it was the text "nan")
        "wasserstein_over_std": {c: w1[c] / s if s > 0 else None for c, s in zip(columns, std, strict=True)},
    }
    paths = []
    for j, c in enumerate(columns[:MAX_FEATURE_FIGURES]):
        edges = metrics.comparison_edges(generated[:, j], real[:, j])
        comparison = metrics.compare_histograms([("generated", generated[:, j], None), ("real", real[:, j], w)], edges)
        paths += save(plotting.plot_closure(comparison, c, reference="real"), f"generated_{c}")
    paths += save(_correlations(joint_real, w, joint_generated, joint_names), "generated_correlations")
    return numbers, paths


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
