"""Drawing events from a trained run whose model is a distribution (a flow, a VAE, a jet-image generator)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from neyman.exceptions import DataError
from neyman.runs.trained import TrainedRun
from neyman.seeding import child_seed

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
    trained: TrainedRun, n: int, *, context: np.ndarray | None = None, seed: int = 0, step: int = 100_000
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

    Yields
    ------
    numpy.ndarray
        ``(size, len(drawn_columns))`` per chunk.

    Notes
    -----
    A k-fold run draws from the equal mixture of its fold models: chunk ``c`` from
    fold ``c mod k``.  A model that learned preprocessed inputs (a VAE) has its
    draws mapped back through the inverse of its fold's preprocessing.
    """
    for c, start in enumerate(range(0, n, step)):
        size = min(step, n - start)
        fold = c % len(trained.models)
        model = trained.models[fold]
        ctx = None if context is None else context[start : start + size]
        values = model.sample(size, context=ctx, seed=child_seed(seed, "sample", c))  # type: ignore[attr-defined]
        if not type(model).declaration.own_scaling:
            values = trained.preprocessors[fold].inverse_transform(values)  # type: ignore[attr-defined]
        yield np.asarray(values, dtype=np.float64)
