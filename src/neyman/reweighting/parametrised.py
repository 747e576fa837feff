"""The fit of a generator parameter with a parametrised reweighter (DCTR)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError

__all__ = ["ParameterFit", "fit_parameter_loss", "fit_parameter_scan"]


@dataclass(frozen=True)
class ParameterFit:
    """A likelihood scan of one generator parameter and its minimum.

    Attributes
    ----------
    grid
        The parameter values scanned.
    nll
        ``-2 ln L`` at each value, minus its smallest value.
    estimate, uncertainty
        The minimum of the parabola fitted around the scan's minimum, and the
        half-width where ``-2 Δln L = 1``.
    at_edge
        The minimum lies at the edge of the scanned range: the estimate is a bound.
    """

    grid: np.ndarray
    nll: np.ndarray
    estimate: float
    uncertainty: float
    at_edge: bool

    def to_json(self) -> dict[str, object]:
        """A JSON-ready record."""
        return {
            "estimate": self.estimate,
            "uncertainty": self.uncertainty,
            "at_edge": self.at_edge,
            "grid": self.grid.tolist(),
            "nll": self.nll.tolist(),
        }


def _parabola(grid: np.ndarray, nll: np.ndarray) -> tuple[float, float]:
    """Vertex and ``-2Δln L = 1`` half-width of a parabola through the points near the minimum.

    The vertex stays within the grid: at its edge the minimum is a bound, and the
    parabola's extrapolation beyond the trained range would be none of the model's.
    """
    i = int(np.argmin(nll))
    near = np.abs(np.arange(len(grid)) - i) <= 3
    near &= nll <= nll[i] + max(9.0, np.sort(nll)[min(4, len(nll) - 1)] - nll[i])
    if int(near.sum()) < 3:
        near = np.abs(np.arange(len(grid)) - i) <= 1
    a, b, _ = np.polyfit(grid[near], nll[near], 2)
    if not a > 0:
        return float(grid[i]), math.nan
    return float(np.clip(-b / (2 * a), grid[0], grid[-1])), float(1.0 / math.sqrt(a))


def _scan_inputs(
    grid: npt.ArrayLike,
    log_ratio_data: npt.ArrayLike,
    log_ratio_reference: npt.ArrayLike,
    data_weight: npt.ArrayLike | None,
    reference_weight: npt.ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The scan's arrays (grid, log ratios, weights), refused when they cannot be scanned."""
    theta = np.asarray(grid, dtype=np.float64)
    zd = np.asarray(log_ratio_data, dtype=np.float64)
    zr = np.asarray(log_ratio_reference, dtype=np.float64)
    if theta.ndim != 1 or len(theta) < 3 or np.any(np.diff(theta) <= 0):
        raise DataError(f"the scan needs at least 3 increasing parameter values (got {theta.tolist()})")
    if zd.shape[0] != len(theta) or zr.shape[0] != len(theta):
        raise DataError(f"log ratios of shape {zd.shape} and {zr.shape} do not match a grid of {len(theta)} values")
    if not (np.all(np.isfinite(zd)) and np.all(np.isfinite(zr))):
        raise DataError("the reweighter returned non-finite log ratios; check the model and the parameter range")
    c = np.ones(zd.shape[1]) if data_weight is None else np.asarray(data_weight, dtype=np.float64)
    r = np.ones(zr.shape[1]) if reference_weight is None else np.asarray(reference_weight, dtype=np.float64)
    return theta, zd, zr, c, r


def fit_parameter_scan(
    grid: npt.ArrayLike,
    log_ratio_data: npt.ArrayLike,
    log_ratio_reference: npt.ArrayLike,
    data_weight: npt.ArrayLike | None = None,
    reference_weight: npt.ArrayLike | None = None,
) -> ParameterFit:
    """Fit a parameter θ to data with the learned ratio ``w(x, θ) = p(x|θ)/p(x|θ_0)``.

    Parameters
    ----------
    grid
        θ values to scan, increasing, shape ``(n_grid,)``.
    log_ratio_data
        ``ln w(x_i, θ_k)`` of every data event at every θ, shape ``(n_grid, n_data)``.
    log_ratio_reference
        The same for events of an independent nominal sample (``θ_0``), shape
        ``(n_grid, n_reference)``: they normalise the ratio.
    data_weight, reference_weight
        Event weights (default ones).

    Returns
    -------
    ParameterFit

    Notes
    -----
    With ``p(x|θ) = p(x|θ_0) w(x, θ)`` the log-likelihood of the data is, up to a
    constant,

    .. math:: \\ln L(θ) = \\sum_i c_i \\ln w(x_i, θ) - \\Big(\\sum_i c_i\\Big)
       \\ln \\frac{\\sum_j r_j w(x_j, θ)}{\\sum_j r_j}

    (``c``, ``r`` the data and reference weights; the second term normalises
    ``w`` over the nominal sample, whatever the classifier's calibration).  The
    data weights enter scaled to the data's effective number of events,
    :math:`c_i \\to c_i \\sum_j c_j / \\sum_j c_j^2` (as a fit with ROOT's
    ``SumW2Error``): the scan then does not depend on the weights' units, and for
    weighted data its curvature is that of :math:`N_\\mathrm{eff} = (\\sum c)^2/\\sum c^2`
    events, not of :math:`\\sum c` (unit weights are unchanged).  The
    estimate is the vertex of a parabola through ``-2 ln L`` near its minimum and
    the uncertainty its ``Δ = 1`` half-width: the statistical uncertainty of the
    data sample when the learned ratio is exact and the reference sample large.
    """
    theta, zd, zr, c, r = _scan_inputs(grid, log_ratio_data, log_ratio_reference, data_weight, reference_weight)
    if not (np.sum(c) > 0 and np.sum(r) > 0):
        raise DataError("the data and the reference sample need a positive total weight")
    c = c * (np.sum(c) / np.sum(c * c))
    shift = np.max(zr, axis=1, keepdims=True)
    log_norm = shift[:, 0] + np.log(np.sum(r * np.exp(zr - shift), axis=1) / np.sum(r))
    nll = -2.0 * (zd @ c - np.sum(c) * log_norm)
    nll = nll - nll.min()
    estimate, uncertainty = _parabola(theta, nll)
    i = int(np.argmin(nll))
    return ParameterFit(theta, nll, estimate, uncertainty, at_edge=i in (0, len(theta) - 1))


def _loss_minimum(
    grid: np.ndarray, per_data: np.ndarray, per_ref: np.ndarray, c: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, float]:
    loss = per_data @ c / np.sum(c) + per_ref @ r / np.sum(r)
    # the loss differences are tiny; the parabola is fitted on a scale where they are of order one
    scaled = (loss - loss.min()) * float(np.sum(c))
    return scaled, _parabola(grid, scaled)[0]


def fit_parameter_loss(
    grid: npt.ArrayLike,
    log_ratio_data: npt.ArrayLike,
    log_ratio_reference: npt.ArrayLike,
    data_weight: npt.ArrayLike | None = None,
    reference_weight: npt.ArrayLike | None = None,
    *,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> ParameterFit:
    """Fit θ as the value whose classifier best separates the data from the nominal sample (DCTR).

    Parameters
    ----------
    grid, log_ratio_data, log_ratio_reference, data_weight, reference_weight
        As for :func:`fit_parameter_scan` (``ln w = logit f``).
    n_bootstrap
        Poisson-bootstrap replicas of both samples for the uncertainty (0: none,
        the uncertainty is NaN).
    seed
        Seed of the replicas.

    Returns
    -------
    ParameterFit
        ``nll`` holds the loss scan, scaled by the data's total weight.

    Notes
    -----
    The frozen classifier ``f(x, θ)`` was trained, at each ``θ_j``, to separate nominal
    events from events made at ``θ_j``; its cross-entropy on the nominal (label 0)
    and data (label 1) samples, equal in total weight,

    .. math:: L(θ) = -\\langle \\ln f(x, θ) \\rangle_{data} - \\langle \\ln(1 - f(x, θ)) \\rangle_{nominal},

    is smallest where the data are most like the events made at ``θ``
    (arXiv:1907.08209).  Unlike the likelihood it needs ``f`` to be optimal only for
    the loss it was trained on, not calibrated as a density ratio.  The uncertainty
    is the spread of the minimum over bootstrap replicas of both samples.
    """
    theta, zd, zr, c, r = _scan_inputs(grid, log_ratio_data, log_ratio_reference, data_weight, reference_weight)
    # -ln f = softplus(-z), -ln(1 - f) = softplus(z)
    per_data, per_ref = np.logaddexp(0.0, -zd), np.logaddexp(0.0, zr)
    scan, estimate = _loss_minimum(theta, per_data, per_ref, c, r)
    gen = np.random.default_rng(seed)
    replicas = [
        _loss_minimum(theta, per_data, per_ref, c * gen.poisson(1.0, len(c)), r * gen.poisson(1.0, len(r)))[1]
        for _ in range(n_bootstrap)
    ]
    i = int(np.argmin(scan))
    spread = float(np.std(replicas)) if replicas else math.nan
    return ParameterFit(theta, scan, estimate, spread, at_edge=i in (0, len(theta) - 1))
