"""Jet substructure observables: N-subjettiness, energy-correlation ratios, soft drop.

Every function takes the constituents of many jets at once as a jagged Awkward
record array of shape ``(n_jets, var)`` with fields ``px``, ``py``, ``pz``, ``E``
(GeV) and returns NumPy arrays of length ``n_jets``.  Work is vectorised over jets:
reclustering is done by FastJet on all jets in one call, sums over constituents,
pairs and triples by NumPy on padded arrays.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from neyman.optional import require
from neyman.physics.kinematics import eta, phi, pt, rapidity

__all__ = [
    "SUBSTRUCTURE_FEATURES",
    "energy_correlation_ratios",
    "nsubjettiness",
    "softdrop_mass",
    "substructure",
]

SUBSTRUCTURE_FEATURES = ("tau1", "tau2", "tau3", "tau21", "tau32", "c2", "d2", "softdrop_mass")
"""Names of the columns returned by :func:`substructure`, in order."""

_FOUR = ("px", "py", "pz", "E")


def _ak() -> Any:
    return require("awkward", purpose="compute jet substructure")


def _fastjet() -> Any:
    return require("fastjet", purpose="recluster jet constituents")


@contextmanager
def _quiet_fastjet() -> Iterator[None]:
    # FastJet's Python layer warns about exclusive clustering for every jet definition,
    # including kT and C/A where the exclusive jets are well defined.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="dcut and exclusive jets", category=UserWarning)
        yield


def _wrapped(dphi: np.ndarray) -> np.ndarray:
    """An azimuthal difference in :math:`(-2\\pi, 2\\pi)` wrapped into :math:`[-\\pi, \\pi]` (cheaper than ``%``)."""
    two_pi = np.asarray(2 * np.pi, dtype=dphi.dtype)
    wrapped: np.ndarray = dphi - two_pi * np.rint(dphi / two_pi)
    return wrapped


def _four_vectors(constituents: Any) -> Any:
    ak = _ak()
    return ak.zip({name: ak.values_astype(constituents[name], np.float64) for name in _FOUR}, depth_limit=None)


def _padded(values: Any, size: int) -> np.ndarray:
    """Jagged ``(n_jets, var)`` -> NumPy ``(n_jets, size)``, padded with zeros."""
    ak = _ak()
    filled = ak.fill_none(ak.pad_none(values, size, axis=1, clip=True), 0.0)
    return np.asarray(ak.to_numpy(filled), dtype=np.float64).reshape(len(values), size)


def _angles(constituents: Any) -> tuple[Any, Any, Any]:
    px, py, pz = constituents["px"], constituents["py"], constituents["pz"]
    return pt(px, py), eta(px, py, pz), phi(px, py)


def _rapidity_angles(constituents: Any) -> tuple[Any, Any, Any]:
    px, py = constituents["px"], constituents["py"]
    return pt(px, py), rapidity(constituents["E"], constituents["pz"]), phi(px, py)


def nsubjettiness(constituents: Any, *, n_max: int = 3, beta: float = 1.0, r0: float = 0.8) -> np.ndarray:
    r"""N-subjettiness :math:`\tau_1 \dots \tau_{N_{max}}` with exclusive-:math:`k_T` axes.

    Parameters
    ----------
    constituents
        Jagged record array ``(n_jets, var)`` with fields ``px, py, pz, E``.
    n_max
        Largest number of axes.
    beta
        Angular exponent.
    r0
        Characteristic jet radius used in the normalisation.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_jets, n_max)``; column ``N-1`` holds :math:`\tau_N`.

    Notes
    -----
    .. math:: \tau_N = \frac{\sum_i p_{T,i} \min_k \Delta R_{ik}^{\beta}}{\sum_i p_{T,i} R_0^{\beta}}

    with the :math:`N` axes the exclusive jets of a :math:`k_T` reclustering of the
    constituents (Thaler & Van Tilburg, JHEP 03 (2011) 015) and
    :math:`\Delta R^2 = \Delta y^2 + \Delta\phi^2` in rapidity, as FastJet's
    ``Nsubjettiness`` measures it: the axes are massive, and their pseudorapidity
    would move them (by up to 10 % in :math:`\tau_1` of a top jet at :math:`|\eta| \sim 1`).
    A jet with at most :math:`N` constituents has :math:`\tau_N = 0`.
    """
    ak = _ak()
    fastjet = _fastjet()
    vectors = _four_vectors(constituents)
    n_jets = len(vectors)
    counts = ak.to_numpy(ak.num(vectors, axis=1))
    size = max(int(counts.max()) if n_jets else 0, 1)
    pts, etas, phis = (_padded(x, size) for x in _rapidity_angles(vectors))
    norm = pts.sum(axis=1) * r0**beta
    safe_norm = np.where(norm > 0, norm, 1.0)
    out = np.zeros((n_jets, n_max))
    definition = fastjet.JetDefinition(fastjet.kt_algorithm, 10.0)

    def fill(chosen: np.ndarray, ns: range) -> None:
        # one kT clustering of the chosen jets serves every N in ``ns``
        with _quiet_fastjet():
            sequence = fastjet.ClusterSequence(vectors[chosen], definition)
            for n in ns:
                axes = sequence.exclusive_jets(n_jets=n)
                _, ax_eta, ax_phi = (ak.to_numpy(x).reshape(chosen.size, n) for x in _rapidity_angles(axes))
                dr2 = (etas[chosen, :, None] - ax_eta[:, None, :]) ** 2 + _wrapped(
                    phis[chosen, :, None] - ax_phi[:, None, :]
                ) ** 2
                numerator = (pts[chosen] * dr2.min(axis=2) ** (beta / 2)).sum(axis=1)
                out[chosen, n - 1] = numerator / safe_norm[chosen]

    rich = np.flatnonzero(counts > n_max)
    if rich.size:
        fill(rich, range(1, n_max + 1))
    for n in range(1, n_max):
        # jets with n < count <= n_max constituents: tau_N for N < count only
        few = np.flatnonzero(counts == n + 1)
        if few.size:
            fill(few, range(1, n + 1))
    return out


def energy_correlation_ratios(
    constituents: Any, *, beta: float = 1.0, max_constituents: int | None = None, chunk_size: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Energy-correlation ratios :math:`C_2^{(\beta)}` and :math:`D_2^{(\beta)}`.

    Parameters
    ----------
    constituents
        Jagged record array ``(n_jets, var)`` with fields ``px, py, pz, E``.
    beta
        Angular exponent.
    max_constituents
        If given, only the ``max_constituents`` highest-:math:`p_T` constituents
        enter the pair and triple sums (the cost grows as its cube; the momentum
        fractions are still normalised to the full jet).  By default all do, as in
        the definition.
    chunk_size
        Jets processed at once (bounds memory to ``chunk_size * n**2`` for ``n``
        constituents); by default about 2^22 / n² jets.

    Returns
    -------
    (c2, d2)
        Two arrays of length ``n_jets``; zero where :math:`e_2 = 0`.

    Notes
    -----
    With :math:`z_i = p_{T,i} / \sum_j p_{T,j}`,

    .. math::
        e_2 = \sum_{i<j} z_i z_j \Delta R_{ij}^\beta, \quad
        e_3 = \sum_{i<j<k} z_i z_j z_k (\Delta R_{ij} \Delta R_{ik} \Delta R_{jk})^\beta,

    :math:`C_2 = e_3 / e_2^2` (Larkoski, Salam, Thaler, JHEP 06 (2013) 108) and
    :math:`D_2 = e_3 / e_2^3` (Larkoski, Moult, Neill, JHEP 12 (2014) 009).  The
    triple sum is :math:`\tfrac16 \sum_{ij} z_i z_j A_{ij} (A\,\mathrm{diag}(z)\,A)_{ij}`
    with :math:`A_{ij} = \Delta R_{ij}^\beta`, one batched matrix product.
    """
    ak = _ak()
    vectors = _four_vectors(constituents)
    n_jets = len(vectors)
    pts_all, etas_all, phis_all = _angles(vectors)
    total = ak.to_numpy(ak.sum(pts_all, axis=1))
    order = ak.argsort(pts_all, axis=1, ascending=False)
    largest = int(ak.max(ak.num(vectors, axis=1), initial=1))
    size = max(1, largest if max_constituents is None else min(max_constituents, largest))
    if chunk_size is None:
        chunk_size = max(1, 2**22 // size**2)
    z = _padded(pts_all[order], size) / np.where(total > 0, total, 1.0)[:, None]
    etas = _padded(etas_all[order], size)
    phis = _padded(phis_all[order], size)
    e2 = np.zeros(n_jets)
    e3 = np.zeros(n_jets)
    z32, etas32, phis32 = (x.astype(np.float32) for x in (z, etas, phis))
    for start in range(0, n_jets, chunk_size):
        part = slice(start, start + chunk_size)
        zz = z32[part]
        d2 = (etas32[part, :, None] - etas32[part, None, :]) ** 2 + _wrapped(
            phis32[part, :, None] - phis32[part, None, :]
        ) ** 2
        angle = np.sqrt(d2) if beta == 1.0 else d2 ** np.float32(beta / 2)
        pair = zz[:, :, None] * zz[:, None, :] * angle
        e2[part] = 0.5 * pair.sum(axis=(1, 2), dtype=np.float64)
        third = np.matmul(angle * zz[:, None, :], angle)
        e3[part] = (pair * third).sum(axis=(1, 2), dtype=np.float64) / 6.0
    safe = np.where(e2 > 0, e2, 1.0)
    c2 = np.where(e2 > 0, e3 / safe**2, 0.0)
    d2 = np.where(e2 > 0, e3 / safe**3, 0.0)
    return c2, d2


def softdrop_mass(constituents: Any, *, z_cut: float = 0.1, beta: float = 0.0, r0: float = 0.8) -> np.ndarray:
    r"""Soft-drop groomed jet mass (GeV).

    Parameters
    ----------
    constituents
        Jagged record array ``(n_jets, var)`` with fields ``px, py, pz, E``.
    z_cut, beta
        Soft-drop condition parameters; :math:`\beta = 0` is the modified mass-drop tagger.
    r0
        Jet radius in the soft-drop condition.

    Notes
    -----
    The constituents are reclustered with Cambridge/Aachen; going back through the
    clustering history, the softer branch is dropped until

    .. math:: \frac{\min(p_{T,1}, p_{T,2})}{p_{T,1} + p_{T,2}} > z_{cut} \left(\frac{\Delta R_{12}}{R_0}\right)^\beta

    (Larkoski, Marzani, Soyez, Thaler, JHEP 05 (2014) 146).  The declustering is
    FastJet-contrib's ``SoftDrop`` run on all jets in one call.
    """
    ak = _ak()
    fastjet = _fastjet()
    vectors = _four_vectors(constituents)
    out = np.zeros(len(vectors))
    chosen = np.flatnonzero(ak.to_numpy(ak.num(vectors, axis=1)) > 0)
    if chosen.size == 0:
        return out
    definition = fastjet.JetDefinition(fastjet.cambridge_algorithm, 10.0)
    with _quiet_fastjet():
        sequence = fastjet.ClusterSequence(vectors[chosen], definition)
        groomed = sequence.exclusive_jets_softdrop_grooming(njets=1, beta=beta, symmetry_cut=z_cut, R0=r0)
    out[chosen] = np.nan_to_num(np.asarray(ak.to_numpy(groomed["msoftdrop"]), dtype=np.float64))
    return out


def substructure(constituents: Any, *, r0: float = 0.8, max_constituents: int | None = None) -> dict[str, np.ndarray]:
    """All substructure features of :data:`SUBSTRUCTURE_FEATURES` for many jets.

    Parameters
    ----------
    constituents
        Jagged record array ``(n_jets, var)`` with fields ``px, py, pz, E``.
    r0
        Jet radius (N-subjettiness normalisation and soft drop).
    max_constituents
        Cap on constituents entering the energy correlators (default: all of them).

    Returns
    -------
    dict
        Column name -> array of length ``n_jets``.  Ratios are zero where the
        denominator vanishes.
    """
    taus = nsubjettiness(constituents, n_max=3, r0=r0)
    c2, d2 = energy_correlation_ratios(constituents, max_constituents=max_constituents)

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)

    return {
        "tau1": taus[:, 0],
        "tau2": taus[:, 1],
        "tau3": taus[:, 2],
        "tau21": ratio(taus[:, 1], taus[:, 0]),
        "tau32": ratio(taus[:, 2], taus[:, 1]),
        "c2": c2,
        "d2": d2,
        "softdrop_mass": softdrop_mass(constituents, r0=r0),
    }
