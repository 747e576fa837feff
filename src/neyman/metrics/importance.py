"""Which inputs a trained classifier relies on: permutation importance and correlations.

Permutation importance asks the trained model, not its training procedure: it
shuffles one feature column across events, which keeps that feature's marginal
distribution but destroys its relation to the label and to the other features,
and measures how much a metric drops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.classification import roc_auc
from neyman.metrics.inputs import float_array, total_weight, weights

__all__ = ["Metric", "correlation_matrix", "permutation_importance"]

#: A metric of scores: ``metric(scores, labels, sample_weight) -> float``, larger is better.
Metric = Callable[[np.ndarray, np.ndarray, np.ndarray | None], float]


def _auc(scores: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None) -> float:
    return roc_auc(scores, labels, sample_weight=sample_weight)


def _predict(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    scores = np.asarray(predict(x), dtype=np.float64)
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.shape != (len(x),):
        raise DataError(
            f"predict must return one score per event, shape ({len(x)},), but returned shape {scores.shape}; "
            "wrap it to return the signal score (e.g. the column of class 1)"
        )
    return scores


def permutation_importance(
    predict: Callable[[np.ndarray], np.ndarray],
    x: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    metric: Metric | None = None,
    sample_weight: npt.ArrayLike | None = None,
    n_repeats: int = 3,
    seed: int = 0,
    feature_names: Sequence[str] | None = None,
) -> dict[str, tuple[float, float]]:
    """Drop of a metric when each feature is randomly permuted across events.

    Parameters
    ----------
    predict
        The trained model: maps features ``(n_events, n_features)`` to one score per
        event ``(n_events,)``.  Called once on the original features and once per
        feature and repeat.
    x
        Features, shape ``(n_events, n_features)``; ideally held-out events.  NaN
        (a missing value, for models that accept it) is allowed.
    labels
        Truth labels, passed to the metric unchanged, shape ``(n_events,)``.
    metric
        ``metric(scores, labels, sample_weight) -> float``, larger is better; the
        weighted AUC (:func:`~neyman.metrics.roc_auc`) when None.
    sample_weight
        Per-event weights, passed to the metric; None for unit weights.
    n_repeats
        Number of independent permutations per feature (at least 1).
    seed
        Seed of the generator of the permutations.
    feature_names
        One name per column; ``"x0", "x1", ...`` when None.

    Returns
    -------
    dict
        Feature name → ``(mean, std)`` of the importance over the repeats, in column
        order.

    Notes
    -----
    ``I_j = M(f(X), y) − M(f(X^{π_j}), y)`` where ``X^{π_j}`` is ``X`` with column ``j``
    permuted by a random permutation ``π``.  The mean and the standard deviation
    (``ddof=0``, as scikit-learn) are over ``n_repeats`` permutations.  A feature
    the model ignores has ``I = 0``; correlated features share their importance, so
    each can look unimportant while both together matter.
    """
    try:
        # NaN is kept: tree models read it as "missing", and permuting moves it along.
        features = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataError(f"x must be numeric: {err}") from err
    if features.ndim != 2:
        raise DataError(f"x must be 2-dimensional (n_events, n_features), got shape {features.shape}")
    n, n_features = features.shape
    y = np.asarray(labels)
    if y.shape != (n,):
        raise DataError(f"labels must have shape ({n},) to match x, got {y.shape}")
    w = None if sample_weight is None else weights(sample_weight, n, reference="x")
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, (int, np.integer)) or n_repeats < 1:
        raise DataError(f"n_repeats must be a positive integer, got {n_repeats!r}")
    if feature_names is None:
        names = [f"x{j}" for j in range(n_features)]
    else:
        names = [str(name) for name in feature_names]
        if len(names) != n_features:
            raise DataError(f"feature_names has {len(names)} names but x has {n_features} columns")
        if len(set(names)) != len(names):
            raise DataError(f"feature_names must be unique, got {names}")
    score = _auc if metric is None else metric
    baseline = float(score(_predict(predict, features), y, w))
    rng = np.random.default_rng(seed)
    drops = np.empty((n_features, int(n_repeats)), dtype=np.float64)
    # One working copy; each column is permuted in place and restored afterwards.
    work = features.copy()
    for repeat in range(int(n_repeats)):
        for j in range(n_features):
            work[:, j] = features[rng.permutation(n), j]
            drops[j, repeat] = baseline - float(score(_predict(predict, work), y, w))
            work[:, j] = features[:, j]
    return {name: (float(d.mean()), float(d.std())) for name, d in zip(names, drops, strict=True)}


def correlation_matrix(x: npt.ArrayLike, *, sample_weight: npt.ArrayLike | None = None) -> np.ndarray:
    """Weighted Pearson correlation coefficients between the columns of ``x``.

    Parameters
    ----------
    x
        Features, shape ``(n_events, n_features)``.
    sample_weight
        Per-event weights of either sign; unit weights when None.  Their sum must
        be positive.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_features, n_features)``, symmetric, ones on the diagonal; NaN in
        the rows and columns of features with zero (or, with negative weights,
        negative) weighted variance.

    Notes
    -----
    With ``W = Σ_i w_i``, ``μ_a = Σ_i w_i x_ia / W`` and
    ``C_ab = Σ_i w_i (x_ia − μ_a)(x_ib − μ_b) / W``,
    ``ρ_ab = C_ab / √(C_aa C_bb)``.  Unweighted this is ``numpy.corrcoef(x.T)``.  For
    non-negative weights the result is clipped to ``[−1, 1]`` against rounding.
    """
    features = float_array(x, "x", ndim=2)
    w = weights(sample_weight, len(features), reference="x")
    total = total_weight(w)
    centred = features - (w @ features) / total
    covariance = (centred * w[:, None]).T @ centred / total
    variance = np.diag(covariance).copy()
    scale = np.sqrt(np.where(variance > 0, variance, np.nan))
    correlation = covariance / np.outer(scale, scale)
    defined = variance > 0
    np.fill_diagonal(correlation, np.where(defined, 1.0, np.nan))
    if (w >= 0).all():
        correlation = np.clip(correlation, -1.0, 1.0)
    return np.asarray(correlation)
