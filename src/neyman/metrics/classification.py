"""Weighted metrics of binary and multi-class classifiers.

Every function takes per-event ``sample_weight`` of either sign: Monte Carlo
generators at next-to-leading order produce negative-weight events, and a metric
that silently drops or clips them is biased.  Efficiencies are therefore ratios
of weight sums, and a ROC curve may be locally non-monotonic where
negative-weight events are crossed; that is the correct answer, not a bug.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.inputs import (
    binary_labels,
    binary_sample,
    class_labels,
    probability_array,
    read_only_array,
    total_weight,
    weights,
)

__all__ = [
    "RocCurve",
    "accuracy",
    "background_rejection",
    "binary_cross_entropy",
    "bounded_rejection",
    "multiclass_accuracy",
    "multiclass_cross_entropy",
    "multiclass_discriminant",
    "rejection_limit",
    "rejection_text",
    "roc_auc",
    "roc_curve",
    "signal_efficiency_at",
]

# Probabilities are clipped to [_EPS, 1 - _EPS] before taking logarithms, as
# scikit-learn's log_loss does, so a confidently wrong event costs -log(_EPS) ≈ 36
# instead of infinity.
_EPS = float(np.finfo(np.float64).eps)
_TIE = 1e-12  # efficiencies closer than this are equal (sums of weights of 1e30 round at 1e-16 relative)


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    # np.trapezoid only exists from NumPy 2.0 on; this is the same sum.
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1])) / 2.0)


@dataclass(frozen=True, eq=False)
class RocCurve:
    """A receiver operating characteristic: efficiencies of the cut ``score >= threshold``.

    Attributes
    ----------
    signal_efficiency
        ``ε_S`` (true-positive rate) at each threshold, shape ``(n_points,)``.
    background_efficiency
        ``ε_B`` (false-positive rate) at each threshold, shape ``(n_points,)``.
    thresholds
        The score thresholds, decreasing; the first is ``+inf`` (no event passes).

    Notes
    -----
    ``ε_S(t) = Σ_{i ∈ S, s_i ≥ t} w_i / Σ_{i ∈ S} w_i`` and likewise ``ε_B`` for the
    background.  The arrays are read-only.
    """

    signal_efficiency: np.ndarray
    background_efficiency: np.ndarray
    thresholds: np.ndarray

    def __post_init__(self) -> None:
        arrays = {}
        for name in ("signal_efficiency", "background_efficiency", "thresholds"):
            array = read_only_array(getattr(self, name))
            if array.ndim != 1:
                raise DataError(f"RocCurve.{name} must be 1-dimensional, got shape {array.shape}")
            arrays[name] = array
        lengths = {len(a) for a in arrays.values()}
        if len(lengths) != 1 or 0 in lengths:
            shapes = {k: len(v) for k, v in arrays.items()}
            raise DataError(f"RocCurve arrays must be non-empty and of equal length, got {shapes}")
        for name, array in arrays.items():
            object.__setattr__(self, name, array)

    @property
    def tpr(self) -> np.ndarray:
        """The true-positive rate, an alias of :attr:`signal_efficiency`."""
        return self.signal_efficiency

    @property
    def fpr(self) -> np.ndarray:
        """The false-positive rate, an alias of :attr:`background_efficiency`."""
        return self.background_efficiency

    def auc(self) -> float:
        """Area under the curve ``∫ ε_S dε_B`` by the trapezoidal rule.

        Notes
        -----
        ``AUC = Σ_k (ε_B,k+1 − ε_B,k)(ε_S,k+1 + ε_S,k) / 2``; for a curve from
        :func:`roc_curve` this is the probability that a signal event scores above
        a background event, ties counting one half.
        """
        return _trapezoid(self.signal_efficiency, self.background_efficiency)

    def background_rejection(self, signal_efficiency: float) -> float:
        """``1/ε_B`` at the given ``ε_S``; see :func:`background_rejection`."""
        return background_rejection(self, signal_efficiency)

    def signal_efficiency_at(self, background_efficiency: float) -> float:
        """``ε_S`` at the given ``ε_B``; see :func:`signal_efficiency_at`."""
        return signal_efficiency_at(self, background_efficiency)


def roc_curve(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> RocCurve:
    """Weighted ROC curve of a binary classifier, one point per distinct score.

    Parameters
    ----------
    scores
        Classifier output, larger meaning more signal-like, shape ``(n_events,)``.
        ``±inf`` is allowed, NaN is not.
    labels
        1 (or True) for signal, 0 (or False) for background, shape ``(n_events,)``.
    sample_weight
        Per-event weights of either sign; unit weights when None.  Events with zero
        weight are ignored.

    Returns
    -------
    RocCurve
        Starts at ``(ε_B, ε_S) = (0, 0)`` with threshold ``+inf`` and ends at ``(1, 1)``.

    Raises
    ------
    DataError
        If the lengths differ, a score is NaN, a label is not 0/1, only one class is
        present, or a class has a total weight that is not positive.

    Notes
    -----
    For a threshold ``t``, an event passes when ``s_i ≥ t`` and

    ``ε_S(t) = Σ_{i: y_i=1, s_i≥t} w_i / Σ_{i: y_i=1} w_i``,
    ``ε_B(t) = Σ_{i: y_i=0, s_i≥t} w_i / Σ_{i: y_i=0} w_i``.

    The thresholds are the distinct scores in decreasing order, so events with equal
    scores enter together and form one (diagonal) step.  Computed with one sort and
    cumulative sums.  With negative weights ``ε_S`` and ``ε_B`` can decrease from one
    threshold to the next.  For positive weights this equals
    ``sklearn.metrics.roc_curve(..., drop_intermediate=False)``.
    """
    s, y, w = binary_sample(scores, labels, sample_weight, allow_inf=True)
    n = len(s)
    if n == 0:
        raise DataError("a ROC curve needs events, got empty scores")
    n_signal = int(np.count_nonzero(y))
    if n_signal in (0, n):
        present, missing = ("signal (1)", "background (0)") if n_signal else ("background (0)", "signal (1)")
        raise DataError(
            f"labels contain only {present} events ({n} of them) and no {missing} events; "
            "a ROC curve needs both classes"
        )
    nonzero = w != 0
    if not nonzero.all():
        s, y, w = s[nonzero], y[nonzero], w[nonzero]

    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    y_sorted = y[order]
    w_sorted = w[order]
    signal_cumsum = np.cumsum(np.where(y_sorted, w_sorted, 0.0))
    background_cumsum = np.cumsum(np.where(y_sorted, 0.0, w_sorted))
    # The cumulative sums' last entries are the class totals; using them (rather
    # than a separate np.sum) makes the curve end at exactly (1, 1).
    signal_total = float(signal_cumsum[-1]) if len(w) else 0.0
    background_total = float(background_cumsum[-1]) if len(w) else 0.0
    for name, label, total in (
        ("signal", 1, signal_total),
        ("background", 0, background_total),
    ):
        if not total > 0:
            raise DataError(
                f"the {name} events (label {label}) have a total weight of {total:g}; "
                "efficiencies are normalised by it, so it must be positive "
                "(check sample_weight for this class)"
            )

    # Index of the last event of each group of equal scores: comparing neighbours
    # (not np.diff) keeps groups of +inf scores together.
    last_of_group = np.flatnonzero(np.append(s_sorted[1:] != s_sorted[:-1], True))
    tpr = np.concatenate(([0.0], signal_cumsum[last_of_group] / signal_total))
    fpr = np.concatenate(([0.0], background_cumsum[last_of_group] / background_total))
    thresholds = np.concatenate(([np.inf], s_sorted[last_of_group]))
    return RocCurve(signal_efficiency=tpr, background_efficiency=fpr, thresholds=thresholds)


def roc_auc(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> float:
    """Area under the weighted ROC curve.

    Parameters
    ----------
    scores, labels, sample_weight
        As for :func:`roc_curve`.

    Returns
    -------
    float
        The AUC; 0.5 for a random classifier, 1 for a perfect one.

    Notes
    -----
    ``AUC = ∫ ε_S dε_B``, integrated with the trapezoidal rule over the points of
    :func:`roc_curve`.  For positive weights this is the weighted probability that a
    signal event scores higher than a background event, ties counting one half,
    and equals ``sklearn.metrics.roc_auc_score``.
    """
    return roc_curve(scores, labels, sample_weight=sample_weight).auc()


def _check_efficiency(value: float, name: str) -> float:
    x = float(value)
    if not 0.0 <= x <= 1.0:
        raise DataError(f"{name} must be in [0, 1], got {value!r}")
    return x


def background_rejection(roc: RocCurve, signal_efficiency: float) -> float:
    """Background rejection ``1/ε_B`` at a working point of given signal efficiency.

    Parameters
    ----------
    roc
        The curve, e.g. from :func:`roc_curve`.
    signal_efficiency
        The working point ``ε_S`` in ``[0, 1]``.

    Returns
    -------
    float
        ``1/ε_B``; ``inf`` when ``ε_B ≤ 0`` at that point.

    Notes
    -----
    ``ε_B(ε_S)`` is interpolated linearly between the two curve points that bracket
    the target, at the first point (going from tight to loose cuts) where the curve
    reaches ``ε_S``.  On a flat stretch of ``ε_S`` this is the lowest ``ε_B``, i.e.
    the best cut achieving that signal efficiency.
    """
    target = _check_efficiency(signal_efficiency, "signal_efficiency")
    tpr, fpr = roc.signal_efficiency, roc.background_efficiency
    # a point at the target up to rounding reaches it: the same working point for weights of any scale
    reached = tpr >= target - _TIE
    if not reached.any():
        raise DataError(
            f"the ROC curve never reaches a signal efficiency of {target:g} (its maximum is {float(tpr.max()):g})"
        )
    i = int(np.argmax(reached))
    if i == 0:
        eps_b = float(fpr[0])
    else:
        # tpr[i - 1] < target <= tpr[i], so the denominator is positive.
        t = (target - tpr[i - 1]) / (tpr[i] - tpr[i - 1])
        eps_b = float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))
    return math.inf if eps_b <= 0 else 1.0 / eps_b


def rejection_limit(roc: RocCurve) -> float:
    """The largest background rejection that the curve's background events can show.

    Returns
    -------
    float
        ``1/ε_B`` of the tightest cut that keeps any background: with ``N_B``
        unit-weight background events, ``N_B``; ``inf`` when no cut keeps background
        below the full sample (a degenerate curve).

    Notes
    -----
    Where no background event passes a cut, ``ε_B = 0`` and ``1/ε_B`` is only known
    to exceed this limit: ``1/ε_B > 1/min(ε_B > 0)``.
    """
    positive = roc.background_efficiency[roc.background_efficiency > 0]
    return 1.0 / float(positive.min()) if len(positive) else math.inf


def bounded_rejection(roc: RocCurve, signal_efficiency: float) -> tuple[float, bool]:
    """``1/ε_B`` at ``ε_S``, or its lower bound when no background event passes.

    Returns
    -------
    tuple[float, bool]
        ``(1/ε_B, False)``, or ``(rejection_limit(roc), True)`` where ``ε_B`` is
        below the smallest efficiency the background events resolve (``ε_B = 0``, or
        interpolated between no background event and the first): the rejection is
        then larger than the value, which is never ``inf`` and never ranks below a
        resolved one.
    """
    rejection = background_rejection(roc, signal_efficiency)
    limit = rejection_limit(roc)
    if rejection > limit * (1 + 1e-9):  # not one rounding step of the interpolation
        return limit, True
    return rejection, False


def rejection_text(value: float, is_bound: bool = False) -> str:
    """A rejection for tables: ``"973.5"``, or ``"> 1952"`` for a lower bound."""
    return f"> {value:.0f}" if is_bound else f"{value:.1f}"


def signal_efficiency_at(roc: RocCurve, background_efficiency: float) -> float:
    """Signal efficiency ``ε_S`` at a working point of given background efficiency.

    Parameters
    ----------
    roc
        The curve, e.g. from :func:`roc_curve`.
    background_efficiency
        The working point ``ε_B`` in ``[0, 1]`` (a mistag rate).

    Returns
    -------
    float
        ``ε_S``; 0 when even the tightest point of the curve exceeds ``ε_B``.

    Notes
    -----
    ``ε_S(ε_B)`` is interpolated linearly between the last curve point with
    ``ε_B,k ≤`` target and the next one (the first point where the curve passes
    the target), so on a vertical stretch the highest ``ε_S`` is taken.
    """
    target = _check_efficiency(background_efficiency, "background_efficiency")
    tpr, fpr = roc.signal_efficiency, roc.background_efficiency
    above = fpr > target
    if not above.any():
        return float(tpr[-1])
    j = int(np.argmax(above))
    if j == 0:
        return 0.0
    # fpr[j - 1] <= target < fpr[j], so the denominator is positive.
    t = (target - fpr[j - 1]) / (fpr[j] - fpr[j - 1])
    return float(tpr[j - 1] + t * (tpr[j] - tpr[j - 1]))


def accuracy(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    threshold: float = 0.5,
    sample_weight: npt.ArrayLike | None = None,
) -> float:
    """Weighted fraction of events classified correctly by the cut ``score >= threshold``.

    Parameters
    ----------
    scores
        Classifier output, shape ``(n_events,)``.
    labels
        1 (signal) or 0 (background), shape ``(n_events,)``.
    threshold
        Events with ``score >= threshold`` are called signal.
    sample_weight
        Per-event weights; unit weights when None.  Their sum must be positive.

    Notes
    -----
    ``accuracy = Σ_i w_i 1[(s_i ≥ t) = y_i] / Σ_i w_i``.
    """
    s, y, w = binary_sample(scores, labels, sample_weight, allow_inf=True)
    total = total_weight(w)
    correct = (s >= threshold) == y
    return float(np.sum(w[correct]) / total)


def _probabilities(values: npt.ArrayLike, ndim: int) -> np.ndarray:
    return probability_array(values, ndim=ndim, activation="sigmoid or softmax")


def binary_cross_entropy(
    probabilities: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> float:
    """Weighted mean binary cross-entropy (log loss).

    Parameters
    ----------
    probabilities
        Predicted probability of signal, in ``[0, 1]``, shape ``(n_events,)``.
    labels
        1 (signal) or 0 (background), shape ``(n_events,)``.
    sample_weight
        Per-event weights; unit weights when None.  Their sum must be positive.

    Notes
    -----
    ``BCE = Σ_i w_i ℓ_i / Σ_i w_i`` with
    ``ℓ_i = −[y_i log p_i + (1 − y_i) log(1 − p_i)]``, where ``p_i`` is clipped to
    ``[ε, 1 − ε]`` and ε is the float64 machine epsilon (as scikit-learn's ``log_loss``).
    """
    p = _probabilities(probabilities, 1)
    y = binary_labels(labels, len(p), reference="probabilities")
    w = weights(sample_weight, len(p), reference="probabilities")
    total = total_weight(w)
    p = np.clip(p, _EPS, 1.0 - _EPS)
    per_event = -np.where(y, np.log(p), np.log1p(-p))
    return float(np.sum(w * per_event) / total)


def _multiclass_inputs(
    probabilities: npt.ArrayLike, labels: npt.ArrayLike, sample_weight: npt.ArrayLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    p = _probabilities(probabilities, 2)
    n, k = p.shape
    if k < 2:
        raise DataError(f"probabilities must have one column per class (at least 2), got {k}")
    y = class_labels(labels, n, k)
    w = weights(sample_weight, n, reference="probabilities")
    return p, y, w, total_weight(w)


def multiclass_accuracy(
    probabilities: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> float:
    """Weighted fraction of events whose most probable class is the true class.

    Parameters
    ----------
    probabilities
        Class probabilities, shape ``(n_events, n_classes)``.
    labels
        True class indices in ``[0, n_classes)``, shape ``(n_events,)``.
    sample_weight
        Per-event weights; unit weights when None.  Their sum must be positive.

    Notes
    -----
    ``accuracy = Σ_i w_i 1[argmax_k p_ik = y_i] / Σ_i w_i``; ties in the argmax go to
    the lowest class index.
    """
    p, y, w, total = _multiclass_inputs(probabilities, labels, sample_weight)
    correct = np.argmax(p, axis=1) == y
    return float(np.sum(w[correct]) / total)


def multiclass_cross_entropy(
    probabilities: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> float:
    """Weighted mean categorical cross-entropy.

    Parameters
    ----------
    probabilities
        Class probabilities (rows summing to one), shape ``(n_events, n_classes)``.
    labels
        True class indices in ``[0, n_classes)``, shape ``(n_events,)``.
    sample_weight
        Per-event weights; unit weights when None.  Their sum must be positive.

    Notes
    -----
    ``CE = −Σ_i w_i log p_{i, y_i} / Σ_i w_i`` with ``p`` clipped to ``[ε, 1]`` and ε the
    float64 machine epsilon.  Probabilities are used as given, not renormalised.
    """
    p, y, w, total = _multiclass_inputs(probabilities, labels, sample_weight)
    p_true = np.clip(p[np.arange(len(y)), y], _EPS, 1.0)
    return float(np.sum(w * -np.log(p_true)) / total)


def multiclass_discriminant(
    probabilities: npt.ArrayLike,
    *,
    signal: int,
    backgrounds: Mapping[int, float],
) -> np.ndarray:
    """Log-likelihood-ratio discriminant of one class against a mixture of others.

    Parameters
    ----------
    probabilities
        Class probabilities, shape ``(n_events, n_classes)``.
    signal
        Index of the signal class.
    backgrounds
        Background class index → its fraction ``f_j`` in the background mixture;
        fractions are non-negative and sum to one.

    Returns
    -------
    numpy.ndarray
        ``D`` per event, shape ``(n_events,)``; larger is more signal-like.

    Raises
    ------
    DataError
        If a class index is out of range, the signal is among the backgrounds, or the
        fractions are negative or do not sum to one.

    Notes
    -----
    ``D = log( p_S / Σ_j f_j p_j )``, e.g. the X→bb̄ tagger's
    ``D = log( p_A / (f p_B + (1 − f) p_C) )``.  If the probabilities are the true
    class posteriors this is monotonic in the likelihood ratio of signal to the
    background mixture, hence optimal for that mixture.  Probabilities are floored
    at the smallest positive float64 so that ``D`` stays finite.
    """
    p = _probabilities(probabilities, 2)
    n_classes = p.shape[1]
    indices = [signal, *backgrounds]
    for index in indices:
        if not (isinstance(index, (int, np.integer)) and 0 <= index < n_classes):
            raise DataError(
                f"class index {index!r} is not in [0, {n_classes}) for probabilities with {n_classes} columns"
            )
    if not backgrounds:
        raise DataError("backgrounds must name at least one background class and its fraction")
    if signal in backgrounds:
        raise DataError(f"the signal class {signal} is also listed among the backgrounds")
    fractions = np.array(list(backgrounds.values()), dtype=np.float64)
    if not np.all(np.isfinite(fractions)) or (fractions < 0).any():
        raise DataError(f"background fractions must be finite and non-negative, got {dict(backgrounds)}")
    if not math.isclose(float(fractions.sum()), 1.0, rel_tol=0.0, abs_tol=1e-9):
        raise DataError(
            f"background fractions must sum to 1, got {dict(backgrounds)} (sum {float(fractions.sum()):.12g})"
        )
    tiny = np.finfo(np.float64).tiny
    mixture = p[:, list(backgrounds)] @ fractions
    return np.asarray(np.log(np.maximum(p[:, signal], tiny)) - np.log(np.maximum(mixture, tiny)))
