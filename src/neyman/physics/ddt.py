"""Designing decorrelated taggers (DDT): a shape variable corrected for its mass dependence.

The classic baseline of mass-decorrelated tagging (Dolen, Harris, Marzani, Rappoccio
& Tran, arXiv:1603.00027): in the scaling variable :math:`\\rho' = \\ln(m^2 / (p_T
\\mu))`, the background's mean of N-subjettiness :math:`\\tau_{21}` is close to linear,
so subtracting the fitted line leaves a variable whose cut keeps the background mass
spectrum nearly unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError

__all__ = ["DDT", "QuantileDDT", "rho_prime"]


def rho_prime(mass: npt.ArrayLike, pt: npt.ArrayLike, *, scale: float = 1.0) -> np.ndarray:
    """The DDT scaling variable :math:`\\rho' = \\ln(m^2 / (p_T \\mu))`.

    Parameters
    ----------
    mass, pt
        Jet mass and transverse momentum (GeV); the mass must be positive.
    scale
        :math:`\\mu` in GeV (1 GeV in the original paper).
    """
    m, p = _positive(mass, pt)
    return np.asarray(np.log(m * m / (p * scale)))


def _positive(mass: npt.ArrayLike, pt: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Jet mass and pT as float arrays, refused unless every value is positive (they enter a logarithm)."""
    m, p = np.asarray(mass, dtype=np.float64), np.asarray(pt, dtype=np.float64)
    if np.any(~(m > 0)) or np.any(~(p > 0)):
        raise DataError("rho: the jet mass and pT must be positive (select jets with mass > 0)")
    return m, p


@dataclass(frozen=True)
class DDT:
    """A linear DDT correction ``shape' = shape - slope * (rho' - rho0)``.

    Attributes
    ----------
    slope
        Fitted slope :math:`M` of the background profile.
    rho0
        The lower end of the fitted range (where the correction is zero).
    """

    slope: float
    rho0: float

    @classmethod
    def fit(
        cls,
        shape: npt.ArrayLike,
        mass: npt.ArrayLike,
        pt: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
        *,
        rho_range: tuple[float, float] | None = None,
    ) -> DDT:
        """Fit the straight line of the background's mean shape against :math:`\\rho'`.

        Parameters
        ----------
        shape
            The shape variable of background jets (e.g. :math:`\\tau_{21}`).
        mass, pt
            Their mass and pT (GeV).
        sample_weight
            Event weights (unit when None).
        rho_range
            The :math:`\\rho'` range of the fit, where the dependence is linear (the
            original uses the region above the non-perturbative turn-on); default the
            background's 10%-90% quantiles.

        Notes
        -----
        Weighted least squares of :math:`\\tau = a + M \\rho'` on the events with
        :math:`\\rho'` in range; :math:`\\rho_0` is the range's lower end.
        """
        tau = np.asarray(shape, dtype=np.float64)
        rho = rho_prime(mass, pt)
        w = np.ones(len(tau)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if not len(tau) == len(rho) == len(w):
            raise DataError(f"DDT: {len(tau)} shapes, {len(rho)} masses and pT, {len(w)} weights")
        lo, hi = rho_range if rho_range is not None else tuple(np.quantile(rho, [0.1, 0.9]))
        sel = (rho >= lo) & (rho <= hi) & np.isfinite(tau)
        if sel.sum() < 3 or not hi > lo:
            raise DataError(f"DDT: fewer than 3 background jets with rho' in [{lo:.2f}, {hi:.2f}]")
        slope = np.polyfit(rho[sel], tau[sel], 1, w=np.sqrt(np.clip(w[sel], 0.0, None)))[0]
        return cls(slope=float(slope), rho0=float(lo))

    def apply(self, shape: npt.ArrayLike, mass: npt.ArrayLike, pt: npt.ArrayLike) -> np.ndarray:
        """The corrected shape :math:`\\tau' = \\tau - M (\\rho' - \\rho_0)`."""
        return np.asarray(np.asarray(shape, dtype=np.float64) - self.slope * (rho_prime(mass, pt) - self.rho0))


@dataclass(frozen=True)
class QuantileDDT:
    """A quantile DDT: the shape minus its background quantile at the jet's ρ.

    Attributes
    ----------
    quantile
        The background quantile :math:`q` the map holds (the cut ``shape' < 0`` keeps
        this fraction of the background in every bin of ρ).
    edges, values
        Bins of ρ = ln(m²/pT²) and the quantile of the shape in each.

    Notes
    -----
    CMS's N2-DDT construction (arXiv:1803.06562) in one dimension: in bins of
    :math:`\\rho = \\ln(m^2/p_T^2)`, :math:`X_q(\\rho)` is the :math:`q`-quantile of the
    background's shape; :math:`\\tau' = \\tau - X_q(\\rho)`, linearly interpolated
    between bin centres.  A cut :math:`\\tau' < 0` then keeps the fraction :math:`q`
    of the background at every mass: no sculpting at that working point by
    construction, and little near it.
    """

    quantile: float
    edges: np.ndarray
    values: np.ndarray

    @staticmethod
    def rho(mass: npt.ArrayLike, pt: npt.ArrayLike) -> np.ndarray:
        """:math:`\\rho = \\ln(m^2 / p_T^2)` (dimensionless)."""
        m, p = _positive(mass, pt)
        return np.asarray(np.log(m * m / (p * p)))

    @classmethod
    def fit(
        cls,
        shape: npt.ArrayLike,
        mass: npt.ArrayLike,
        pt: npt.ArrayLike,
        *,
        quantile: float = 0.05,
        bins: int = 20,
    ) -> QuantileDDT:
        """The map of the background's ``quantile`` of ``shape`` in ``bins`` equally populated bins of ρ."""
        if not 0 < quantile < 1:
            raise DataError(f"QuantileDDT: quantile must be in (0, 1), got {quantile}")
        tau = np.asarray(shape, dtype=np.float64)
        rho = cls.rho(mass, pt)
        if len(tau) != len(rho) or len(tau) < 10 * bins:
            raise DataError(f"QuantileDDT: {len(tau)} background jets for {bins} bins (need 10 per bin)")
        edges = np.quantile(rho, np.linspace(0, 1, bins + 1))
        index = np.clip(np.searchsorted(edges, rho, side="right") - 1, 0, bins - 1)
        values = np.array([np.quantile(tau[index == b], quantile) for b in range(bins)])
        return cls(quantile=float(quantile), edges=edges, values=values)

    def apply(self, shape: npt.ArrayLike, mass: npt.ArrayLike, pt: npt.ArrayLike) -> np.ndarray:
        """The corrected shape :math:`\\tau - X_q(\\rho)`."""
        centres = 0.5 * (self.edges[1:] + self.edges[:-1])
        return np.asarray(np.asarray(shape, dtype=np.float64) - np.interp(self.rho(mass, pt), centres, self.values))
