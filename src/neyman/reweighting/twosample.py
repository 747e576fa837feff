"""The classifier two-sample test: can a fresh classifier still tell two weighted samples apart?"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics import roc_auc
from neyman.metrics.inputs import float_array, weights
from neyman.seeding import rng

__all__ = ["FOLDS", "MIN_EVENTS", "MIN_EVENTS_PER_FOLD", "two_sample_auc"]


def _row_folds(x: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold of each row from a hash of its values: equal rows (in either sample) share a fold."""
    import pandas as pd

    key = f"neyman{seed:010d}"[-16:]
    hashed = pd.util.hash_pandas_object(pd.DataFrame(x), index=False, hash_key=key).to_numpy()
    # the combined row hash's low bits can be constant (rows of 0/1 values): fold on the high bits of a
    # multiplicative mix (Fibonacci hashing) instead
    with np.errstate(over="ignore"):
        mixed = hashed * np.uint64(0x9E3779B97F4A7C15)
    return np.asarray((mixed >> np.uint64(32)) % np.uint64(folds), dtype=np.int64)


MIN_EVENTS_PER_FOLD = 10
"""Events of each sample per fold the two-sample test needs (its classifier holds 10% out to stop)."""
FOLDS = 2
"""The test's folds unless told otherwise."""
MIN_EVENTS = MIN_EVENTS_PER_FOLD * FOLDS
"""Events of each sample the test needs with its default folds."""


def two_sample_auc(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    a_weight: npt.ArrayLike | None = None,
    b_weight: npt.ArrayLike | None = None,
    *,
    folds: int = FOLDS,
    max_events: int = 200_000,
    seed: int = 0,
) -> float:
    """Out-of-fold AUC of a boosted classifier separating sample ``b`` from sample ``a``.

    Parameters
    ----------
    a, b
        Feature matrices with the same columns (e.g. reweighted source and target).
    a_weight, b_weight
        Event weights (the reweighted source's are event weight × reweighting weight).
    folds
        The classifier of fold ``k`` trains on the other folds and scores fold ``k``.
    max_events
        At most this many events of each sample are used (a random subset).
    seed
        Seed of the subset, the folds and the classifier.

    Returns
    -------
    float
        The weighted AUC of the out-of-fold scores: 0.5 when the two weighted
        samples cannot be told apart, larger the more they differ.

    Notes
    -----
    Each fold's classifier (scikit-learn's histogram gradient boosting) is trained
    with the two samples at equal total weight.  Folds follow a hash of each event's
    values, so an event present in both samples is never trained on with one label
    and scored with the other (which would push the AUC below 0.5); negative weights enter the AUC but
    are set to zero in the training. For identical distributions the AUC scatters
    around 0.5 by about ``√((n_a + n_b) / (12 n_a n_b))``.  Each sample needs
    ``MIN_EVENTS_PER_FOLD`` events per fold.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    xa, xb = float_array(a, "a", ndim=2, allow_inf=True), float_array(b, "b", ndim=2, allow_inf=True)
    if xa.shape[1] != xb.shape[1]:
        raise DataError(f"the two samples have {xa.shape[1]} and {xb.shape[1]} features; give both the same columns")
    wa, wb = weights(a_weight, len(xa), reference="a"), weights(b_weight, len(xb), reference="b")
    gen = rng(seed, "two-sample")
    keep_a = gen.permutation(len(xa))[:max_events]
    keep_b = gen.permutation(len(xb))[:max_events]
    if min(len(keep_a), len(keep_b)) < MIN_EVENTS_PER_FOLD * folds:
        raise DataError(
            f"the classifier two-sample test needs at least {MIN_EVENTS_PER_FOLD * folds} events in each sample "
            f"({MIN_EVENTS_PER_FOLD} per fold); the samples hold {len(keep_a)} and {len(keep_b)}"
        )
    x = np.concatenate([xa[keep_a], xb[keep_b]])
    y = np.concatenate([np.zeros(len(keep_a)), np.ones(len(keep_b))])
    w = np.concatenate([wa[keep_a], wb[keep_b]])
    fold = _row_folds(x, folds, seed)
    scores = np.empty(len(x))
    for k in range(folds):
        train = fold != k
        fit_w = np.maximum(w[train], 0.0)
        for cls in (0, 1):
            sel = y[train] == cls
            total = fit_w[sel].sum()
            if not total > 0:
                raise DataError("a sample of the two-sample test has no positive weight in a fold")
            fit_w[sel] *= 0.5 * len(fit_w) / total
        clf = HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=seed + k)
        clf.fit(x[train], y[train], sample_weight=fit_w)
        scores[~train] = clf.predict_proba(x[~train])[:, 1]
    return float(roc_auc(scores, y, sample_weight=w))
