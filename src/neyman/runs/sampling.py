"""Drawing events from a trained run whose model is a distribution (a flow, a VAE, a jet-image generator)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from neyman.exceptions import DataError
from neyman.runs.trained import TrainedRun
from neyman.seeding import child_seed, rng

__all__ = ["check_drawable", "condition_columns", "draw", "drawn_columns"]


def check_drawable(trained: TrainedRun) -> None:
    """Refuse a run whose model has no distribution to draw from.

    Raises
    ------
    DataError
        A classifier or regression, or a plain (not variational) autoencoder.
    """
    model = trained.models[0]
    if not hasattr(model, "sample"):
        raise DataError(
            f"{trained.path} is a run of task {trained.task.name!r} with model {model.family!r}, which has no "
            "distribution to draw from; neyman sample draws from a density run (task: density), a dense variational "
            "autoencoder (model.type: autoencoder, variational: true) or a jet-image generator (task: generator)"
        )
    if not getattr(model, "can_sample", False):
        raise DataError(
            f"{trained.path} is a plain autoencoder: its latent space has no prior to draw from; train a VAE "
            "(model.variational: true) to sample"
        )


def condition_columns(trained: TrainedRun) -> list[str]:
    """The columns a conditional density is conditioned on (empty for an unconditional one)."""
    return list(getattr(trained.models[0].params, "condition", []))


def drawn_columns(trained: TrainedRun) -> list[str]:
    """The columns a draw gives, in order: the modelled variables."""
    return list(trained.models[0].sampled_columns)  # type: ignore[attr-defined]


def draw(
    trained: TrainedRun,
    n: int,
    *,
    context: np.ndarray | None = None,
    seed: int = 0,
    step: int = 100_000,
    folds: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """Draw ``n`` events chunk by chunk, in physical units.

    Parameters
    ----------
    trained
        A run that :func:`check_drawable` accepts.
    n
        Events to draw.
    context
        ``(n, len(condition_columns))`` condition values of a conditional density.
    seed
        Seed of the draw; chunk ``c`` draws with a seed derived from it and ``c``.
    step
        Events per chunk.
    folds
        ``(n,)`` the fold whose model draws each event, for a k-fold run (default:
        drawn uniformly).  Comparing draws with real test events, the fold that
        never saw each event gives a comparison free of training events.

    Yields
    ------
    numpy.ndarray
        ``(size, len(drawn_columns))`` per chunk.

    Notes
    -----
    A k-fold run draws from the equal mixture of its fold models, the density
    that ``predict`` reports (``ln (1/k) Σ_f p_f(x)``): every event's fold is drawn
    uniformly, then each fold model draws its events (at their conditions).  A model
    that learned preprocessed inputs (a VAE) has its draws mapped back through the
    inverse of its fold's preprocessing.
    """
    k = len(trained.models)
    for c, start in enumerate(range(0, n, step)):
        size = min(step, n - start)
        ctx = None if context is None else context[start : start + size]
        if k == 1:
            yield _fold_draw(trained, 0, size, ctx, child_seed(seed, "sample", c))
            continue
        chosen = rng(seed, "sample-fold", c).integers(0, k, size) if folds is None else folds[start : start + size]
        out: np.ndarray | None = None
        for fold in range(k):
            mine = chosen == fold
            if not mine.any():
                continue
            part_ctx = None if ctx is None else ctx[mine]
            values = _fold_draw(trained, fold, int(mine.sum()), part_ctx, child_seed(seed, "sample", c, fold))
            if out is None:
                out = np.empty((size, *values.shape[1:]), dtype=np.float64)
            out[mine] = values
        assert out is not None
        yield out


def _fold_draw(trained: TrainedRun, fold: int, size: int, context: np.ndarray | None, seed: int) -> np.ndarray:
    """``size`` events drawn by fold ``fold``'s model, in physical units."""
    model = trained.models[fold]
    values = model.sample(size, context=context, seed=seed)  # type: ignore[attr-defined]
    if not type(model).declaration.own_scaling:
        values = np.array(trained.preprocessors[fold].inverse_transform(values), dtype=np.float64)  # type: ignore[attr-defined]
        # a column constant in training has no scale to invert: a VAE's decoder output of +-1 came back as the
        # constant +-1.7, and +-3 as 22 or -16
        ranges = trained.feature_ranges or {}
        if values.ndim == 2 and values.shape[1] == len(trained.features):
            for j, name in enumerate(trained.features):
                low, _, high = ranges.get(name, (0.0, 0.0, 1.0))
                if low == high:
                    values[:, j] = low
    return np.asarray(values, dtype=np.float64)
