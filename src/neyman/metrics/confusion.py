"""Weighted confusion matrices and the score cut of a working point.

Rows are the true classes and columns the predicted ones, as in
scikit-learn, so a binary matrix reads ``[[TN, FP], [FN, TP]]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.inputs import (
    binary_sample,
    class_labels,
    float_array,
    integer_at_least,
    read_only_array,
    total_weight,
    weights,
)

__all__ = ["ConfusionMatrix", "confusion_matrix", "multiclass_confusion", "threshold_at_efficiency"]

# Relative slack when comparing a cumulative weight with ``efficiency × total``,
# so that e.g. 3 of 10 unit-weight events reach an efficiency of 0.3 although
# 0.3 × 10 rounds above 3 in binary floating point.
_ROUNDING = 1e-12


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator != 0 else math.nan


@dataclass(frozen=True, eq=False)
class ConfusionMatrix:
    """Weighted and unweighted counts of true class (rows) versus predicted class (columns).

    Attributes
    ----------
    matrix
        ``matrix[i, j]`` = sum of the weights of events of true class ``i`` predicted
        as class ``j``, shape ``(n_classes, n_classes)``.
    counts
        The same with unit weights (number of events), int64.
    class_names
        One name per class, in index order.
    threshold
        The cut ``score >= threshold`` that defines "predicted signal" for a binary
        matrix; None for a multi-class (argmax) matrix.

    Notes
    -----
    For a binary matrix ``[[TN, FP], [FN, TP]]`` (class 1 = signal = positive):
    sensitivity ``TP / (TP + FN)`` (the signal efficiency), specificity
    ``TN / (TN + FP)`` (one minus the background efficiency), purity
    ``TP / (TP + FP)`` (precision) and, for any number of classes,
    accuracy ``Σ_i matrix[i, i] / Σ_ij matrix[i, j]``.  A ratio with a zero
    denominator is NaN.  The arrays are read-only.
    """

    matrix: np.ndarray
    counts: np.ndarray
    class_names: tuple[str, ...]
    threshold: float | None = None

    def __post_init__(self) -> None:
        matrix = read_only_array(self.matrix)
        counts = read_only_array(self.counts, np.int64)
        k = len(self.class_names)
        for name, array in (("matrix", matrix), ("counts", counts)):
            if array.shape != (k, k):
                raise DataError(
                    f"ConfusionMatrix.{name} must have shape ({k}, {k}) for {k} class names, got {array.shape}"
                )
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))

    @property
    def n_classes(self) -> int:
        """The number of classes."""
        return len(self.class_names)

    def _binary(self, what: str) -> np.ndarray:
        if self.n_classes != 2:
            raise DataError(
                f"{what} is defined for a binary confusion matrix; this one has {self.n_classes} classes "
                "(use the one-vs-rest labels, or read the matrix directly)"
            )
        return self.matrix

    @property
    def sensitivity(self) -> float:
        """``TP / (TP + FN)``: the weighted signal efficiency (recall)."""
        m = self._binary("sensitivity")
        return _ratio(float(m[1, 1]), float(m[1, 0] + m[1, 1]))

    @property
    def specificity(self) -> float:
        """``TN / (TN + FP)``: the weighted fraction of background rejected."""
        m = self._binary("specificity")
        return _ratio(float(m[0, 0]), float(m[0, 0] + m[0, 1]))

    @property
    def purity(self) -> float:
        """``TP / (TP + FP)``: the weighted signal fraction of the selected events."""
        m = self._binary("purity")
        return _ratio(float(m[1, 1]), float(m[0, 1] + m[1, 1]))

    @property
    def precision(self) -> float:
        """An alias of :attr:`purity`."""
        return self.purity

    @property
    def accuracy(self) -> float:
        """``Σ_i matrix[i, i] / Σ_ij matrix[i, j]``: the weighted fraction classified correctly."""
        return _ratio(float(np.trace(self.matrix)), float(self.matrix.sum()))


def confusion_matrix(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    threshold: float = 0.5,
    sample_weight: npt.ArrayLike | None = None,
) -> ConfusionMatrix:
    """Weighted binary confusion matrix of the cut ``score >= threshold``.

    Parameters
    ----------
    scores
        Classifier output, shape ``(n_events,)``; ``±inf`` is allowed.
    labels
        1 (or True) for signal, 0 (or False) for background, shape ``(n_events,)``.
    threshold
        Events with ``score >= threshold`` are predicted signal.
    sample_weight
        Per-event weights of either sign; unit weights when None.

    Returns
    -------
    ConfusionMatrix
        ``[[TN, FP], [FN, TP]]`` with class names ``("background", "signal")``.

    Notes
    -----
    ``matrix[i, j] = Σ_e w_e 1[y_e = i] 1[ŷ_e = j]`` with ``ŷ_e = 1[s_e ≥ t]``.  For
    positive weights this equals ``sklearn.metrics.confusion_matrix(labels,
    scores >= threshold, sample_weight=...)``.
    """
    s, y, w = binary_sample(scores, labels, sample_weight, allow_inf=True)
    t = float(threshold)
    if math.isnan(t):
        raise DataError("threshold must be a number, got NaN")
    predicted = s >= t
    return _from_codes(2 * y.astype(np.int64) + predicted, w, ("background", "signal"), t)


def _from_codes(
    codes: np.ndarray, w: np.ndarray, class_names: tuple[str, ...], threshold: float | None
) -> ConfusionMatrix:
    k = len(class_names)
    matrix = np.bincount(codes, weights=w, minlength=k * k).reshape(k, k)
    counts = np.bincount(codes, minlength=k * k).reshape(k, k)
    return ConfusionMatrix(matrix=matrix, counts=counts, class_names=class_names, threshold=threshold)


def multiclass_confusion(
    probabilities: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    n_classes: int,
    sample_weight: npt.ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
) -> ConfusionMatrix:
    """Weighted confusion matrix of the most probable class.

    Parameters
    ----------
    probabilities
        Class probabilities (or any per-class scores, e.g. logits), shape
        ``(n_events, n_classes)``.
    labels
        True class indices in ``[0, n_classes)``, shape ``(n_events,)``.
    n_classes
        The number of classes; must equal the number of probability columns.
    sample_weight
        Per-event weights of either sign; unit weights when None.
    class_names
        One name per class; ``"class 0", "class 1", ...`` when None.

    Returns
    -------
    ConfusionMatrix
        With ``threshold`` None.

    Notes
    -----
    ``matrix[i, j] = Σ_e w_e 1[y_e = i] 1[argmax_k p_ek = j]``; ties in the argmax go
    to the lowest class index.  For positive weights this equals
    ``sklearn.metrics.confusion_matrix(labels, p.argmax(1), labels=range(n_classes),
    sample_weight=...)``.
    """
    p = float_array(probabilities, "probabilities", ndim=2, allow_inf=True)
    n, k = p.shape
    integer_at_least(n_classes, "n_classes", 2)
    if k != n_classes:
        raise DataError(f"probabilities has {k} columns but n_classes is {n_classes}; there must be one per class")
    y = class_labels(labels, n, k)
    w = weights(sample_weight, n, reference="probabilities")
    if class_names is None:
        names = tuple(f"class {i}" for i in range(k))
    else:
        names = tuple(str(c) for c in class_names)
        if len(names) != k:
            raise DataError(f"class_names has {len(names)} names but there are {k} classes: {list(names)}")
    predicted = np.argmax(p, axis=1) if n else np.zeros(0, dtype=np.int64)
    return _from_codes(k * y + predicted, w, names, None)


def threshold_at_efficiency(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    efficiency: float,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> float:
    """The tightest score cut whose weighted signal efficiency reaches ``efficiency``.

    Parameters
    ----------
    scores
        Classifier output, shape ``(n_events,)``; ``±inf`` is allowed.
    labels
        1 (or True) for signal, 0 (or False) for background, shape ``(n_events,)``.
        Only the signal events are used.
    efficiency
        The target signal efficiency ``ε`` in ``(0, 1]``.
    sample_weight
        Per-event weights of either sign; unit weights when None.  The signal total
        must be positive.

    Returns
    -------
    float
        A signal event's score ``t``; the cut ``score >= t`` keeps at least the
        fraction ``ε`` of the signal weight.

    Notes
    -----
    With the signal scores sorted in decreasing order and
    ``ε(t) = Σ_{j ∈ S, s_j ≥ t} w_j / Σ_{j ∈ S} w_j``, ``t`` is the highest score with
    ``ε(t) ≥ ε`` (up to a relative rounding slack of 1e-12).  The cut is one of the
    scores, not interpolated, so with few events or ties ``ε(t)`` can exceed ``ε``;
    with negative weights ``ε(t)`` need not be monotonic and the first score that
    reaches ``ε`` is taken.  This is the cut of the working point "ε signal
    efficiency" of a tagger.
    """
    s, y, w = binary_sample(scores, labels, sample_weight, allow_inf=True)
    target = float(efficiency)
    if not 0.0 < target <= 1.0:
        raise DataError(f"efficiency must be in (0, 1], got {efficiency!r}")
    signal_scores, signal_w = s[y], w[y]
    total = total_weight(signal_w, "signal events (label 1)")
    order = np.argsort(-signal_scores, kind="stable")
    sorted_scores = signal_scores[order]
    cumulative = np.cumsum(signal_w[order])
    # All events tied at a score pass together: evaluate ε at the last of each group.
    last_of_group = np.flatnonzero(np.append(sorted_scores[1:] != sorted_scores[:-1], True))
    reach = np.maximum.accumulate(cumulative[last_of_group])
    index = int(np.searchsorted(reach, target * total * (1.0 - _ROUNDING), side="left"))
    index = min(index, len(last_of_group) - 1)
    return float(sorted_scores[last_of_group[index]])
