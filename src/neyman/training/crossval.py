"""Out-of-fold scoring: every event scored by a model that never saw it (as ``cross_val_predict``).

The fitting itself is the caller's: :func:`cross_val_predict` decides which
events each fit trains on, validates on and scores, calls the fit once per fold
(or once without k-fold) and assembles the scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neyman.preprocessing import TEST, assign_folds, assign_splits, split_train_val

__all__ = ["FitFold", "OutOfFold", "cross_val_predict"]

FitFold = Callable[[int, np.ndarray], np.ndarray]
"""``fit(fold, codes) -> scores``: train on the events whose code is ``TRAIN`` (early
stopping on ``VAL``) and return the scores of every event."""


@dataclass(frozen=True)
class OutOfFold:
    """Scores of every event with the split and fold they were scored in.

    Attributes
    ----------
    scores
        ``(n_events, ...)``: with k-fold, each event's score from the model of its
        fold; otherwise the one model's scores.
    split
        Split code of each event (``TRAIN``/``VAL``/``TEST``; every event is ``TEST``
        with k-fold, since every score is out-of-fold).
    fold
        Fold of each event (-1 without k-fold).
    kfold
        Number of folds (0 without k-fold).
    """

    scores: np.ndarray
    split: np.ndarray
    fold: np.ndarray
    kfold: int

    def fold_events(self) -> list[np.ndarray]:
        """The event mask of each fold (empty without k-fold)."""
        return [self.fold == f for f in range(self.kfold)]


def cross_val_predict(
    fit: FitFold,
    event_id: np.ndarray,
    *,
    kfold: int = 0,
    method: str = "fraction",
    train: float = 0.6,
    val: float = 0.2,
    test: float = 0.2,
    seed: int = 0,
    held_out: np.ndarray | None = None,
) -> OutOfFold:
    """Split the events, fit once per fold and return every event's out-of-fold score.

    Parameters
    ----------
    fit
        Trains on the events coded ``TRAIN`` (``VAL`` for early stopping) and
        returns the scores of all events.
    event_id
        Event numbers: fold ``f`` holds the events with ``event_id mod k = f``; parity
        splits use them too.
    kfold
        Number of folds; below 2, one fit on a train/validation/test split.
    method, train, val, test
        The split without k-fold (:func:`~neyman.preprocessing.assign_splits`); with
        k-fold, the validation fraction of the training folds is ``val / (train + val)``.
    seed
        Seed of the random splits.
    held_out
        Events of external test files (a boolean mask; without k-fold): they are
        the test split and all other events train but a ``val`` fraction.

    Notes
    -----
    With k-fold the model of fold ``f`` is trained on the other folds, so the
    score ``s_i`` of event ``i`` in fold ``f(i)`` comes from a model that did not
    see it: ``s_i = m_{f(i)}(x_i)``.
    """
    eid = np.asarray(event_id)
    n = len(eid)
    if kfold < 2:
        codes = assign_splits(eid, method=method, train=train, val=val, test=test, seed=seed, held_out=held_out)
        return OutOfFold(fit(0, codes), codes, np.full(n, -1, dtype=np.int64), 0)
    folds = assign_folds(eid, kfold)
    val_fraction = val / (train + val)
    scores: np.ndarray | None = None
    for f in range(kfold):
        codes = split_train_val(n, val_fraction, seed=seed, stream=f"fold-{f}")
        codes[folds == f] = TEST
        s = fit(f, codes)
        if scores is None:
            scores = np.empty((n, *s.shape[1:]))
        scores[folds == f] = s[folds == f]
    assert scores is not None
    return OutOfFold(scores, np.full(n, TEST, dtype=np.int8), folds, kfold)
