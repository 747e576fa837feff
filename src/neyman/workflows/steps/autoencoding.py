"""What an autoencoder learned: its latent space and, on jet images, its reconstructions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from neyman.exceptions import ModelError
from neyman.preprocessing import TEST
from neyman.runs import TrainedRun
from neyman.runs.inputs import as_model_input
from neyman.table import Table
from neyman.tasks import ScoredEvents
from neyman.workflows.steps.data import events_in_order

__all__ = ["autoencoder_views"]

MAX_EVENTS = 5000
"""Test events per class whose latent codes are drawn."""
EXAMPLES = 3
"""Reconstructed images drawn per class."""


def autoencoder_views(
    trained: TrainedRun,
    table: Table | None,
    scored: ScoredEvents,
    *,
    read: Callable[[], Table] | None,
    seed: int,
    save: Callable[[Any, str], list[Path]],
) -> list[Path]:
    """The latent-space figure of an autoencoder run's test events, and reconstructed examples of images.

    Each event is encoded by the model that scored it (its fold's model in a k-fold
    run).  The examples are, per class, the test images at the 50th, 90th and 99th
    percentiles of that class's anomaly score.  ``table`` holds the scored events
    in the order of ``scored``; without it (a run's own test split of jets) ``read``
    gives the run's events, matched to ``scored`` by event id (``None``: a streamed
    run, whose events are not read whole again).  Runs of other models and
    ensembles (no single latent space) draw nothing.
    """
    from neyman.plotting.anomaly import plot_latent_space, plot_reconstructions

    if trained.task.name != "autoencoder" or (table is None and read is None):
        return []
    labels = np.asarray(scored.truth).astype(np.int64)
    rng = np.random.default_rng(seed)
    chosen = []
    for k in np.unique(labels):
        index = np.flatnonzero((scored.split == TEST) & (labels == k))
        chosen.append(np.sort(rng.choice(index, min(len(index), MAX_EVENTS), replace=False)))
    index = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
    if not len(index):
        return []
    events = events_in_order(table, read, scored.event_id)
    try:
        codes, _ = _by_model(trained, events.take(index), scored.fold[index], "encode")
    except ModelError:
        return []
    classes = tuple(trained.classes) or ("background", "signal")
    paths = save(plot_latent_space(codes, labels[index], classes), "latent_space")
    if trained.representation is None or trained.representation.to_json().get("type") != "image":
        return paths
    scores = np.asarray(scored.scores, dtype=np.float64).reshape(len(labels), -1)[:, 0]
    examples = []
    for k in np.unique(labels[index]):
        members = index[labels[index] == k]
        order = members[np.argsort(scores[members])]
        examples += [order[min(int(q * len(order)), len(order) - 1)] for q in (0.5, 0.9, 0.99)][:EXAMPLES]
    picked = np.asarray(examples)
    rebuilt, images = _by_model(trained, events.take(picked), scored.fold[picked], "reconstruct")
    figure = plot_reconstructions(images, rebuilt, labels[picked], scores[picked], classes)
    return paths + save(figure, "reconstructions")


def _by_model(trained: TrainedRun, events: Table, folds: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """``model.<method>`` of the preprocessed inputs of ``events``, each by the model that scored it.

    Returns the outputs and the preprocessed inputs (images; zeros for other inputs), in order.
    """
    outputs: list[np.ndarray] = []
    inputs: list[np.ndarray] = []
    order: list[np.ndarray] = []
    for k, (model, prep) in enumerate(zip(trained.models, trained.preprocessors, strict=True)):
        sel = np.flatnonzero(folds == k) if len(trained.models) > 1 else np.arange(len(events))
        if not len(sel):
            continue
        x = as_model_input(prep.transform(trained.inputs(events.take(sel))))
        outputs.append(getattr(model, method)(x))
        inputs.append(np.asarray(x) if isinstance(x, np.ndarray) else np.zeros(len(sel)))
        order.append(sel)
    back = np.argsort(np.concatenate(order))
    return np.concatenate(outputs)[back], np.concatenate(inputs)[back]
