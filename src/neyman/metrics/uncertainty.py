"""Statistical uncertainty of the AUC, TMVA's efficiency table and its separation.

The AUC's uncertainty comes from a Poisson bootstrap: every replica gives each
event a weight ``w_i k_i`` with ``k_i ~ Poisson(1)`` independently, which for
large samples is equivalent to resampling events with replacement but, unlike
resampling, needs no per-replica index arrays.  All replicas share one sort of the
scores, so their AUCs are matrix operations on a ``(n_replicas, n_events)`` block
of counts instead of a Python loop over replicas.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.classification import RocCurve, bounded_rejection, roc_auc, signal_efficiency_at
from neyman.metrics.inputs import binary_sample, integer_at_least

__all__ = ["auc_with_uncertainty", "efficiency_table", "fold_summary", "separation"]

# Elements of one block of the (replicas, events) count matrix.  A few such
# float64 blocks (~8 MiB each) are alive at once; this bounds the memory
# independently of n_bootstrap and is faster than larger blocks (cache).
_BLOCK_ELEMENTS = 1 << 20
_COUNT_BITS = 16


def _poisson_one_table() -> np.ndarray:
    """Lookup table mapping a uniform 16-bit integer to a Poisson(1) count.

    Entry ``u`` is the smallest ``k`` with ``round(2¹⁶ F(k)) > u``, with ``F`` the
    Poisson(1) CDF: inverse-CDF sampling with every probability rounded to a
    multiple of 2⁻¹⁶.  The counts then have mean 1 and variance 0.99997, and the
    largest count is 8 (true probability of more: 1.1e-6).  Drawing 16-bit integers
    and looking them up is ~20x faster than ``Generator.poisson``.
    """
    size = 1 << _COUNT_BITS
    k = np.arange(20)
    pmf = np.exp(-1.0) / np.array([math.factorial(int(j)) for j in k], dtype=np.float64)
    upper = np.minimum(np.rint(np.cumsum(pmf) * size).astype(np.int64), size)
    upper[-1] = size
    table = np.repeat(k.astype(np.uint8), np.diff(upper, prepend=0))
    table.setflags(write=False)
    return table


_POISSON_ONE = _poisson_one_table()


def _poisson_counts(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    draws = rng.integers(0, 1 << _COUNT_BITS, size=shape, dtype=np.uint16)
    return np.asarray(_POISSON_ONE[draws])


def auc_with_uncertainty(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> tuple[float, float]:
    """Weighted AUC and its statistical uncertainty from a Poisson bootstrap.

    Parameters
    ----------
    scores
        Classifier output, larger meaning more signal-like, shape ``(n_events,)``.
    labels
        1 (or True) for signal, 0 (or False) for background, shape ``(n_events,)``.
    sample_weight
        Per-event weights of either sign; unit weights when None.
    n_bootstrap
        Number of bootstrap replicas (at least 2).
    seed
        Seed of the generator that draws the Poisson counts.

    Returns
    -------
    auc : float
        The AUC of the sample, as :func:`~neyman.metrics.roc_auc`.
    std : float
        The standard deviation (``ddof=1``) of the AUC over the replicas.

    Raises
    ------
    DataError
        For the input errors of :func:`~neyman.metrics.roc_curve`, a bad
        ``n_bootstrap``, or when fewer than two replicas have a positive total
        weight in both classes.

    Notes
    -----
    Replica ``r`` weights event ``i`` by ``w_i k_ri`` with ``k_ri ~ Poisson(1)``
    independent (the Poisson bootstrap).  Its AUC is the weighted probability that a
    signal event outscores a background event, ties counting one half:

    ``AUC_r = Σ_{b ∈ B} k_rb w_b [C_r(>s_b) + C_r(≥s_b)] / 2 / (W_S,r W_B,r)``,

    where ``C_r(>t) = Σ_{j ∈ S, s_j > t} k_rj w_j`` is a cumulative sum of the
    replica's signal weights in decreasing score order, and ``W_S,r``, ``W_B,r``
    are the replica's class totals.  The same formula with ``k ≡ 1`` is the
    trapezoidal area of :func:`~neyman.metrics.roc_curve`.  One sort of the scores
    serves all replicas; the counts are drawn in blocks of replicas to bound the
    memory.  Replicas whose class totals are not both positive (possible for tiny
    samples or negative weights) are left out of the standard deviation.  The
    counts are drawn by inverse-CDF lookup on 16-bit random integers, i.e. with
    Poisson(1) probabilities rounded to multiples of 2⁻¹⁶ (variance 0.99997).
    """
    s, y, w = binary_sample(scores, labels, sample_weight, allow_inf=True)
    n = len(s)
    integer_at_least(n_bootstrap, "n_bootstrap", 2)
    auc = roc_auc(s, y, sample_weight=w)  # also checks both classes and their totals

    signal_scores, signal_w = s[y], w[y]
    background_scores, background_w = s[~y], w[~y]
    order = np.argsort(-signal_scores, kind="stable")
    descending_signal = -signal_scores[order]  # ascending, for searchsorted
    signal_w = signal_w[order]
    # For each background event: how many signal events score strictly above it
    # (above) and at or above it (at_or_above); they differ only for ties.
    above = np.searchsorted(descending_signal, -background_scores, side="left")
    at_or_above = np.searchsorted(descending_signal, -background_scores, side="right")
    has_ties = not np.array_equal(above, at_or_above)

    rng = np.random.default_rng(seed)
    n_signal, n_background = len(signal_w), len(background_w)
    block = max(1, _BLOCK_ELEMENTS // n)
    replica_auc = np.empty(int(n_bootstrap), dtype=np.float64)
    for start in range(0, int(n_bootstrap), block):
        r = min(block, int(n_bootstrap) - start)
        # cumulative[:, m] = weight of the m highest-scoring signal events.
        cumulative = np.zeros((r, n_signal + 1), dtype=np.float64)
        np.multiply(_poisson_counts(rng, (r, n_signal)), signal_w, out=cumulative[:, 1:])
        np.cumsum(cumulative[:, 1:], axis=1, out=cumulative[:, 1:])
        background_replica = _poisson_counts(rng, (r, n_background)) * background_w
        signal_above = np.take(cumulative, above, axis=1)
        if has_ties:
            signal_above += np.take(cumulative, at_or_above, axis=1)
            signal_above *= 0.5
        numerator = np.einsum("ri,ri->r", signal_above, background_replica)
        signal_total = cumulative[:, -1]
        background_total = background_replica.sum(axis=1)
        valid = (signal_total > 0) & (background_total > 0)
        denominator = np.where(valid, signal_total * background_total, 1.0)
        replica_auc[start : start + r] = np.where(valid, numerator / denominator, np.nan)

    finite = replica_auc[np.isfinite(replica_auc)]
    if len(finite) < 2:
        raise DataError(
            f"only {len(finite)} of {n_bootstrap} bootstrap replicas have a positive total weight in "
            "both classes; the sample is too small (or too dominated by negative weights) to bootstrap"
        )
    return auc, float(np.std(finite, ddof=1))


def efficiency_table(
    roc: RocCurve,
    *,
    signal_efficiencies: Sequence[float] = (0.3, 0.5),
    background_efficiencies: Sequence[float] = (0.01, 0.1, 0.3),
) -> dict[str, float]:
    """Background rejections and signal efficiencies at standard working points.

    Parameters
    ----------
    roc
        The curve, e.g. from :func:`~neyman.metrics.roc_curve`.
    signal_efficiencies
        Working points ``ε_S`` at which the background rejection is quoted.
    background_efficiencies
        Working points ``ε_B`` at which the signal efficiency is quoted (the TMVA
        "signal efficiency at background efficiency 0.01, 0.10, 0.30" table).

    Returns
    -------
    dict
        ``"rejection@eS=<ε_S>" → 1/ε_B`` for each signal efficiency, then
        ``"eS@eB=<ε_B>" → ε_S`` for each background efficiency; the numbers are
        formatted with ``:g`` (``"eS@eB=0.01"``).  Where no background event
        passes, the rejection is its lower bound
        (:func:`~neyman.metrics.bounded_rejection`) and
        ``"rejection@eS=<ε_S>_is_bound" → 1.0`` says so.

    Notes
    -----
    ``1/ε_B(ε_S)`` is :func:`~neyman.metrics.background_rejection` and ``ε_S(ε_B)``
    is :func:`~neyman.metrics.signal_efficiency_at`, both interpolating the curve
    linearly between its points.
    """
    table: dict[str, float] = {}
    for eff_s in signal_efficiencies:
        key = f"rejection@eS={float(eff_s):g}"
        table[key], is_bound = bounded_rejection(roc, eff_s)
        if is_bound:
            table[f"{key}_is_bound"] = 1.0
    for eff_b in background_efficiencies:
        table[f"eS@eB={float(eff_b):g}"] = signal_efficiency_at(roc, eff_b)
    return table


def separation(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    bins: int | None = None,
) -> float:
    """TMVA's separation ``⟨S²⟩`` of the signal and background score distributions.

    Parameters
    ----------
    scores
        Classifier output, finite, shape ``(n_events,)``.
    labels
        1 (or True) for signal, 0 (or False) for background, shape ``(n_events,)``.
    sample_weight
        Per-event weights of either sign; unit weights when None.
    bins
        Number of equal-width bins between the smallest and largest score.  None:
        TMVA's 100, fewer for small samples, ``min(100, max(2, ⌊√n_min⌋))`` with
        ``n_min`` the events of the smaller class.

    Returns
    -------
    float
        0 for identical distributions, 1 for distributions without overlap.

    Raises
    ------
    DataError
        If a score is not finite, ``bins`` is not a positive integer, or a class has
        a total weight that is not positive.

    Notes
    -----
    With ``ŝ_k`` and ``b̂_k`` the weighted histograms of the signal and background
    scores normalised to unit sum,

    ``⟨S²⟩ = ½ Σ_k (ŝ_k − b̂_k)² / (ŝ_k + b̂_k)``,

    summed over the bins with ``ŝ_k + b̂_k > 0`` (as TMVA's
    ``Tools::GetSeparation``).  It depends on the binning; it is the triangular
    discrimination of the two binned distributions, halved.

    Finite samples raise it: for two samples of one distribution, each bin adds about
    ``(1/n_s + 1/n_b) / 4``, so ``K`` filled bins give ``≈ K (1/n_s + 1/n_b) / 4``
    (100 bins and 55 events per class: about 0.6).  Hence fewer bins for small
    samples by default; above 10,000 events per class the binning is TMVA's.
    """
    s, y, w = binary_sample(scores, labels, sample_weight)
    n = len(s)
    if n == 0:
        raise DataError("separation needs events, got empty scores")
    if bins is None:
        bins = min(100, max(2, math.isqrt(int(min(y.sum(), n - y.sum())))))
    integer_at_least(bins, "bins", 1)
    score_range = (float(s.min()), float(s.max()))
    normalised = []
    for name, label, mask in (("signal", 1, y), ("background", 0, ~y)):
        counts, _ = np.histogram(s[mask], bins=int(bins), range=score_range, weights=w[mask])
        total = float(counts.sum())
        if not total > 0:
            raise DataError(
                f"the {name} events (label {label}) have a total weight of {total:g}; "
                "the separation normalises each class to unit sum, so it must be positive"
            )
        normalised.append(counts / total)
    signal_hist, background_hist = normalised
    both = signal_hist + background_hist
    used = both > 0
    return float(0.5 * np.sum((signal_hist[used] - background_hist[used]) ** 2 / both[used]))


def fold_summary(per_fold: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and standard deviation across folds of every metric that all folds have.

    Parameters
    ----------
    per_fold
        One mapping of metric name to value per fold (at least one).

    Returns
    -------
    dict[str, dict[str, float]]
        ``{name: {"mean": m, "std": s}}``.

    Notes
    -----
    ``m = (1/k) Σ_f v_f`` and ``s² = 1/(k-1) Σ_f (v_f - m)²`` (the sample standard
    deviation; NaN for a single fold).
    """
    if not per_fold:
        return {}
    keys = [k for k in per_fold[0] if all(k in f for f in per_fold)]
    out = {}
    for k in keys:
        values = np.array([f[k] for f in per_fold], dtype=np.float64)
        std = float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
        out[k] = {"mean": float(np.mean(values)), "std": std}
    return out
