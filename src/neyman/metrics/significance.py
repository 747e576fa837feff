"""Expected discovery significances of a counting experiment and the cut that maximises them.

``s`` and ``b`` are expected signal and background event yields after a selection.
The Asimov significance (Cowan, Cranmer, Gross, Vitells, Eur. Phys. J. C 71 (2011)
1554) is the median discovery significance of a profile-likelihood test; the
simpler ``s/√b`` is its limit for ``s ≪ b`` and overestimates it otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.inputs import binary_sample, integer_at_least, read_only_array

__all__ = [
    "MIN_BACKGROUND_EVENTS",
    "SignificanceScan",
    "WorkingPoint",
    "asimov_significance",
    "s_over_sqrt_s_plus_b",
    "significance_scan",
    "simple_significance",
]

# The significance measures of a SignificanceScan, by key.
_MEASURES = ("asimov", "simple", "s_over_sqrt_s_plus_b")


def _yields(s: npt.ArrayLike, b: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s_arr = np.asarray(s, dtype=np.float64)
    b_arr = np.asarray(b, dtype=np.float64)
    for name, array in (("s", s_arr), ("b", b_arr)):
        if not np.all(np.isfinite(array)):
            raise DataError(f"the {name} yields must be finite, got {array!r}")
    if (s_arr < 0).any():
        raise DataError(f"the signal yield s must be non-negative, got {s_arr!r}")
    if (b_arr <= 0).any():
        raise DataError(f"the background yield b must be positive, got {b_arr!r}")
    try:
        np.broadcast_shapes(s_arr.shape, b_arr.shape)
    except ValueError as err:
        raise DataError(f"s of shape {s_arr.shape} and b of shape {b_arr.shape} do not broadcast") from err
    return s_arr, b_arr


def _scalar_or_array(result: np.ndarray, *inputs: npt.ArrayLike) -> float | np.ndarray:
    if all(np.ndim(x) == 0 for x in inputs):
        return float(result)
    return result


def _asimov(s: np.ndarray, b: np.ndarray, sigma_b: np.ndarray) -> np.ndarray:
    """Z_A for s ≥ 0 and b > 0 (broadcast); NaN elsewhere, without warnings."""
    s, b, rel = np.broadcast_arrays(s, b, sigma_b)
    z2 = np.full(s.shape, np.nan)
    ok = (s >= 0) & (b > 0)
    exact = ok & (rel == 0)
    se, be = s[exact], b[exact]
    z2[exact] = 2.0 * ((se + be) * np.log1p(se / be) - se)
    with np.errstate(over="ignore"):
        unbounded = ok & (rel > 0) & ~np.isfinite((rel * b) ** 2)
    z2[unbounded] = 0.0  # an unbounded background uncertainty leaves no significance: Z -> 0 as σ_b -> ∞
    fuzzy = ok & (rel > 0) & ~unbounded
    sf, bf = s[fuzzy], b[fuzzy]
    var = (rel[fuzzy] * bf) ** 2
    # ln[(s+b)(b+σ²) / (b²+(s+b)σ²)] = ln(1 + s b / (b² + (s+b)σ²)), via log1p.
    z2[fuzzy] = 2.0 * (
        (sf + bf) * np.log1p(sf * bf / (bf**2 + (sf + bf) * var)) - bf**2 / var * np.log1p(var * sf / (bf * (bf + var)))
    )
    # Rounding can make z2 slightly negative for s ≈ 0; NaN (undefined) stays NaN.
    return np.asarray(np.sqrt(np.maximum(z2, 0.0)))


@overload
def asimov_significance(s: float, b: float, *, sigma_b: float = 0.0) -> float: ...


@overload
def asimov_significance(s: npt.ArrayLike, b: npt.ArrayLike, *, sigma_b: npt.ArrayLike = 0.0) -> float | np.ndarray: ...


def asimov_significance(s: npt.ArrayLike, b: npt.ArrayLike, *, sigma_b: npt.ArrayLike = 0.0) -> float | np.ndarray:
    """Median expected discovery significance ``Z_A`` of a counting experiment.

    Parameters
    ----------
    s
        Expected signal yield(s), ``≥ 0``.
    b
        Expected background yield(s), ``> 0``; broadcast against ``s``.
    sigma_b
        *Relative* uncertainty of the background yield (0.1 for 10%), ``≥ 0``;
        broadcast against ``s`` and ``b``.

    Returns
    -------
    float or numpy.ndarray
        A float when all inputs are scalars, else an array of the broadcast shape.

    Raises
    ------
    DataError
        If ``s < 0``, ``b ≤ 0``, ``sigma_b < 0``, or a value is not finite.

    Notes
    -----
    Without background uncertainty (Cowan et al. 2011, eq. 97)

    ``Z_A = √(2 [(s + b) ln(1 + s/b) − s])``.

    With an absolute background uncertainty ``σ = sigma_b · b`` (profiled, from an
    auxiliary measurement),

    ``Z_A = √(2 [(s + b) ln((s + b)(b + σ²) / (b² + (s + b)σ²))
    − (b²/σ²) ln(1 + σ² s / (b (b + σ²)))])``,

    which tends to the first form as ``σ → 0``.  For ``s ≪ b`` both tend to
    ``s/√(b + σ²)``; in particular ``Z_A → s/√b`` without uncertainty.
    """
    s_arr, b_arr = _yields(s, b)
    rel = np.asarray(sigma_b, dtype=np.float64)
    if not np.all(np.isfinite(rel)) or (rel < 0).any():
        raise DataError(f"sigma_b (the relative background uncertainty) must be finite and ≥ 0, got {sigma_b!r}")
    try:
        result = _asimov(s_arr, b_arr, rel)
    except ValueError as err:
        raise DataError(f"sigma_b of shape {rel.shape} does not broadcast against s and b") from err
    return _scalar_or_array(result, s, b, sigma_b)


@overload
def simple_significance(s: float, b: float) -> float: ...


@overload
def simple_significance(s: npt.ArrayLike, b: npt.ArrayLike) -> float | np.ndarray: ...


def simple_significance(s: npt.ArrayLike, b: npt.ArrayLike) -> float | np.ndarray:
    """The approximate significance ``s/√b``.

    Parameters
    ----------
    s
        Expected signal yield(s), ``≥ 0``.
    b
        Expected background yield(s), ``> 0``; broadcast against ``s``.

    Returns
    -------
    float or numpy.ndarray
        A float for scalar inputs, else an array.

    Notes
    -----
    ``Z = s / √b``: the number of Gaussian standard deviations of the background
    fluctuation that the signal is, valid for ``s ≪ b`` (the leading term of
    :func:`asimov_significance`); it overestimates the significance otherwise.
    """
    s_arr, b_arr = _yields(s, b)
    return _scalar_or_array(np.asarray(s_arr / np.sqrt(b_arr)), s, b)


@overload
def s_over_sqrt_s_plus_b(s: float, b: float) -> float: ...


@overload
def s_over_sqrt_s_plus_b(s: npt.ArrayLike, b: npt.ArrayLike) -> float | np.ndarray: ...


def s_over_sqrt_s_plus_b(s: npt.ArrayLike, b: npt.ArrayLike) -> float | np.ndarray:
    """The figure of merit ``s/√(s + b)``.

    Parameters
    ----------
    s
        Expected signal yield(s), ``≥ 0``.
    b
        Expected background yield(s), ``> 0``; broadcast against ``s``.

    Returns
    -------
    float or numpy.ndarray
        A float for scalar inputs, else an array.

    Notes
    -----
    ``Z = s / √(s + b)``: the signal over the Poisson uncertainty of the observed
    count, i.e. the significance of a signal-strength *measurement* rather than of a
    discovery; it underestimates :func:`asimov_significance` for ``s ≳ b``.
    """
    s_arr, b_arr = _yields(s, b)
    return _scalar_or_array(np.asarray(s_arr / np.sqrt(s_arr + b_arr)), s, b)


@dataclass(frozen=True)
class WorkingPoint:
    """The cut that maximises one significance measure in a :class:`SignificanceScan`.

    Attributes
    ----------
    cut
        The score threshold; events with ``score >= cut`` are selected.
    significance
        The maximal significance.
    signal
        Expected signal yield ``s`` after the cut.
    background
        Expected background yield ``b`` after the cut.
    signal_efficiency
        Weighted signal efficiency ``ε_S`` of the cut.
    background_efficiency
        Weighted background efficiency ``ε_B`` of the cut.
    """

    cut: float
    significance: float
    signal: float
    background: float
    signal_efficiency: float
    background_efficiency: float


@dataclass(frozen=True, eq=False)
class SignificanceScan:
    """Expected yields and significances of the cut ``score >= cut`` for a grid of cuts.

    Attributes
    ----------
    cuts
        The score thresholds, increasing, shape ``(n_points,)``.
    signal_efficiency, background_efficiency
        Weighted efficiencies ``ε_S``, ``ε_B`` of each cut.
    signal, background
        Expected yields ``s = S ε_S`` and ``b = B ε_B``.
    asimov, simple, s_over_sqrt_s_plus_b
        :func:`asimov_significance` (with the scan's ``sigma_b``),
        :func:`simple_significance` and :func:`s_over_sqrt_s_plus_b` of each cut;
        NaN where undefined (``b ≤ 0``, ``s < 0``).
    best
        ``"asimov"``, ``"simple"``, ``"s_over_sqrt_s_plus_b"`` → the
        :class:`WorkingPoint` that maximises that measure.

    Notes
    -----
    The arrays are read-only.
    """

    cuts: np.ndarray
    signal_efficiency: np.ndarray
    background_efficiency: np.ndarray
    signal: np.ndarray
    background: np.ndarray
    asimov: np.ndarray
    simple: np.ndarray
    s_over_sqrt_s_plus_b: np.ndarray
    best: Mapping[str, WorkingPoint]

    def __post_init__(self) -> None:
        for name in (
            "cuts",
            "signal_efficiency",
            "background_efficiency",
            "signal",
            "background",
            *_MEASURES,
        ):
            object.__setattr__(self, name, read_only_array(getattr(self, name)))


def _efficiency_above(scores: np.ndarray, w: np.ndarray, cuts: np.ndarray, what: str) -> np.ndarray:
    """``Σ_{s_i ≥ c} w_i / Σ w_i`` for every cut ``c``, from one sort."""
    order = np.argsort(scores, kind="stable")
    # tail[m] = weight of the events from sorted position m on; tail[n] = 0.
    tail = np.append(np.cumsum(w[order][::-1])[::-1], 0.0)
    total = float(tail[0]) if len(w) else 0.0
    if not total > 0:
        raise DataError(
            f"the {what} have a total weight of {total:g}; the efficiencies are normalised by it, "
            "so it must be positive (check sample_weight for this class)"
        )
    first_passing = np.searchsorted(scores[order], cuts, side="left")
    return np.asarray(tail[first_passing] / total)


MIN_BACKGROUND_EVENTS = 10.0
"""Effective simulated background events ``(Σw)²/Σw²`` a cut must keep to be a best working point:
fewer, and the background yield there is a fluctuation (with signed weights, a cancellation)."""


def _effective_above(scores: np.ndarray, w: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Kish's effective number ``(Σ w)² / Σ w²`` of the events with ``s_i ≥ c``, for every cut ``c``."""
    order = np.argsort(scores, kind="stable")
    ws = w[order]
    tail = np.append(np.cumsum(ws[::-1])[::-1], 0.0)
    tail2 = np.append(np.cumsum((ws**2)[::-1])[::-1], 0.0)
    first_passing = np.searchsorted(scores[order], cuts, side="left")
    above, above2 = tail[first_passing], tail2[first_passing]
    return np.asarray(np.where(above2 > 0, above**2 / np.where(above2 > 0, above2, 1.0), 0.0))


def _positive_yield(value: float, name: str) -> float:
    x = float(value)
    if not (np.isfinite(x) and x > 0):
        raise DataError(f"{name} (the expected yield before the cut) must be positive and finite, got {value!r}")
    return x


def significance_scan(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    signal_yield: float,
    background_yield: float,
    sample_weight: npt.ArrayLike | None = None,
    sigma_b: float = 0.0,
    n_points: int = 200,
) -> SignificanceScan:
    """Scan a cut on the classifier score and find the one that maximises each significance.

    Parameters
    ----------
    scores
        Classifier output, larger meaning more signal-like, finite, shape ``(n_events,)``.
    labels
        1 (or True) for signal, 0 (or False) for background, shape ``(n_events,)``.
    signal_yield
        Expected signal yield ``S`` before the cut (e.g. ``σ_S × L × ε_presel``).
    background_yield
        Expected background yield ``B`` before the cut.
    sample_weight
        Per-event weights of either sign; unit weights when None.  Only their shape
        within each class matters: the yields fix the normalisation.
    sigma_b
        Relative background uncertainty for :func:`asimov_significance`.
    n_points
        Number of cuts, equally spaced from the smallest to the largest score (at
        least 2).

    Returns
    -------
    SignificanceScan

    Raises
    ------
    DataError
        For bad inputs, non-positive yields, or a class with a total weight that is
        not positive.

    Notes
    -----
    For each cut ``c``: ``ε_S(c) = Σ_{i ∈ S, s_i ≥ c} w_i / Σ_{i ∈ S} w_i`` (likewise
    ``ε_B``), ``s = S ε_S(c)``, ``b = B ε_B(c)``, and the significances
    ``Z_A(s, b; σ_b)``, ``s/√b`` and ``s/√(s + b)``.  The best working point of each
    measure is the cut of its largest finite value (ties: the loosest cut) among the
    cuts that keep at least :data:`MIN_BACKGROUND_EVENTS` effective background events
    ``(Σ_{i ∈ B, s_i ≥ c} w_i)² / Σ_{i ∈ B, s_i ≥ c} w_i²`` (all cuts when none does):
    beyond, ``b`` is a fluctuation of a few simulated events, or with signed weights
    their cancellation, and ``s/√b`` would peak there.
    """
    s, y, w = binary_sample(scores, labels, sample_weight)
    n = len(s)
    total_s = _positive_yield(signal_yield, "signal_yield")
    total_b = _positive_yield(background_yield, "background_yield")
    rel = float(sigma_b)
    if not (np.isfinite(rel) and rel >= 0):
        raise DataError(f"sigma_b (the relative background uncertainty) must be finite and ≥ 0, got {sigma_b!r}")
    integer_at_least(n_points, "n_points", 2)
    if n == 0:
        raise DataError("a significance scan needs events, got empty scores")
    cuts = np.linspace(float(s.min()), float(s.max()), int(n_points))
    eff_s = _efficiency_above(s[y], w[y], cuts, "signal events (label 1)")
    eff_b = _efficiency_above(s[~y], w[~y], cuts, "background events (label 0)")
    sig, bkg = total_s * eff_s, total_b * eff_b
    defined = (sig >= 0) & (bkg > 0)
    safe_b = np.where(defined, bkg, 1.0)
    safe_s = np.where(defined, sig, 0.0)
    measures = {
        "asimov": _asimov(sig, bkg, np.asarray(rel)),
        "simple": np.where(defined, safe_s / np.sqrt(safe_b), np.nan),
        "s_over_sqrt_s_plus_b": np.where(defined, safe_s / np.sqrt(safe_s + safe_b), np.nan),
    }
    best: dict[str, WorkingPoint] = {}
    populated = _effective_above(s[~y], w[~y], cuts) >= MIN_BACKGROUND_EVENTS
    for name, values in measures.items():
        finite = np.isfinite(values)
        if not finite.any():
            raise DataError(
                "no cut leaves a positive background yield and a non-negative signal yield; "
                "check the weights of each class"
            )
        eligible = finite & populated if (finite & populated).any() else finite
        i = int(np.argmax(np.where(eligible, values, -np.inf)))
        best[name] = WorkingPoint(
            cut=float(cuts[i]),
            significance=float(values[i]),
            signal=float(sig[i]),
            background=float(bkg[i]),
            signal_efficiency=float(eff_s[i]),
            background_efficiency=float(eff_b[i]),
        )
    return SignificanceScan(
        cuts=cuts,
        signal_efficiency=eff_s,
        background_efficiency=eff_b,
        signal=sig,
        background=bkg,
        best=best,
        **measures,
    )
