"""Positive weights for a sample with signed ones: the local mean weight, learned by regression."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError

__all__ = ["FloorReport", "PositiveWeights", "fit_positive_weights"]


@dataclass(frozen=True)
class PositiveWeights:
    """The map from a regression of the event weight to a positive per-event weight.

    Attributes
    ----------
    scale
        Normalisation: the new weights sum to the original total.
    floor
        Predicted mean weights below this are raised to it before scaling.

    Notes
    -----
    A sample with signed weights ``w`` describes the density ``p(x) ∝ q(x) E[w | x]``,
    ``q`` the density of the events themselves.  Replacing every weight by the local
    mean weight keeps the expectation of any observable ``O``:

    .. math:: \\mathbb E_q[w\\, O(x)] = \\mathbb E_q\\big[\\mathbb E[w|x]\\, O(x)\\big],

    and ``E[w|x] ≥ 0`` wherever the cross section is physical.  The regression
    ``g(x)`` that minimises the mean squared error ``Σ (g(x_i) - w_i)²`` is that mean
    (the neural resampler of Nachman and Thaler, arXiv:2007.11586), so the new weight
    is ``w'(x) = s · max(g(x), floor)``.
    """

    scale: float = 1.0
    floor: float = 0.0

    def __call__(self, predicted: npt.ArrayLike) -> np.ndarray:
        """The positive weight of each event from its regressed mean weight."""
        g = np.asarray(predicted, dtype=np.float64)
        return np.asarray(self.scale * np.maximum(g, self.floor))

    def to_json(self) -> dict[str, float | str]:
        """A JSON-ready record."""
        return {"kind": "positive", "scale": self.scale, "floor": self.floor}

    @classmethod
    def from_json(cls, record: Any, *, where: str) -> PositiveWeights:
        """Read :meth:`to_json`'s record, refusing a damaged one (``where`` names the file)."""
        try:
            out = cls(float(record["scale"]), float(record["floor"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{where} is damaged: no valid scale/floor ({exc})") from None
        if not (math.isfinite(out.scale) and out.scale > 0 and math.isfinite(out.floor) and out.floor >= 0):
            raise DataError(f"{where} is damaged: scale {out.scale}, floor {out.floor}")
        return out


@dataclass(frozen=True)
class FloorReport:
    """What the floor of the positive weights changed.

    Attributes
    ----------
    n_negative_before
        Events whose original weight was negative.
    negative_fraction_before
        Their share of the events.
    n_floored
        Events whose regressed mean weight was below the floor.
    floored_fraction
        ``Σ |min(g, floor) - g|`` over ``Σ |g|``: how much weight the floor moved.
    normalisation
        The factor ``s`` that restores the original total weight.
    """

    n_negative_before: int
    negative_fraction_before: float
    n_floored: int
    floored_fraction: float
    normalisation: float


def fit_positive_weights(
    predicted: npt.ArrayLike, weights: npt.ArrayLike, *, floor_fraction: float = 1e-3
) -> tuple[PositiveWeights, FloorReport]:
    """The positive-weight map from out-of-fold regressions of the weight.

    Parameters
    ----------
    predicted
        ``g(x_i)``, each event's regressed mean weight from a model that never saw it.
    weights
        The original signed weights ``w_i``.
    floor_fraction
        Floor of ``g`` as a fraction of the mean weight: every new weight is strictly
        positive (0 allows zero weights where the regression finds no density).

    Returns
    -------
    tuple[PositiveWeights, FloorReport]

    Notes
    -----
    ``floor = f · Σ w_i / N`` and ``s = Σ w_i / Σ max(g_i, floor)``, so the total
    weight (the cross section the sample stands for) is unchanged.
    """
    g = np.asarray(predicted, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    total = float(np.sum(w))
    if not total > 0:
        raise DataError(f"the weights sum to {total:.4g}; a sample needs a positive total weight to make positive")
    if not np.all(np.isfinite(g)):
        raise DataError("the regression of the weight returned non-finite values; the model did not converge")
    floor = float(floor_fraction) * total / len(w)
    raised = np.maximum(g, floor)
    kept = float(np.sum(raised))
    if not kept > 0:
        raise DataError("the regressed mean weight is nowhere positive; the sample's weights carry no density")
    scale = total / kept
    moved = float(np.sum(raised - g) / max(float(np.sum(np.abs(g))), 1e-300))
    report = FloorReport(int(np.sum(w < 0)), float(np.mean(w < 0)), int(np.sum(g < floor)), moved, scale)
    return PositiveWeights(scale=scale, floor=floor), report
