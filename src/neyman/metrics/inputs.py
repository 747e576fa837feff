"""Checks shared by the metric functions: shapes, finiteness, labels and weights.

Every public metric turns its array-like arguments into NumPy arrays here, so the
messages a user sees for bad input are the same everywhere.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError

__all__ = [
    "binary_labels",
    "binary_sample",
    "check_length",
    "class_labels",
    "float_array",
    "integer_at_least",
    "positive_values",
    "probability_array",
    "read_only_array",
    "total_weight",
    "weights",
]


def float_array(values: npt.ArrayLike, name: str, *, ndim: int = 1, allow_inf: bool = False) -> np.ndarray:
    """Return ``values`` as a float64 array of ``ndim`` dimensions without NaN.

    Parameters
    ----------
    values
        The array-like to convert.
    name
        How the argument is called in error messages.
    ndim
        The number of dimensions required.
    allow_inf
        Whether ``±inf`` is accepted (it is for scores, e.g. a log-likelihood ratio).
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataError(f"{name} must be numeric: {err}") from err
    if array.ndim != ndim:
        raise DataError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    bad = np.isnan(array) if allow_inf else ~np.isfinite(array)
    if bad.any():
        kind = "NaN" if allow_inf else "NaN or infinite"
        first = int(np.flatnonzero(bad.ravel())[0])
        raise DataError(
            f"{name} contains {int(bad.sum())} {kind} value(s) (first at flat index {first}); "
            "remove or fix these events first"
        )
    return array


def check_length(array: np.ndarray, name: str, n: int, reference: str) -> None:
    """Raise DataError unless ``array`` has ``n`` entries, the length of ``reference``.

    Parameters
    ----------
    array
        The array to check.
    name
        How it is called in the message.
    n
        The required length.
    reference
        The name of the argument whose length ``n`` is.
    """
    if len(array) != n:
        raise DataError(f"{name} has {len(array)} entries but {reference} has {n}; they must match")


def probability_array(values: npt.ArrayLike, *, ndim: int = 1, activation: str = "sigmoid") -> np.ndarray:
    """Return ``values`` as a float64 array of probabilities in ``[0, 1]`` (see :func:`float_array`).

    Parameters
    ----------
    values
        The array-like to convert, called ``probabilities`` in messages.
    ndim
        The number of dimensions required.
    activation
        What turns a classifier's logits into probabilities, named in the message.
    """
    p = float_array(values, "probabilities", ndim=ndim)
    if p.size and (p.min() < 0.0 or p.max() > 1.0):
        raise DataError(
            f"probabilities must lie in [0, 1], found values in [{p.min():g}, {p.max():g}]; "
            f"pass probabilities, not logits (apply the {activation} first)"
        )
    return p


def weights(sample_weight: npt.ArrayLike | None, n: int, *, reference: str = "scores") -> np.ndarray:
    """Return per-event weights: ones when ``sample_weight`` is None, else checked weights.

    Parameters
    ----------
    sample_weight
        Per-event weights (any sign) or None.
    n
        The number of events.
    reference
        The name of the argument whose length ``n`` is, for messages.
    """
    if sample_weight is None:
        return np.ones(n, dtype=np.float64)
    w = float_array(sample_weight, "sample_weight")
    check_length(w, "sample_weight", n, reference)
    return w


def binary_labels(labels: npt.ArrayLike, n: int, *, reference: str = "scores") -> np.ndarray:
    """Return ``labels`` as a boolean array (True = signal = 1), checking they are 0/1.

    Parameters
    ----------
    labels
        Truth labels, boolean or numeric 0 (background) / 1 (signal).
    n
        The number of events.
    reference
        The name of the argument whose length ``n`` is, for messages.
    """
    y = np.asarray(labels)
    if y.ndim != 1:
        raise DataError(f"labels must be 1-dimensional, got shape {y.shape}")
    check_length(y, "labels", n, reference)
    if y.dtype == np.bool_:
        return y
    if not np.issubdtype(y.dtype, np.number):
        raise DataError(f"labels must be 0/1 or boolean, got dtype {y.dtype}")
    is_one = y == 1
    bad = ~(is_one | (y == 0))
    if bad.any():
        found = np.unique(y[bad])[:5].tolist()
        raise DataError(
            f"binary labels must be 0 (background) or 1 (signal), found {found}; "
            "for more classes use the one-vs-rest labels (labels == k)"
        )
    return np.asarray(is_one)


def class_labels(labels: npt.ArrayLike, n: int, n_classes: int) -> np.ndarray:
    """Return ``labels`` as int64 class indices in ``[0, n_classes)``.

    Parameters
    ----------
    labels
        Integer class indices (integral floats are accepted).
    n
        The number of events.
    n_classes
        The number of probability columns.
    """
    y = np.asarray(labels)
    if y.ndim != 1:
        raise DataError(f"labels must be 1-dimensional, got shape {y.shape}")
    check_length(y, "labels", n, "probabilities")
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise DataError(f"labels must be integer class indices, got dtype {y.dtype}")
    as_int = y.astype(np.int64)
    bad = (as_int != y) | (as_int < 0) | (as_int >= n_classes)
    if bad.any():
        found = np.unique(y[bad])[:5].tolist()
        raise DataError(
            f"labels must be integer class indices in [0, {n_classes}) to match the "
            f"{n_classes} probability columns, found {found}"
        )
    return as_int


def total_weight(w: np.ndarray, what: str = "events") -> float:
    """Return ``Σ w``, raising DataError unless it is positive.

    Parameters
    ----------
    w
        Per-event weights.
    what
        What the events are, for messages (e.g. ``"background events"``).
    """
    if len(w) == 0:
        raise DataError(f"no {what}: the metric needs at least one event")
    total = float(np.sum(w))
    if not total > 0:
        raise DataError(
            f"the total weight of the {what} is {total:g}; it must be positive "
            "(check the sample_weight column and the selection)"
        )
    return total


def positive_values(values: npt.ArrayLike, name: str, n: int) -> np.ndarray:
    """``values`` as a float array of ``n`` strictly positive entries (e.g. predicted resolutions)."""
    array = float_array(values, name)
    check_length(array, name, n, "predictions")
    if (array <= 0).any():
        raise DataError(
            f"{name} must be positive, found {int(np.count_nonzero(array <= 0))} value(s) ≤ 0 "
            f"(smallest {float(array.min()):g})"
        )
    return array


def binary_sample(
    values: npt.ArrayLike,
    labels: npt.ArrayLike,
    sample_weight: npt.ArrayLike | None,
    *,
    name: str = "scores",
    allow_inf: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the values, boolean labels and weights of a binary-classification sample.

    Parameters
    ----------
    values
        Per-event values, e.g. classifier scores (:func:`float_array`).
    labels
        0/1 or boolean truth labels (:func:`binary_labels`).
    sample_weight
        Per-event weights or None (:func:`weights`).
    name
        How ``values`` is called in messages; the labels and weights must match its length.
    allow_inf
        Whether ``±inf`` values are accepted.
    """
    x = float_array(values, name, allow_inf=allow_inf)
    y = binary_labels(labels, len(x), reference=name)
    w = weights(sample_weight, len(x), reference=name)
    return x, y, w


def integer_at_least(value: int, name: str, minimum: int) -> int:
    """Return ``value`` as an int, raising DataError unless it is an integer ``≥ minimum``.

    Parameters
    ----------
    value
        The number to check; a bool is not accepted.
    name
        How the argument is called in the message.
    minimum
        The smallest value allowed; 1 asks for "a positive integer".
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
        raise DataError(f"{name} must be {wanted}, got {value!r}")
    return int(value)


def read_only_array(values: npt.ArrayLike, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
    """Return a read-only copy of ``values`` as an array of ``dtype`` (for frozen result types)."""
    array = np.array(values, dtype=dtype)
    array.setflags(write=False)
    return array
