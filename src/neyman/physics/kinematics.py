"""Kinematic quantities of four-momenta ``(E, px, py, pz)`` in GeV.

All functions are ufunc-style: they accept NumPy arrays or Awkward arrays (flat or
jagged) and broadcast like NumPy.  No Python loop over particles.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["delta_phi", "delta_r", "eta", "mass", "phi", "pt", "rapidity"]

_LIMIT = 1e4


def _clip(value: Any) -> Any:
    # np.clip is not dispatched to jagged Awkward arrays; minimum/maximum are
    return np.minimum(np.maximum(value, -_LIMIT), _LIMIT)


def pt(px: Any, py: Any) -> Any:
    r"""Transverse momentum :math:`p_T = \sqrt{p_x^2 + p_y^2}`."""
    return np.hypot(px, py)


def phi(px: Any, py: Any) -> Any:
    r"""Azimuth :math:`\phi = \operatorname{atan2}(p_y, p_x) \in (-\pi, \pi]`."""
    return np.arctan2(py, px)


def eta(px: Any, py: Any, pz: Any) -> Any:
    r"""Pseudorapidity :math:`\eta = \operatorname{arsinh}(p_z / p_T)`.

    Notes
    -----
    A particle along the beam (:math:`p_T = 0`) gets :math:`\eta = \pm 10^{4}`
    (signed like :math:`p_z`) rather than an infinity, so that sums and histograms
    stay finite.
    """
    transverse = np.hypot(px, py)
    safe = np.maximum(transverse, 1e-300)
    value = np.arcsinh(pz / safe)
    return _clip(value)


def rapidity(energy: Any, pz: Any) -> Any:
    r"""Rapidity :math:`y = \tfrac12 \ln\frac{E + p_z}{E - p_z}` (clipped to :math:`\pm 10^4`)."""
    num = np.maximum(energy + pz, 1e-300)
    den = np.maximum(energy - pz, 1e-300)
    return _clip(0.5 * np.log(num / den))


def mass(energy: Any, px: Any, py: Any, pz: Any) -> Any:
    r"""Invariant mass :math:`m = \sqrt{\max(E^2 - |\vec p|^2, 0)}`.

    Notes
    -----
    Slightly negative :math:`m^2` from rounding is clipped to zero.
    """
    m2 = energy * energy - (px * px + py * py + pz * pz)
    return np.sqrt(np.maximum(m2, 0.0))


def delta_phi(phi1: Any, phi2: Any) -> Any:
    r"""Azimuthal difference :math:`\phi_1 - \phi_2` wrapped into :math:`[-\pi, \pi)`."""
    return (phi1 - phi2 + np.pi) % (2.0 * np.pi) - np.pi


def delta_r(eta1: Any, phi1: Any, eta2: Any, phi2: Any) -> Any:
    r"""Angular distance :math:`\Delta R = \sqrt{\Delta\eta^2 + \Delta\phi^2}`."""
    return np.hypot(eta1 - eta2, delta_phi(phi1, phi2))
