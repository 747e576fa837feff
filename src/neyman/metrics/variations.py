"""How a tagger's working points move when the events come from another generator or detector setting."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.confusion import threshold_at_efficiency

__all__ = ["WorkingPointShift", "cut_efficiency", "working_point_shifts"]


def cut_efficiency(passed: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None) -> tuple[float, float]:
    """Weighted efficiency of a cut and its statistical uncertainty.

    Parameters
    ----------
    passed
        Whether each event passes, shape ``(n_events,)``.
    sample_weight
        Event weights (either sign); unit weights when None.

    Returns
    -------
    tuple[float, float]
        ``ε`` and ``σ_ε``.

    Notes
    -----
    With ``P`` and ``F`` the weight sums of passing and failing events,
    ``ε = P / (P + F)`` and, propagating independent Poisson fluctuations of each
    event's weight,

    .. math:: \\sigma_\\varepsilon^2 = \\frac{(1 - \\varepsilon)^2 \\sum_{pass} w^2
       + \\varepsilon^2 \\sum_{fail} w^2}{(P + F)^2},

    which is the binomial ``ε(1 - ε)/N`` for unit weights.
    """
    p = np.asarray(passed, dtype=bool)
    w = np.ones(len(p)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    total = float(np.sum(w))
    if not total > 0:
        raise DataError(f"the events' weights sum to {total:.4g}; an efficiency needs a positive total")
    eff = float(np.sum(w[p])) / total
    var = ((1.0 - eff) ** 2 * float(np.sum(w[p] ** 2)) + eff**2 * float(np.sum(w[~p] ** 2))) / total**2
    return eff, math.sqrt(var)


@dataclass(frozen=True)
class WorkingPointShift:
    """One working point of a tagger, on the nominal events and on a variation.

    Attributes
    ----------
    target_efficiency
        The nominal signal efficiency that defines the cut.
    threshold
        The score cut, fixed on the nominal signal.
    signal_efficiency, signal_efficiency_error
        ``ε_S`` with its uncertainty: ``(nominal, varied)``.
    rejection, rejection_error
        ``1/ε_B`` with its uncertainty: ``(nominal, varied)``.
    """

    target_efficiency: float
    threshold: float
    signal_efficiency: tuple[float, float]
    signal_efficiency_error: tuple[float, float]
    rejection: tuple[float, float]
    rejection_error: tuple[float, float]

    @staticmethod
    def _relative(values: tuple[float, float], errors: tuple[float, float]) -> tuple[float, float]:
        nominal, varied = values
        if not (nominal > 0 and math.isfinite(nominal) and math.isfinite(varied)):
            return math.nan, math.nan
        shift = varied / nominal - 1.0
        err = (varied / nominal) * math.hypot(errors[0] / nominal, errors[1] / max(varied, 1e-300))
        return shift, err

    @property
    def signal_shift(self) -> tuple[float, float]:
        """Relative change of ``ε_S`` and its uncertainty."""
        return self._relative(self.signal_efficiency, self.signal_efficiency_error)

    @property
    def rejection_shift(self) -> tuple[float, float]:
        """Relative change of ``1/ε_B`` and its uncertainty (NaN where no background passes)."""
        return self._relative(self.rejection, self.rejection_error)


def _rejection(eff: tuple[float, float]) -> tuple[float, float]:
    e, s = eff
    return (1.0 / e, s / e**2) if e > 0 else (math.inf, math.nan)


def working_point_shifts(
    nominal: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike | None],
    varied: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike | None],
    efficiencies: tuple[float, ...] = (0.3, 0.5, 0.7),
) -> list[WorkingPointShift]:
    """Signal efficiency and background rejection of fixed cuts, nominal against a variation.

    Parameters
    ----------
    nominal, varied
        ``(scores, labels, weights)`` of each sample (labels 1 for signal).
    efficiencies
        Nominal signal efficiencies whose cuts are followed.

    Returns
    -------
    list[WorkingPointShift]

    Notes
    -----
    Each cut ``s ≥ t`` is fixed on the nominal signal (``ε_S^nom(t) = ε``), as an
    analysis fixes it, and applied unchanged to the variation: the shifts
    ``ε_S^var/ε_S^nom - 1`` and ``R^var/R^nom - 1`` with ``R = 1/ε_B`` are what
    the generator or detector setting does to the analysis.  Uncertainties are
    statistical (:func:`cut_efficiency`), nominal and variation independent.
    """
    samples = []
    for s, y, w in (nominal, varied):
        scores, labels = np.asarray(s, dtype=np.float64), np.asarray(y).astype(bool)
        weights = np.ones(len(scores)) if w is None else np.asarray(w, dtype=np.float64)
        samples.append((scores, labels, weights))
    out = []
    for eff in efficiencies:
        scores, labels, weights = samples[0]
        t = threshold_at_efficiency(scores, labels, eff, sample_weight=weights)
        sig, rej = [], []
        for scores, labels, weights in samples:
            sig.append(cut_efficiency(scores[labels] >= t, weights[labels]))
            rej.append(_rejection(cut_efficiency(scores[~labels] >= t, weights[~labels])))
        out.append(
            WorkingPointShift(
                float(eff),
                float(t),
                (sig[0][0], sig[1][0]),
                (sig[0][1], sig[1][1]),
                (rej[0][0], rej[1][0]),
                (rej[0][1], rej[1][1]),
            )
        )
    return out
