"""Per-event weights from a classifier: the likelihood-ratio trick, calibrated and clipped."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError

__all__ = ["ClipReport", "RatioWeights", "fit_ratio_weights", "logit"]

_EPS = 1e-15
_SLOPE_BOUNDS = (0.05, 20.0)


def logit(scores: npt.ArrayLike) -> np.ndarray:
    """``ln(s / (1 - s))`` of classifier scores, with ``s`` kept inside ``[10^-15, 1 - 10^-15]``."""
    s = np.clip(np.asarray(scores, dtype=np.float64), _EPS, 1.0 - _EPS)
    return np.asarray(np.log(s) - np.log1p(-s))


@dataclass(frozen=True)
class RatioWeights:
    """The map from a source-vs-target classifier's score to a per-event weight.

    Attributes
    ----------
    slope, offset
        Calibration of the log-odds (``1`` and ``0`` for a calibrated classifier
        trained on balanced classes); the offset also carries the normalisation.
    max_weight
        Weights above this are set to it (``inf``: no clipping).

    Notes
    -----
    A classifier ``f`` trained with the cross-entropy on source (label 0) and target
    (label 1) events of equal total weight approaches ``f = p_T / (p_S + p_T)``, so

    .. math:: w(x) = \\frac{p_T(x)}{p_S(x)} = \\frac{f(x)}{1 - f(x)}
       \\approx \\min\\big(e^{a\\,\\mathrm{logit} f(x) + b},\\ w_\\max\\big)

    with ``a, b`` fitted on out-of-fold scores (:func:`fit_ratio_weights`).
    """

    slope: float = 1.0
    offset: float = 0.0
    max_weight: float = math.inf

    def log_weights(self, scores: npt.ArrayLike) -> np.ndarray:
        """``ln w`` of each event from its classifier score (after clipping)."""
        return np.asarray(np.minimum(self.slope * logit(scores) + self.offset, math.log(self.max_weight)))

    def __call__(self, scores: npt.ArrayLike) -> np.ndarray:
        """The weight ``w = p_T/p_S`` of each event from its classifier score."""
        return np.asarray(np.exp(self.log_weights(scores)))

    def to_json(self) -> dict[str, float | str | None]:
        """A JSON-ready record (``max_weight`` ``None`` for no clipping)."""
        cap = None if math.isinf(self.max_weight) else self.max_weight
        return {"kind": "ratio", "slope": self.slope, "offset": self.offset, "max_weight": cap}

    @classmethod
    def from_json(cls, record: Any, *, where: str) -> RatioWeights:
        """Read :meth:`to_json`'s record, refusing a damaged one (``where`` names the file)."""
        try:
            cap = record["max_weight"]
            out = cls(float(record["slope"]), float(record["offset"]), math.inf if cap is None else float(cap))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{where} is damaged: no valid slope/offset/max_weight ({exc})") from None
        if not (math.isfinite(out.slope) and math.isfinite(out.offset) and out.max_weight > 0):
            raise DataError(f"{where} is damaged: slope {out.slope}, offset {out.offset}, max_weight {out.max_weight}")
        return out


@dataclass(frozen=True)
class ClipReport:
    """What the clipping of the weights removed.

    Attributes
    ----------
    quantile
        The quantile of the source weights the clip was placed at (1: none).
    n_clipped
        Source events whose weight was lowered to ``max_weight``.
    weight_fraction
        Fraction of the source's total weight above the clip, before renormalising.
    normalisation
        The factor that restores ``Σ w_event · w = Σ w_event`` over the source.
    """

    quantile: float
    n_clipped: int
    weight_fraction: float
    normalisation: float


def _platt(z: np.ndarray, y: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """Slope and offset of ``σ(a z + b)`` minimising the weighted cross-entropy."""
    from scipy.optimize import minimize

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        t = p[0] * z + p[1]
        # -[y ln σ(t) + (1-y) ln σ(-t)] = softplus(t) - y t
        per = np.logaddexp(0.0, t) - y * t
        g = c * (1.0 / (1.0 + np.exp(-t)) - y)
        return float(np.sum(c * per)), np.array([np.sum(g * z), np.sum(g)])

    res = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B", bounds=[_SLOPE_BOUNDS, (-50.0, 50.0)])
    return float(res.x[0]), float(res.x[1])


def fit_ratio_weights(
    scores: npt.ArrayLike,
    is_target: npt.ArrayLike,
    sample_weight: npt.ArrayLike | None = None,
    *,
    calibrate: bool = True,
    clip_quantile: float | None = 0.999,
) -> tuple[RatioWeights, ClipReport]:
    """Calibrate, clip and normalise the weights of a source-vs-target classifier.

    Parameters
    ----------
    scores
        Out-of-fold classifier scores ``f`` of source and target events.
    is_target
        1 for target events, 0 for source events.
    sample_weight
        Event weights (negative ones allowed); default ones.
    calibrate
        Fit the slope and offset of the log-odds (Platt scaling on the out-of-fold
        scores, classes at equal total weight); without it ``a = 1, b = 0``.
    clip_quantile
        Clip the weights at this quantile of the source events' weights; ``None``
        or 1 for no clipping.

    Returns
    -------
    tuple[RatioWeights, ClipReport]

    Notes
    -----
    Calibration minimises ``-Σ c_i [y_i ln σ(a z_i + b) + (1 - y_i) ln σ(-a z_i - b)]``
    with ``z = logit f`` and ``c_i`` the event weights scaled to equal class totals;
    it corrects a classifier that is over- or under-confident on events it never saw
    (boosted trees often are).  Finally ``b`` absorbs the normalisation

    .. math:: \\sum_{i \\in S} w^{ev}_i\\, w(x_i) = \\sum_{i \\in S} w^{ev}_i,

    so ``w`` is a ratio of normalised densities: a source sample identical to the
    target gets weights of one.
    """
    z = logit(scores)
    y = np.asarray(is_target, dtype=np.float64)
    ew = np.ones_like(z) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    src, tgt = y == 0, y == 1
    totals = (float(np.sum(ew[src])), float(np.sum(ew[tgt])))
    if not (totals[0] > 0 and totals[1] > 0):
        raise DataError(
            f"the source and target need a positive total event weight (got {totals[0]:.4g} and {totals[1]:.4g})"
        )
    a, b = 1.0, 0.0
    if calibrate:
        c = np.where(tgt, ew / totals[1], ew / totals[0])
        a, b = _platt(z, y, c)
    raw = np.exp(np.minimum(a * z[src] + b, 700.0))
    cap = math.inf
    q = 1.0 if clip_quantile is None else float(clip_quantile)
    if q < 1.0:
        cap = float(np.quantile(raw, q))
    clipped = np.minimum(raw, cap)
    kept = float(np.sum(ew[src] * clipped))
    if not kept > 0:
        raise DataError("the weighted source sums to a non-positive total after reweighting; check the event weights")
    norm = totals[0] / kept
    above = float(np.sum(ew[src] * (raw - clipped)) / np.sum(ew[src] * raw))
    weights = RatioWeights(slope=a, offset=b + math.log(norm), max_weight=cap * norm)
    return weights, ClipReport(q, int(np.sum(raw > cap)), above, norm)
