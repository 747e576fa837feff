"""Drawing from a k-fold run: the equal mixture of its folds, event by event, at each event's condition."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from neyman.runs.sampling import draw


class _FoldModel:
    """A 'density' of one point, its fold number (plus the condition): which fold drew an event shows."""

    declaration = SimpleNamespace(own_scaling=True)

    def __init__(self, fold: int) -> None:
        self.fold = fold

    def sample(self, n: int, *, context: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
        base = np.full((n, 1), float(self.fold))
        return base if context is None else base + context


def _run(k: int) -> SimpleNamespace:
    return SimpleNamespace(models=[_FoldModel(f) for f in range(k)], preprocessors=[None] * k)


def test_a_k_fold_run_draws_every_event_from_a_uniformly_chosen_fold():
    drawn = np.concatenate(list(draw(_run(3), 30_000, seed=4)))[:, 0]  # type: ignore[arg-type]
    shares = np.bincount(drawn.astype(int), minlength=3) / len(drawn)
    np.testing.assert_allclose(shares, 1 / 3, atol=0.01)  # fold 0 alone drew everything before
    again = np.concatenate(list(draw(_run(3), 30_000, seed=4, step=7_000)))[:, 0]  # type: ignore[arg-type]
    assert np.bincount(again.astype(int), minlength=3).min() > 9_000  # in every chunk size


def test_each_event_keeps_its_condition_and_a_given_fold():
    context = np.arange(1000, dtype=np.float64)[:, None] * 10
    drawn = np.concatenate(list(draw(_run(3), 1000, context=context, seed=1, step=300)))  # type: ignore[arg-type]
    assert set(np.unique(drawn - context)) == {0.0, 1.0, 2.0}
    folds = np.arange(1000) % 3
    given = np.concatenate(list(draw(_run(3), 1000, context=context, folds=folds)))  # type: ignore[arg-type]
    np.testing.assert_array_equal(given[:, 0] - context[:, 0], folds)
