"""Per-event weights: read them, check them, and balance classes.

Monte Carlo weights may be negative (NLO generators produce negative-weight events
that cancel positive ones).  Nothing here takes absolute values: classes are
rescaled by their *sum* of weights, so every event keeps its sign and every
distribution keeps its shape.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from neyman.exceptions import ConfigError, DataError
from neyman.preprocessing.selection import missing_column
from neyman.table import Table

__all__ = [
    "balance_classes",
    "bootstrap_counts",
    "check_weights",
    "event_weights",
    "planing_weights",
    "unit_mean_weights",
]

FloatArray = npt.NDArray[np.float64]


def event_weights(table: Table, *, weight_column: str | None = None, scale: float = 1.0) -> FloatArray:
    """Return the per-event weights of a table.

    Parameters
    ----------
    table
        The events.
    weight_column
        Column holding the weights; ``None`` gives every event weight 1.
    scale
        Factor applied to every weight (e.g. cross-section × luminosity / N).

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(len(table),)``: ``table[weight_column] * scale``.

    Raises
    ------
    DataError
        The column is missing (with close matches) or holds NaN or ±inf.
    ConfigError
        ``scale`` is not a finite number.
    """
    if not isinstance(scale, (int, float)) or not math.isfinite(scale):
        raise ConfigError(f"the weight scale must be a finite number, got {scale!r}")
    where = f" in {table.source}" if table.source else ""
    if weight_column is None:
        return np.full(len(table), float(scale))
    if weight_column not in table:
        raise missing_column(table, weight_column, "no weight column")
    values = table[weight_column]
    if not isinstance(values, np.ndarray) or values.ndim != 1:
        raise DataError(f"weight column {weight_column!r}{where} is not a flat numeric column")
    weights = values.astype(np.float64) * float(scale)
    finite = np.isfinite(weights)
    if not finite.all():
        bad = ~finite
        raise DataError(
            f"weight column {weight_column!r}{where} has {int(bad.sum())} non-finite entries "
            f"(the first in row {int(np.flatnonzero(bad)[0]) + 1}, counted from 1); fix the weights or select the "
            f"events with a cut such as 'isfinite({weight_column})'"
        )
    return weights


def _as_weights(weights: npt.ArrayLike) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        raise DataError(f"weights must have shape (n_events,), got shape {w.shape}")
    if not np.isfinite(w).all():
        raise DataError(f"weights hold {int((~np.isfinite(w)).sum())} non-finite entries")
    return w


def _as_labels(labels: npt.ArrayLike, n_events: int) -> npt.NDArray[np.int64]:
    raw = np.asarray(labels)
    if raw.shape != (n_events,):
        raise DataError(f"labels have shape {raw.shape} but the weights have ({n_events},)")
    if not (np.issubdtype(raw.dtype, np.integer) or np.issubdtype(raw.dtype, np.floating)):
        raise DataError(f"labels must be integer class indices, got {raw.dtype}")
    as_int = raw.astype(np.int64) if np.isfinite(raw).all() else None
    if as_int is None or not np.array_equal(as_int, raw) or (as_int < 0).any():
        raise DataError("labels must be non-negative integer class indices 0, 1, ...")
    return as_int


def _class_sums(labels: npt.NDArray[np.int64], weights: FloatArray, n_classes: int) -> FloatArray:
    return np.bincount(labels, weights=weights, minlength=n_classes).astype(np.float64)


def balance_classes(labels: npt.ArrayLike, weights: npt.ArrayLike, *, n_classes: int | None = None) -> FloatArray:
    """Rescale the weights so that every class carries the same total weight.

    Parameters
    ----------
    labels
        Integer class index of each event, shape ``(n_events,)``.
    weights
        Per-event weights, shape ``(n_events,)``; negative weights are allowed.
    n_classes
        Number of classes; by default ``max(labels) + 1``.  A class without events
        then has a sum of 0, which is an error.

    Returns
    -------
    numpy.ndarray
        The rescaled weights (a new float64 array).

    Raises
    ------
    DataError
        A class has a sum of weights that is not positive (the message names it and
        its sum), or labels are not class indices below ``n_classes``.

    Notes
    -----
    With :math:`K` classes, class sums :math:`W_c = \\sum_{i \\in c} w_i` and total
    :math:`W = \\sum_c W_c`, each event of class :math:`c` gets

    .. math:: w_i' = w_i \\, \\frac{W / K}{W_c},

    so :math:`\\sum_{i \\in c} w_i' = W / K` for every class and the total is unchanged.
    The factor is positive (every :math:`W_c > 0` is required), so negative-weight
    events stay negative and the shape of each class's distribution is unchanged.
    """
    w = _as_weights(weights)
    y = _as_labels(labels, w.shape[0])
    if n_classes is None:
        if y.size == 0:
            raise DataError("cannot balance classes of zero events")
        n_classes = int(y.max()) + 1
    elif y.size and int(y.max()) >= n_classes:
        raise DataError(f"label {int(y.max())} found but n_classes = {n_classes}")
    sums = _class_sums(y, w, n_classes)
    _check_class_sums(sums, np.arange(n_classes))
    target = float(sums.sum()) / n_classes
    factors = target / sums
    return w * factors[y]


PLANING_MAX_FACTOR = 50.0
"""Largest factor by which planing may raise an event's weight over its class's median factor."""


def planing_weights(
    variable: npt.ArrayLike,
    labels: npt.ArrayLike,
    weights: npt.ArrayLike,
    *,
    bins: int = 20,
    edges: npt.ArrayLike | None = None,
) -> FloatArray:
    """Weights that make every class's distribution of ``variable`` flat (planing).

    Parameters
    ----------
    variable
        The variable to plane in (the jet mass), ``(n_events,)``.
    labels
        Integer class index of each event.
    weights
        Per-event weights (negative ones allowed; each bin's total must be positive).
    bins
        Equal bins between the 0.5% and 99.5% quantiles of ``variable`` (events
        outside fall into the outer bins); ignored when ``edges`` is given.
    edges
        Bin edges to use (e.g. those fitted on the training split, for the validation split).

    Returns
    -------
    numpy.ndarray
        The planed weights; each class keeps its total weight.

    Raises
    ------
    DataError
        Non-finite values of the variable.

    Notes
    -----
    With :math:`W_{cb}` the weight of class :math:`c` in bin :math:`b` of
    :math:`B` bins and :math:`W_c` the class total, an event of class :math:`c`
    in bin :math:`b` gets

    .. math:: w_i' = w_i \\, \\frac{W_c / B}{W_{cb}},

    so each class puts equal weight in every bin and the variable carries no
    information about the class (Dolen et al., arXiv:1603.00027).  Bins whose total
    is not positive keep their weights; factors above 50 times the class's median
    factor are capped there, so a sparsely populated tail cannot dominate the
    training.

    Planing removes the variable's information only where both classes have
    events: a narrow signal (one resonance mass) leaves the background alone
    outside its window, the tagger learns to reject that region, and the cut
    sculpts the background towards the window.  Plane a signal generated over a
    range of masses (as Dolen et al. do), or use an in-training method (``disco``,
    ``adversary``).
    """
    z = np.asarray(variable, dtype=np.float64)
    w = _as_weights(weights)
    y = _as_labels(labels, w.shape[0])
    if z.shape != w.shape:
        raise DataError(f"planing: {len(z)} values of the variable for {len(w)} weights")
    if not np.all(np.isfinite(z)):
        raise DataError("planing: the variable holds missing or infinite values; select the events that have it")
    if edges is None:
        low, high = np.quantile(z, [0.005, 0.995]) if len(z) else (0.0, 1.0)
        edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    e = np.asarray(edges, dtype=np.float64)
    index = np.clip(np.searchsorted(e, z, side="right") - 1, 0, len(e) - 2)
    out = w.copy()
    for c in np.unique(y):
        sel = y == c
        content = np.bincount(index[sel], weights=w[sel], minlength=len(e) - 1)
        total = float(content.sum())
        factor = np.ones(len(content))
        good = content > 0
        factor[good] = total / good.sum() / content[good]
        median = float(np.median(factor[good])) if good.any() else 1.0
        factor = np.minimum(factor, PLANING_MAX_FACTOR * median)
        planed = w[sel] * factor[index[sel]]
        out[sel] = planed * (total / planed.sum()) if planed.sum() > 0 else planed
    return out


def _check_class_sums(sums: FloatArray, classes: npt.ArrayLike) -> None:
    bad = [(int(c), float(sums[c])) for c in np.asarray(classes) if not sums[c] > 0]
    if bad:
        details = ", ".join(f"class {c} has {s:g}" for c, s in bad)
        raise DataError(
            f"every class needs a positive sum of weights: {details}; check the labels, the "
            "sample assignment and the weight column (many negative-weight events?)"
        )


def check_weights(weights: npt.ArrayLike, labels: npt.ArrayLike | None = None) -> None:
    """Check that weights can be used for training and evaluation.

    Parameters
    ----------
    weights
        Per-event weights, shape ``(n_events,)``.
    labels
        Optional integer class indices; then every class present must have a
        positive sum of weights too.

    Raises
    ------
    DataError
        Non-finite weights, weights whose sum overflows, a total weight :math:`\\sum_i w_i \\le 0`, or a class
        :math:`c` with :math:`\\sum_{i \\in c} w_i \\le 0` (named in the message).
    """
    w = _as_weights(weights)
    with np.errstate(over="ignore"):
        total, magnitude = float(w.sum()), float(np.abs(w).sum())
    if not np.isfinite(magnitude):
        raise DataError(
            f"the weights of {w.shape[0]} events sum to more than float64 holds (the largest |w| is "
            f"{float(np.max(np.abs(w))):.3g}); divide them by a constant (training and metrics use only their "
            "ratios)"
        )
    if not total > 0:
        raise DataError(f"the total weight of {w.shape[0]} events is {total:g}; it must be positive")
    if labels is None:
        return
    y = _as_labels(labels, w.shape[0])
    present = np.unique(y)
    sums = _class_sums(y, w, int(present.max()) + 1 if present.size else 0)
    _check_class_sums(sums, present)


_POISSON_ONE_CDF = np.cumsum([math.exp(-1.0) / math.factorial(k) for k in range(20)])
"""The cumulative distribution of a Poisson count of mean 1 (the tail beyond 19 is below 1e-18)."""


def bootstrap_counts(seed: int, source: int, entries: npt.ArrayLike) -> FloatArray:
    """Poisson(1) counts of a bootstrap replica, one per event, fixed by ``(seed, source, entry)``.

    Parameters
    ----------
    seed
        The replica (any integer ≥ 0): different seeds give independent replicas.
    source
        The index of the event's source (file) in the run's configuration.
    entries
        The events' entry numbers in their file.

    Returns
    -------
    numpy.ndarray
        float64 counts 0, 1, 2, … with mean and variance 1.

    Notes
    -----
    A Poisson bootstrap: each event's weight is multiplied by an independent count
    :math:`k \\sim \\mathrm{Poisson}(1)`, which resamples the sample with replacement
    when it is large (Efron's bootstrap with a Poisson-distributed sample size).
    The count is the inverse Poisson CDF at :math:`u = \\mathrm{mix}(s, j, i) / 2^{64}`,
    a 64-bit hash (splitmix64's finaliser) of the seed, source and entry, so an
    event has the same count however the file is read in chunks.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"the bootstrap seed must be an integer >= 0, got {seed!r}")
    x = np.asarray(entries, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        x ^= np.uint64((int(seed) * 0x9E3779B97F4A7C15 + int(source) * 0xBF58476D1CE4E5B9) % 2**64)
        for _ in range(2):
            x += np.uint64(0x9E3779B97F4A7C15)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            x ^= x >> np.uint64(31)
    u = (x >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.searchsorted(_POISSON_ONE_CDF, u, side="right").astype(np.float64)


def unit_mean_weights(w: FloatArray) -> FloatArray:
    """The training weights scaled to a mean magnitude of one.

    The streamed training divides by the mean weight instead, which is the same for
    non-negative weights; with negative ones the mean magnitude cannot come near zero.

    Notes
    -----
    :math:`w_i' = w_i \\, n / \\sum_j |w_j|`.  Only the weights' ratios carry information,
    but their scale does not cancel everywhere: XGBoost compares the summed Hessian
    ``Σ w p(1 − p)`` of a leaf with ``min_child_weight`` (5), so cross-section weights of
    0.01 per event left every tree without a split (test AUC 0.500), weights of 1e-300
    stopped it, and 1e300 overflowed its float32.
    """
    largest = float(np.max(np.abs(w))) if len(w) else 0.0
    if not (np.isfinite(largest) and largest > 0):
        return w
    relative = w / largest  # in [-1, 1]: the sum cannot overflow
    return np.asarray(relative * (len(w) / float(np.sum(np.abs(relative)))), dtype=np.float64)
