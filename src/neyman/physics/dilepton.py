r"""Event-level variables of dilepton + missing-momentum final states.

The quantities that the UCI SUSY data set (Baldi, Sadowski, Whiteson, Nature Commun.
5 (2014) 4308, arXiv:1402.4735) adds to the leptons and the missing transverse
momentum: :math:`E_T^{miss,rel}`, axial :math:`E_T^{miss}`, the razor variables
:math:`M_R, M_T^R, R` (Rogan, arXiv:1006.2727; CMS), the stransverse mass
:math:`M_{T2}` (Lester & Summers 1999; Barr, Lester & Stephens 2003) and the
super-razor variables :math:`\sqrt{\hat s_R}, M_\Delta^R, \Delta\phi_R^\beta,
\cos\theta_{R+1}` (Buckley, Lykken, Rogan & Spiropulu, PRD 89 (2014) 055020,
arXiv:1310.4827).

Leptons are four-momenta ``(E, px, py, pz)`` in GeV given as a :class:`FourMomenta`, a
mapping with keys ``energy`` (or ``E``/``e``), ``px``, ``py``, ``pz``, or a sequence of
four arrays.  Every function is vectorised over events (arrays of shape
``(n_events,)``, or anything that broadcasts) and returns finite values for finite
input: divisions by zero are guarded and documented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.physics.kinematics import delta_phi, eta, mass, phi, pt

__all__ = [
    "UCI_SUSY_FEATURES",
    "UCI_SUSY_HIGH_LEVEL",
    "UCI_SUSY_LOW_LEVEL",
    "FourMomenta",
    "Razor",
    "SuperRazor",
    "axial_met",
    "four_momenta",
    "met_rel",
    "mt2",
    "razor",
    "super_razor",
    "transverse_mass",
    "uci_susy_features",
]

Array: TypeAlias = npt.NDArray[np.float64]

UCI_SUSY_LOW_LEVEL: tuple[str, ...] = (
    "lepton_1_pt",
    "lepton_1_eta",
    "lepton_1_phi",
    "lepton_2_pt",
    "lepton_2_eta",
    "lepton_2_phi",
    "missing_energy_magnitude",
    "missing_energy_phi",
)
"""The 8 low-level UCI SUSY columns, in the data set's order."""

UCI_SUSY_HIGH_LEVEL: tuple[str, ...] = (
    "met_rel",
    "axial_met",
    "m_r",
    "m_tr_2",
    "r",
    "mt2",
    "s_r",
    "m_delta_r",
    "dphi_r_b",
    "cos_theta_r1",
)
"""The 10 high-level UCI SUSY columns, in the data set's order."""

UCI_SUSY_FEATURES: tuple[str, ...] = UCI_SUSY_LOW_LEVEL + UCI_SUSY_HIGH_LEVEL
"""All 18 UCI SUSY feature columns: low level then high level."""

# A boost velocity is capped just below 1 so that gamma stays finite for massless
# systems moving exactly along the boost (e.g. two leptons collinear with the beam).
_BETA_MAX = 1.0 - 1e-12
# Massless visible particles make the M_T2 constraint regions parabolas, and two
# parallel massless particles make the intersection test degenerate; a mass floor of
# this fraction of the transverse energy keeps them ellipses (M_T2 moves at second
# order, ~1e-12 relative).
_MASS_FLOOR = 1e-6


class FourMomenta(NamedTuple):
    """Four-momenta ``(E, px, py, pz)`` of one object per event, in GeV."""

    energy: Array
    px: Array
    py: Array
    pz: Array


FourMomentumLike: TypeAlias = FourMomenta | Mapping[str, npt.ArrayLike] | Sequence[npt.ArrayLike]


class Razor(NamedTuple):
    r"""Razor variables :math:`M_R`, :math:`M_T^R` and :math:`R = M_T^R / M_R` (GeV, GeV, 1)."""

    m_r: Array
    m_tr: Array
    r: Array


class SuperRazor(NamedTuple):
    r"""Super-razor variables (GeV, GeV, radians, 1).

    :math:`\sqrt{\hat s_R}`, :math:`M_\Delta^R`, :math:`\Delta\phi_R^\beta` and
    :math:`|\cos\theta_{R+1}|`; see :func:`super_razor`.
    """

    sqrt_s_r: Array
    m_delta_r: Array
    dphi_r_beta: Array
    cos_theta_r1: Array


def _float(value: npt.ArrayLike) -> Array:
    return np.asarray(value, dtype=np.float64)


def four_momenta(value: FourMomentumLike) -> FourMomenta:
    """Return ``value`` as a :class:`FourMomenta` of broadcast float64 arrays.

    Parameters
    ----------
    value
        A :class:`FourMomenta`; a mapping with keys ``energy`` (or ``E``/``e``),
        ``px``, ``py``, ``pz``; or a sequence of four arrays ``(E, px, py, pz)``.

    Raises
    ------
    DataError
        If a mapping lacks a component or a sequence does not have four entries.
    """
    if isinstance(value, FourMomenta):
        parts: list[npt.ArrayLike] = list(value)
    elif isinstance(value, Mapping):
        energy_key = next((key for key in ("energy", "E", "e") if key in value), None)
        missing = [key for key in ("px", "py", "pz") if key not in value]
        if energy_key is None or missing:
            absent = ["energy"] * (energy_key is None) + missing
            raise DataError(
                f"four-momentum mapping lacks {', '.join(absent)}; it has {sorted(map(str, value))} "
                "and needs energy (or E), px, py, pz"
            )
        parts = [value[energy_key], value["px"], value["py"], value["pz"]]
    else:
        parts = list(value)
        if len(parts) != 4:
            raise DataError(f"a four-momentum needs 4 components (E, px, py, pz), got {len(parts)}")
    arrays = np.broadcast_arrays(*(_float(part) for part in parts))
    return FourMomenta(*(np.asarray(array, dtype=np.float64) for array in arrays))


def _safe_divide(num: Array, den: Array) -> Array:
    """``num / den`` where ``|den| > 1e-200``, else 0."""
    ok = np.abs(den) > 1e-200
    return np.where(ok, num / np.where(ok, den, 1.0), 0.0)


def _boost(p: FourMomenta, bx: Array, by: Array, bz: Array) -> FourMomenta:
    r"""Components of ``p`` in the frame that moves with velocity :math:`\vec\beta`.

    :math:`E' = \gamma(E - \vec\beta\cdot\vec p)`,
    :math:`\vec p\,' = \vec p + \left[\tfrac{\gamma^2}{\gamma+1}\,\vec\beta\cdot\vec p - \gamma E\right]\vec\beta`
    (the form without a division by :math:`\beta^2`); :math:`|\beta|` is capped at
    ``_BETA_MAX``.
    """
    b2 = bx * bx + by * by + bz * bz
    shrink = np.where(b2 > _BETA_MAX**2, _BETA_MAX / np.sqrt(np.maximum(b2, 1e-300)), 1.0)
    bx, by, bz = bx * shrink, by * shrink, bz * shrink
    b2 = bx * bx + by * by + bz * bz
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = bx * p.px + by * p.py + bz * p.pz
    coefficient = gamma * gamma / (gamma + 1.0) * bp - gamma * p.energy
    return FourMomenta(
        gamma * (p.energy - bp), p.px + coefficient * bx, p.py + coefficient * by, p.pz + coefficient * bz
    )


def transverse_mass(
    visible: FourMomentumLike, qx: npt.ArrayLike, qy: npt.ArrayLike, *, invisible_mass: float = 0.0
) -> Array:
    r"""Transverse mass of a visible object and an invisible one of momentum :math:`\vec q_T`.

    Parameters
    ----------
    visible
        Four-momenta of the visible object; its mass is taken from them.
    qx, qy
        Transverse momentum of the invisible object (GeV).
    invisible_mass
        Hypothesised invisible mass :math:`\chi` (GeV).

    Notes
    -----
    .. math::

        m_T^2 = m^2 + \chi^2 + 2\left(E_T\,E_T^{q} - \vec p_T\cdot\vec q_T\right),
        \qquad E_T = \sqrt{m^2 + p_T^2},\quad E_T^{q} = \sqrt{\chi^2 + q_T^2}.
    """
    p = four_momenta(visible)
    qx_, qy_ = _float(qx), _float(qy)
    m = _float(mass(p.energy, p.px, p.py, p.pz))
    chi = float(invisible_mass)
    et = np.sqrt(m * m + p.px * p.px + p.py * p.py)
    eq = np.sqrt(chi * chi + qx_ * qx_ + qy_ * qy_)
    mt2_ = m * m + chi * chi + 2.0 * (et * eq - p.px * qx_ - p.py * qy_)
    return np.asarray(np.sqrt(np.maximum(mt2_, 0.0)), dtype=np.float64)


# --- M_T2 -----------------------------------------------------------------------------


def _adjugate(x: Array) -> Array:
    """Adjugate of stacked 3x3 matrices of shape ``(3, 3, n)`` (cyclic cofactor formula)."""
    out = np.empty_like(x)
    for i in range(3):
        for j in range(3):
            a, b = (j + 1) % 3, (j + 2) % 3
            c, d = (i + 1) % 3, (i + 2) % 3
            out[i, j] = x[a, c] * x[b, d] - x[a, d] * x[b, c]
    return out


def _conic(e2: Array, px: Array, py: Array, k: Array, chi2: Array, mx: Array, my: Array, sign: float) -> Array:
    r"""3x3 matrix :math:`C` of the region :math:`m_T(p, \vec q) \le M` with :math:`\vec q = \vec m + s\,\vec x`.

    With :math:`K = (M^2 - m^2 - \chi^2)/2 \ge 0`, :math:`m_T \le M` is
    :math:`E_T \sqrt{\chi^2 + q^2} \le K + \vec p\cdot\vec q`, i.e. the convex quadratic
    :math:`E_T^2(\chi^2 + q^2) - (K + \vec p\cdot\vec q)^2 \le 0` (no spurious branch when
    :math:`K \ge 0`), written as :math:`(\vec x, 1)\, C\, (\vec x, 1)^T` with
    :math:`P = E_T^2 I - \vec p\vec p^T`, linear part :math:`s(P\vec m - K\vec p)`.
    """
    p11, p12, p22 = e2 - px * px, -px * py, e2 - py * py
    pm_x, pm_y = p11 * mx + p12 * my, p12 * mx + p22 * my
    bx, by = sign * (pm_x - k * px), sign * (pm_y - k * py)
    c = mx * pm_x + my * pm_y - 2.0 * k * (px * mx + py * my) + e2 * chi2 - k * k
    return np.array([[p11, p12, bx], [p12, p22, by], [bx, by, c]])


def _regions_disjoint(
    m_trial: Array,
    vis: tuple[Array, Array, Array, Array],
    vis2: tuple[Array, Array, Array, Array],
    chi: Array,
    met: tuple[Array, Array],
) -> npt.NDArray[np.bool_]:
    r"""True where the two regions :math:`m_T \le M` cannot share a splitting of the missing momentum.

    The regions :math:`\{q_A \le 0\}`, :math:`\{q_B \le 0\}` of two convex quadratics
    are disjoint exactly when :math:`\max_{t\in[0,1]} \min_x [t q_A + (1-t) q_B] > 0`
    (convex theorem of alternatives / Sion's minimax theorem).  The inner minimum is
    :math:`\det C(t) / \det P(t)` with :math:`C(t) = t C_A + (1-t) C_B`, so the test is
    whether the cubic :math:`D(t) = \det C(t)` is positive at one of its critical
    points in :math:`(0, 1)`.
    """
    m1, e21, px1, py1 = vis
    m2, e22, px2, py2 = vis2
    mx, my = met
    chi2 = chi * chi
    m_sq = m_trial * m_trial
    k1 = 0.5 * (m_sq - m1 * m1 - chi2)
    k2 = 0.5 * (m_sq - m2 * m2 - chi2)
    zero = np.zeros_like(mx)
    a = _conic(e21, px1, py1, k1, chi2, zero, zero, 1.0)  # x is the first invisible momentum
    b = _conic(e22, px2, py2, k2, chi2, mx, my, -1.0)  # the second one is met - x
    e = a - b
    adj_b, adj_e = _adjugate(b), _adjugate(e)
    # det(B + tE) = det B + t tr(adj(B) E) + t^2 tr(B adj(E)) + t^3 det E
    d0 = np.einsum("jn,jn->n", b[0], adj_b[:, 0])
    d1 = np.einsum("ijn,jin->n", adj_b, e)
    d2 = np.einsum("ijn,jin->n", b, adj_e)
    d3 = np.einsum("jn,jn->n", e[0], adj_e[:, 0])
    # critical points: 3 d3 t^2 + 2 d2 t + d1 = 0, roots by the cancellation-free formula
    qa, qb, qc = 3.0 * d3, 2.0 * d2, d1
    disc = qb * qb - 4.0 * qa * qc
    real = disc >= 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        q = -0.5 * (qb + np.copysign(np.sqrt(np.where(real, disc, 0.0)), qb))
        roots = (q / qa, qc / q)
    disjoint = np.zeros(mx.shape, dtype=bool)
    for t in roots:
        inside = real & np.isfinite(t) & (t > 0.0) & (t < 1.0)
        t = np.where(inside, t, 0.5)
        value = ((d3 * t + d2) * t + d1) * t + d0
        p11 = t * e[0, 0] + b[0, 0]
        p12 = t * e[0, 1] + b[0, 1]
        p22 = t * e[1, 1] + b[1, 1]
        positive_definite = (p11 > 0.0) & (p11 * p22 - p12 * p12 > 0.0)
        disjoint |= inside & positive_definite & (value > 0.0)
    return disjoint


def mt2(
    p1: FourMomentumLike,
    p2: FourMomentumLike,
    met_x: npt.ArrayLike,
    met_y: npt.ArrayLike,
    *,
    invisible_mass: float = 0.0,
    rtol: float = 1e-9,
    max_iterations: int = 200,
) -> Array:
    r"""Stransverse mass :math:`M_{T2}` of two visible objects and the missing momentum.

    Parameters
    ----------
    p1, p2
        Four-momenta of the two visible objects (GeV); their masses are taken from the
        four-vectors (negative :math:`m^2` from rounding counts as 0).
    met_x, met_y
        Missing transverse momentum :math:`\vec p_T^{miss}` (GeV).
    invisible_mass
        Hypothesised mass :math:`\chi` of each invisible particle (GeV).
    rtol
        Relative width of the final bisection bracket (the result is its midpoint).
    max_iterations
        Upper limit on bisection steps (each halves the bracket).

    Returns
    -------
    numpy.ndarray
        :math:`M_{T2}` in GeV, the broadcast shape of the inputs.

    Notes
    -----
    Lester & Summers (1999), Barr, Lester & Stephens (2003):

    .. math::

        M_{T2} = \min_{\vec q_1 + \vec q_2 = \vec p_T^{miss}}
                 \max\left[m_T(p_1, \vec q_1; \chi),\, m_T(p_2, \vec q_2; \chi)\right],

    with :math:`m_T` of :func:`transverse_mass`.  For a trial value :math:`M` the set
    of :math:`\vec q_1` with :math:`m_T(p_1, \vec q_1) \le M` is the inside of an
    ellipse (a parabola for a massless object), likewise for :math:`\vec q_2 =
    \vec p_T^{miss} - \vec q_1`, and :math:`M_{T2} \le M` exactly when the two
    regions intersect.  :math:`M` is bisected between the bound
    :math:`\max(m_1, m_2) + \chi` and :math:`\max m_T` at the equal split
    :math:`\vec q_1 = \vec q_2 = \vec p_T^{miss}/2`.  The intersection test is
    algebraic: two convex quadratic regions are disjoint iff the cubic
    :math:`\det[t C_1 + (1-t) C_2]` of their 3x3 conic matrices is positive
    somewhere in :math:`0 < t < 1` (with the 2x2 block positive definite), checked at
    its critical points.  All events are bisected together; the loop stops when
    every bracket is below ``rtol`` relative (about 30-40 steps for the default).

    The bisection-over-intersecting-ellipses strategy is that of Cheng & Han
    (arXiv:0810.5178) and Lester & Nachman (arXiv:1411.4312); the conic-pencil test
    here follows from the convex theorem of alternatives.

    Momenta are scaled per event to order one before the test, so the precision is
    ``rtol``, limited by rounding at about :math:`10^{-12}` relative.  Visible masses below
    :math:`10^{-6} E_T` are raised to that value so that the regions stay ellipses;
    this changes :math:`M_{T2}` only at second order, except that a vanishing
    :math:`M_{T2}` comes out as about :math:`10^{-6} E_T`.  Where the minimum is only
    reached asymptotically (massless objects with :math:`\chi = 0` and
    :math:`\vec p_T^{miss}` inside the cone of the visible momenta give
    :math:`M_{T2} = 0`; back-to-back massless objects give :math:`\chi`), the
    infimum is returned, accurate in absolute rather than relative terms.  Exactly
    parallel massless objects make the test ill-conditioned; the result stays finite
    and is good to about :math:`10^{-4}` relative.
    """
    chi = float(invisible_mass)
    if not chi >= 0.0 or not np.isfinite(chi):
        raise DataError(f"invisible_mass must be a finite mass >= 0 GeV, got {invisible_mass}")
    a, b = four_momenta(p1), four_momenta(p2)
    arrays = np.broadcast_arrays(*a, *b, _float(met_x), _float(met_y))
    shape = arrays[0].shape
    flat = np.stack([np.asarray(x, dtype=np.float64).ravel() for x in arrays])
    finite = np.isfinite(flat).all(axis=0)
    # events with a non-finite input are computed on zeros (no warnings) and returned as NaN
    e1, px1, py1, pz1, e2, px2, py2, pz2, mx, my = np.where(finite, flat, 0.0)

    m1 = _float(mass(e1, px1, py1, pz1))
    m2 = _float(mass(e2, px2, py2, pz2))
    pt1_sq, pt2_sq = px1 * px1 + py1 * py1, px2 * px2 + py2 * py2
    m1 = np.maximum(m1, _MASS_FLOOR * np.sqrt(m1 * m1 + pt1_sq))
    m2 = np.maximum(m2, _MASS_FLOOR * np.sqrt(m2 * m2 + pt2_sq))
    scale = np.sqrt(m1 * m1 + pt1_sq) + np.sqrt(m2 * m2 + pt2_sq) + np.hypot(mx, my) + chi
    scale = np.where(scale > 0.0, scale, 1.0)
    m1, m2, px1, py1, px2, py2, mx, my = (x / scale for x in (m1, m2, px1, py1, px2, py2, mx, my))
    chi_n = chi / scale
    e21, e22 = m1 * m1 + px1 * px1 + py1 * py1, m2 * m2 + px2 * px2 + py2 * py2

    lo = np.maximum(m1, m2) + chi_n
    et1, et2 = np.sqrt(e21), np.sqrt(e22)
    hi = np.maximum(
        np.maximum(
            _mt_scaled(m1, et1, px1, py1, 0.5 * mx, 0.5 * my, chi_n),
            _mt_scaled(m2, et2, px2, py2, 0.5 * mx, 0.5 * my, chi_n),
        ),
        lo,
    )
    vis1, vis2 = (m1, e21, px1, py1), (m2, e22, px2, py2)
    for _ in range(max_iterations):
        open_ = finite & (hi - lo > rtol * hi + 1e-15)
        if not open_.any():
            break
        mid = 0.5 * (lo + hi)
        disjoint = _regions_disjoint(mid, vis1, vis2, chi_n, (mx, my))
        lo = np.where(open_ & disjoint, mid, lo)
        hi = np.where(open_ & ~disjoint, mid, hi)
    result = np.where(finite, 0.5 * (lo + hi) * scale, np.nan)
    return np.asarray(result.reshape(shape), dtype=np.float64)


def _mt_scaled(m: Array, et: Array, px: Array, py: Array, qx: Array, qy: Array, chi: Array) -> Array:
    eq = np.sqrt(chi * chi + qx * qx + qy * qy)
    value = m * m + chi * chi + 2.0 * (et * eq - px * qx - py * qy)
    return np.asarray(np.sqrt(np.maximum(value, 0.0)), dtype=np.float64)


# --- razor and super-razor ---------------------------------------------------------------


def razor(p1: FourMomentumLike, p2: FourMomentumLike, met_x: npt.ArrayLike, met_y: npt.ArrayLike) -> Razor:
    r"""Razor variables :math:`M_R`, :math:`M_T^R` and :math:`R` of two leptons and the missing momentum.

    Parameters
    ----------
    p1, p2
        Four-momenta of the two leptons (GeV).
    met_x, met_y
        Missing transverse momentum (GeV).

    Returns
    -------
    Razor
        ``(m_r, m_tr, r)``.

    Notes
    -----
    .. math::

        M_R = \sqrt{(E_1 + E_2)^2 - (p_{z,1} + p_{z,2})^2},\qquad
        M_T^R = \sqrt{\frac{E_T^{miss}(p_{T,1} + p_{T,2})
                      - \vec E_T^{miss}\cdot(\vec p_{T,1} + \vec p_{T,2})}{2}},\qquad
        R = \frac{M_T^R}{M_R}.

    :math:`M_R` is the CMS form of Rogan's razor mass (CMS, PRD 85 (2012) 012004): the
    visible energy in the frame, reached by a longitudinal boost, where the leptons'
    longitudinal momenta are equal and opposite, so it is always defined (Rogan's
    original, 2010, definition boosts to equal momentum magnitudes instead and can
    be undefined).  Since :math:`M_R \ge p_{T,1} + p_{T,2}`, :math:`R \le
    \sqrt{E_T^{miss} / (p_{T,1} + p_{T,2})}`.  :math:`R = 0` where :math:`M_R = 0`.
    """
    a, b = four_momenta(p1), four_momenta(p2)
    mx, my = _float(met_x), _float(met_y)
    e, pz = a.energy + b.energy, a.pz + b.pz
    m_r = np.sqrt(np.maximum(e * e - pz * pz, 0.0))
    met = np.hypot(mx, my)
    sum_pt = np.hypot(a.px, a.py) + np.hypot(b.px, b.py)
    dot = mx * (a.px + b.px) + my * (a.py + b.py)
    m_tr = np.sqrt(np.maximum(0.5 * (met * sum_pt - dot), 0.0))
    return Razor(m_r, m_tr, _safe_divide(m_tr, m_r))


def super_razor(p1: FourMomentumLike, p2: FourMomentumLike, met_x: npt.ArrayLike, met_y: npt.ArrayLike) -> SuperRazor:
    r"""Super-razor variables of Buckley, Lykken, Rogan & Spiropulu (arXiv:1310.4827).

    Parameters
    ----------
    p1, p2
        Four-momenta of the two leptons (GeV); ``p1`` is the one whose angle
        :math:`\theta_{R+1}` is reported (its absolute cosine is symmetric anyway).
    met_x, met_y
        Missing transverse momentum (GeV).

    Returns
    -------
    SuperRazor
        ``(sqrt_s_r, m_delta_r, dphi_r_beta, cos_theta_r1)``.

    Notes
    -----
    The event is assumed to be the pair production of two equal-mass parents, each
    decaying to a lepton and invisible particles; three boosts approximate their rest
    frames.

    1. *Longitudinal boost* with :math:`\beta_z = (p_{z,1} + p_{z,2}) / (E_1 + E_2)`
       to the frame where the leptons' longitudinal momenta are equal and opposite.
       There the dilepton system has energy :math:`E_{\ell\ell} = M_R` (see
       :func:`razor`), mass :math:`m_{\ell\ell}` and momentum :math:`\vec p_T^{\,\ell\ell}`.
    2. *Transverse boost to the approximate centre-of-mass ("R") frame.*  The invisible
       system is given the dilepton mass, :math:`E_{inv} = \sqrt{|\vec E_T^{miss}|^2 +
       m_{\ell\ell}^2}`; the total transverse momentum is :math:`\vec p_T^{\,CM} =
       \vec p_T^{\,\ell\ell} + \vec E_T^{miss}`, and

       .. math::

           \sqrt{\hat s_R} = \sqrt{(E_{\ell\ell} + E_{inv})^2 - |\vec p_T^{\,CM}|^2}
           = \sqrt{2\left(E_{\ell\ell}^2 - \vec p^{\,\ell\ell}\cdot\vec p_T^{\,CM}
             + E_{\ell\ell}\sqrt{E_{\ell\ell}^2 + |\vec p_T^{\,CM}|^2
             - 2\vec p^{\,\ell\ell}\cdot\vec p_T^{\,CM}}\right)},
           \qquad \vec\beta_R = \frac{\vec p_T^{\,CM}}{E_{\ell\ell} + E_{inv}}.

       :math:`\Delta\phi_R^\beta \in [0, \pi]` is the azimuthal angle between
       :math:`\vec\beta_R` and the dilepton momentum in the R frame.
    3. *Boosts to the two parent ("R+1") frames*, back to back, with
       :math:`\vec\beta_{R+1} = (\vec p_1 - \vec p_2) / (E_1 + E_2)` in the R frame
       (lepton 1 boosted by :math:`+\vec\beta_{R+1}`, lepton 2 by
       :math:`-\vec\beta_{R+1}`), after which the two leptons have equal energies.
       Then

       .. math::

           M_\Delta^R = E_1^{R+1} + E_2^{R+1} = \sqrt{(E_1 + E_2)^2 - |\vec p_1 - \vec p_2|^2}\Big|_R,
           \qquad \cos\theta_{R+1} = \left|\hat p_1^{R+1}\cdot\hat\beta_{R+1}\right|.

       For massless leptons :math:`M_\Delta^R = 2E_1^{R+1}` as in the paper.  The sign
       of :math:`\cos\theta_{R+1}` only says which lepton is called first
       (:math:`\cos\theta_2 = -\cos\theta_1`), so its absolute value is returned.

    Degenerate configurations give finite values: boost velocities are capped just
    below 1, undefined angles are 0 and :math:`\cos\theta_{R+1} = 0` when
    :math:`\vec\beta_{R+1} = 0`.
    """
    a, b = four_momenta(p1), four_momenta(p2)
    mx, my = _float(met_x), _float(met_y)
    zero = np.zeros(np.broadcast_shapes(a.energy.shape, b.energy.shape, mx.shape, my.shape))

    beta_z = _safe_divide(a.pz + b.pz, a.energy + b.energy) + zero
    a, b = _boost(a, zero, zero, beta_z), _boost(b, zero, zero, beta_z)

    e_ll = a.energy + b.energy
    llx, lly, llz = a.px + b.px, a.py + b.py, a.pz + b.pz
    m_ll_sq = np.maximum(e_ll * e_ll - llx * llx - lly * lly - llz * llz, 0.0)
    e_inv = np.sqrt(mx * mx + my * my + m_ll_sq)
    cmx, cmy = llx + mx, lly + my
    e_total = e_ll + e_inv
    sqrt_s_r = np.sqrt(np.maximum(e_total * e_total - cmx * cmx - cmy * cmy, 0.0))

    bx, by = _safe_divide(cmx, e_total), _safe_divide(cmy, e_total)
    a, b = _boost(a, bx, by, zero), _boost(b, bx, by, zero)
    dphi_r_beta = np.abs(_float(delta_phi(_float(phi(a.px + b.px, a.py + b.py)), _float(phi(bx, by)))))

    e_sum = a.energy + b.energy
    dx, dy, dz = a.px - b.px, a.py - b.py, a.pz - b.pz
    m_delta_r = np.sqrt(np.maximum(e_sum * e_sum - dx * dx - dy * dy - dz * dz, 0.0))
    rx, ry, rz = _safe_divide(dx, e_sum), _safe_divide(dy, e_sum), _safe_divide(dz, e_sum)
    a = _boost(a, rx, ry, rz)
    along = a.px * rx + a.py * ry + a.pz * rz
    norm = np.sqrt(a.px * a.px + a.py * a.py + a.pz * a.pz) * np.sqrt(rx * rx + ry * ry + rz * rz)
    cos_theta = np.minimum(np.abs(_safe_divide(along, norm)), 1.0)
    return SuperRazor(sqrt_s_r, m_delta_r, dphi_r_beta, cos_theta)


# --- missing-momentum projections -------------------------------------------------------


def met_rel(met_x: npt.ArrayLike, met_y: npt.ArrayLike, phis: npt.ArrayLike) -> Array:
    r"""Relative missing transverse momentum :math:`E_T^{miss,rel}`.

    Parameters
    ----------
    met_x, met_y
        Missing transverse momentum, shape ``(n_events,)`` (GeV).
    phis
        Azimuths of the leptons and jets, shape ``(n_events, n_objects)`` with NaN
        for absent objects (or ``(n_events,)`` for one object per event).

    Returns
    -------
    numpy.ndarray
        :math:`E_T^{miss,rel}` in GeV, shape ``(n_events,)``.

    Notes
    -----
    .. math::

        E_T^{miss,rel} = \begin{cases} E_T^{miss} & \Delta\phi \ge \pi/2 \\
                         E_T^{miss}\sin\Delta\phi & \Delta\phi < \pi/2 \end{cases}

    where :math:`\Delta\phi` is the azimuthal distance between
    :math:`\vec E_T^{miss}` and the closest object.  Without any object it is
    :math:`E_T^{miss}`.
    """
    mx, my = _float(met_x), _float(met_y)
    met = np.hypot(mx, my)
    angles = _float(phis)
    if angles.ndim == met.ndim:
        angles = angles[..., np.newaxis]
    if angles.shape[-1] == 0:
        return np.asarray(met, dtype=np.float64)
    met_phi = _float(phi(mx, my))[..., np.newaxis]
    with np.errstate(invalid="ignore"):
        distance = np.abs(_float(delta_phi(angles, met_phi)))
    closest = np.where(np.isnan(distance), np.pi, distance).min(axis=-1)
    return np.asarray(np.where(closest >= 0.5 * np.pi, met, met * np.sin(closest)), dtype=np.float64)


def axial_met(
    met_x: npt.ArrayLike, met_y: npt.ArrayLike, dilepton_px: npt.ArrayLike, dilepton_py: npt.ArrayLike
) -> Array:
    r"""Axial missing transverse momentum: :math:`\vec E_T^{miss}` projected against the dilepton.

    Parameters
    ----------
    met_x, met_y
        Missing transverse momentum (GeV).
    dilepton_px, dilepton_py
        Transverse momentum :math:`\vec p_T^{\,\ell\ell}` of the lepton pair (GeV).

    Returns
    -------
    numpy.ndarray
        Axial :math:`E_T^{miss}` in GeV.

    Notes
    -----
    .. math::

        E_T^{miss,axial} = -E_T^{miss}\cos\Delta\phi(\vec E_T^{miss}, \vec p_T^{\,\ell\ell})
                         = -\frac{\vec E_T^{miss}\cdot\vec p_T^{\,\ell\ell}}{p_T^{\ell\ell}},

    positive when the missing momentum recoils against the lepton pair (as in
    :math:`ZZ \to \ell\ell\nu\nu`); 0 when :math:`p_T^{\ell\ell} = 0`.
    """
    mx, my = _float(met_x), _float(met_y)
    lx, ly = _float(dilepton_px), _float(dilepton_py)
    return _safe_divide(-(mx * lx + my * ly), np.hypot(lx, ly))


# --- the UCI SUSY feature set ------------------------------------------------------------


def uci_susy_features(
    lep1: FourMomentumLike,
    lep2: FourMomentumLike,
    met_x: npt.ArrayLike,
    met_y: npt.ArrayLike,
    *,
    other_phis: npt.ArrayLike | None = None,
) -> dict[str, Array]:
    r"""The 18 UCI SUSY features of a dilepton + missing-momentum event.

    Parameters
    ----------
    lep1, lep2
        Four-momenta of the leading (higher :math:`p_T`) and second lepton (GeV),
        shape ``(n_events,)`` each.
    met_x, met_y
        Missing transverse momentum (GeV).
    other_phis
        Azimuths of other objects (jets) for :math:`E_T^{miss,rel}`, shape
        ``(n_events, n_objects)``, NaN where absent; ``None`` for leptons only.

    Returns
    -------
    dict
        ``{name: float64 array of shape (n_events,)}`` with the keys of
        :data:`UCI_SUSY_FEATURES` in that order.

    Notes
    -----
    ``lepton_i_pt/eta/phi``, ``missing_energy_magnitude/phi`` are the lepton and
    :math:`\vec E_T^{miss}` kinematics; ``met_rel`` is :func:`met_rel` over both
    leptons and ``other_phis``; ``axial_met`` is :func:`axial_met` against the lepton
    pair; ``m_r``, ``m_tr_2``, ``r`` are :math:`M_R`, :math:`M_T^R` and
    :math:`R = M_T^R / M_R` of :func:`razor` (``m_tr_2`` is taken to be
    :math:`M_T^R` computed from the 2 leptons, in GeV, not its square); ``mt2`` is
    :func:`mt2` with massless invisible particles; ``s_r``, ``m_delta_r``,
    ``dphi_r_b``, ``cos_theta_r1`` are :math:`\sqrt{\hat s_R}`, :math:`M_\Delta^R`,
    :math:`\Delta\phi_R^\beta`, :math:`|\cos\theta_{R+1}|` of :func:`super_razor`.
    """
    a, b = four_momenta(lep1), four_momenta(lep2)
    mx, my = _float(met_x), _float(met_y)
    shape = np.broadcast_shapes(a.energy.shape, b.energy.shape, mx.shape, my.shape)
    phi1, phi2 = _float(phi(a.px, a.py)), _float(phi(b.px, b.py))
    lepton_phis = np.stack(np.broadcast_arrays(phi1, phi2), axis=-1)
    if other_phis is not None:
        others = _float(other_phis)
        if others.ndim == len(shape):
            others = others[..., np.newaxis]
        lepton_phis = np.concatenate([lepton_phis, np.broadcast_to(others, (*shape, others.shape[-1]))], axis=-1)
    raz = razor(a, b, mx, my)
    sup = super_razor(a, b, mx, my)
    columns: dict[str, npt.ArrayLike] = {
        "lepton_1_pt": pt(a.px, a.py),
        "lepton_1_eta": eta(a.px, a.py, a.pz),
        "lepton_1_phi": phi1,
        "lepton_2_pt": pt(b.px, b.py),
        "lepton_2_eta": eta(b.px, b.py, b.pz),
        "lepton_2_phi": phi2,
        "missing_energy_magnitude": np.hypot(mx, my),
        "missing_energy_phi": phi(mx, my),
        "met_rel": met_rel(mx, my, lepton_phis),
        "axial_met": axial_met(mx, my, a.px + b.px, a.py + b.py),
        "m_r": raz.m_r,
        "m_tr_2": raz.m_tr,
        "r": raz.r,
        "mt2": mt2(a, b, mx, my),
        "s_r": sup.sqrt_s_r,
        "m_delta_r": sup.m_delta_r,
        "dphi_r_b": sup.dphi_r_beta,
        "cos_theta_r1": sup.cos_theta_r1,
    }
    return {name: np.broadcast_to(_float(columns[name]), shape).astype(np.float64) for name in UCI_SUSY_FEATURES}
