"""Pile-up: minimum-bias events overlaid on each hard event, and its subtraction.

Each hard event receives a Poisson number (mean ⟨μ⟩) of non-diffractive minimum-bias
events from a second Pythia instance with multi-parton interactions on.  Their
final-state particles join the event's with ``vertex = 1`` (the hard event's have
``vertex = 0``), so that the detector's charged-hadron subtraction can drop the
tracks of pile-up vertices (:attr:`~neyman.generation.detector.Detector.chs`).

Jets are then corrected by the area-median method (Cacciari, Salam, Soyez, JHEP 04
(2008) 005): the event's pile-up density ρ is the median of :math:`\\sum p_T / A` over
a grid of patches (FastJet's ``GridMedianBackgroundEstimator``), and every jet's
four-momentum loses :math:`\\rho A^\\mu`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neyman.optional import require
from neyman.physics.kinematics import phi, rapidity

__all__ = [
    "GRID_RAPIDITY_MAX",
    "GRID_SPACING",
    "MINIMUM_BIAS_SETTINGS",
    "SHARED_SETTINGS",
    "event_density",
    "minimum_bias_settings",
    "overlay",
    "subtract",
]

MINIMUM_BIAS_SETTINGS = ("SoftQCD:nonDiffractive = on", "PartonLevel:MPI = on")
"""Pythia settings of the overlaid events (with the hard process's beams)."""


SHARED_SETTINGS = (
    "Beams",
    "PDF",
    "Tune",
    "MultipartonInteractions",
    "ColourReconnection",
    "BeamRemnants",
    "SpaceShower",
    "TimeShower",
    "SigmaTotal",
    "SigmaDiffractive",
    "HadronLevel",
    "StringZ",
    "StringPT",
    "StringFlav",
    "ParticleDecays",
)
"""Groups of Pythia settings describing the collisions rather than the hard process: the
pile-up takes them from the hard process's settings (a tune or PDF variation holds for both)."""


def minimum_bias_settings(hard_settings: tuple[str, ...]) -> tuple[str, ...]:
    """Pythia settings of the pile-up overlaid on events generated with ``hard_settings``.

    The lines of ``hard_settings`` in the groups of :data:`SHARED_SETTINGS` (beams,
    PDF, tune, multi-parton interactions, showers, hadronisation, decays) and those
    making a particle stable (``<id>:mayDecay``), in order, so that a ``--set
    pythia.Beams:eCM=...`` or ``pythia.Tune:pp=...`` given after the process's own
    settings holds for its pile-up too; then :data:`MINIMUM_BIAS_SETTINGS`.  The
    hard process's selection (``HardQCD:all``, ``PhaseSpace:pTHatMin``, forced
    resonance decays) stays out.  Pythia reads setting names without regard to
    case, and so does this selection.
    """
    groups = {group.lower() for group in SHARED_SETTINGS}

    def shared(line: str) -> bool:
        group, _, name = line.split("=")[0].strip().lower().partition(":")
        return group in groups or (group.isdigit() and name.strip() == "maydecay")

    return (*(line for line in hard_settings if shared(line)), *MINIMUM_BIAS_SETTINGS)


GRID_RAPIDITY_MAX = 2.5
"""The grid estimating ρ covers :math:`|y| <` this."""

GRID_SPACING = 0.55
"""Patch size in rapidity and (to the nearest whole number of patches) in azimuth."""


def overlay(hard: Any, pileup: Any, counts: np.ndarray) -> Any:
    """Add the particles of ``counts[i]`` consecutive minimum-bias events to hard event ``i``.

    Parameters
    ----------
    hard
        Jagged particle records ``(n_events, var)`` of the hard events.
    pileup
        Jagged particle records ``(counts.sum(), var)`` of the minimum-bias events, same fields.
    counts
        Minimum-bias events per hard event.

    Returns
    -------
    awkward.Array
        The hard events with the pile-up particles appended and a ``vertex`` field
        (0 for the hard event's particles, 1 for pile-up).
    """
    ak = require("awkward", purpose="overlay pile-up")
    n_events = len(hard)
    fields = list(hard.fields)
    owner_of_event = np.repeat(np.arange(n_events), counts)
    per_pileup_event = np.asarray(ak.to_numpy(ak.num(pileup, axis=1)), dtype=np.int64)
    pileup_owner = np.repeat(owner_of_event, per_pileup_event)
    hard_counts = np.asarray(ak.to_numpy(ak.num(hard, axis=1)), dtype=np.int64)
    hard_owner = np.repeat(np.arange(n_events), hard_counts)
    flat_hard, flat_pileup = ak.flatten(hard, axis=1), ak.flatten(pileup, axis=1)
    owner = np.concatenate([hard_owner, pileup_owner])
    order = np.argsort(owner, kind="stable")
    columns = {
        name: np.concatenate([np.asarray(ak.to_numpy(flat_hard[name])), np.asarray(ak.to_numpy(flat_pileup[name]))])[
            order
        ]
        for name in fields
    }
    columns["vertex"] = np.concatenate(
        [np.zeros(hard_owner.size, dtype=np.int8), np.ones(pileup_owner.size, dtype=np.int8)]
    )[order]
    return ak.unflatten(ak.zip(columns, depth_limit=1), np.bincount(owner, minlength=n_events))


def event_density(objects: Any) -> np.ndarray:
    """The pile-up density ρ (GeV per unit area) of each event's detector objects.

    Notes
    -----
    :math:`\\rho = \\operatorname{median}_k \\; \\sum_{i \\in k} p_{T,i} / A_k` over the
    patches :math:`k` of a grid in rapidity (:math:`|y| <` :data:`GRID_RAPIDITY_MAX`)
    and azimuth, :math:`A_k = \\Delta y \\, \\Delta\\phi`; the hard jets occupy few
    patches and barely move the median.
    """
    ak = require("awkward", purpose="estimate the pile-up density")
    n_events = len(objects)
    counts = np.asarray(ak.to_numpy(ak.num(objects, axis=1)), dtype=np.int64)
    flat = ak.flatten(objects, axis=1)
    px, py, pz, energy = (np.asarray(ak.to_numpy(flat[k]), dtype=np.float64) for k in ("px", "py", "pz", "E"))
    event = np.repeat(np.arange(n_events), counts)
    n_y = round(2 * GRID_RAPIDITY_MAX / GRID_SPACING)
    n_phi = round(2 * np.pi / GRID_SPACING)
    y = rapidity(energy, pz)
    inside = np.abs(y) < GRID_RAPIDITY_MAX
    i_y = np.clip(((y[inside] + GRID_RAPIDITY_MAX) / (2 * GRID_RAPIDITY_MAX) * n_y).astype(np.int64), 0, n_y - 1)
    i_phi = np.clip(((phi(px[inside], py[inside]) + np.pi) / (2 * np.pi) * n_phi).astype(np.int64), 0, n_phi - 1)
    cells = (event[inside] * n_y + i_y) * n_phi + i_phi
    pt = np.hypot(px[inside], py[inside])
    summed = np.bincount(cells, weights=pt, minlength=n_events * n_y * n_phi).reshape(n_events, n_y * n_phi)
    area = (2 * GRID_RAPIDITY_MAX / n_y) * (2 * np.pi / n_phi)
    return np.asarray(np.median(summed, axis=1) / area)


_DISC_POINTS = 256


def _disc(radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets ``(dy, dphi)`` of points filling a disc of ``radius`` uniformly (a sunflower pattern)."""
    k = np.arange(_DISC_POINTS) + 0.5
    r = radius * np.sqrt(k / _DISC_POINTS)
    angle = k * np.pi * (3.0 - np.sqrt(5.0))
    return r * np.cos(angle), r * np.sin(angle)


def subtract(
    px: np.ndarray, py: np.ndarray, pz: np.ndarray, energy: np.ndarray, rho: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Jet four-momenta with :math:`\\rho A^\\mu` removed (anti-:math:`k_T` jets of ``radius``).

    Notes
    -----
    The area four-vector of a jet at rapidity :math:`y` and azimuth :math:`\\phi` sums
    the massless directions of the disc of radius :math:`R` around it, as FastJet's
    ghosts do for a hard anti-:math:`k_T` jet:
    :math:`A^\\mu = \\frac{\\pi R^2}{N} \\sum_g (\\cosh y_g, \\cos\\phi_g, \\sin\\phi_g, \\sinh y_g)`
    over :math:`N` = 256 points filling the disc.  It is massive, so
    :math:`p^\\mu_{sub} = p^\\mu - \\rho A^\\mu` removes a uniform pile-up's
    contribution to the jet mass as well as to its momentum.  A jet whose transverse
    momentum would not stay positive becomes a zero four-vector.
    """
    y = rapidity(energy, pz)
    azimuth = phi(px, py)
    dy, dphi = _disc(radius)
    weight = np.asarray(rho, dtype=np.float64)[:, None] * (np.pi * radius**2 / _DISC_POINTS)
    gy, gphi = y[:, None] + dy[None, :], azimuth[:, None] + dphi[None, :]
    a_px = (weight * np.cos(gphi)).sum(axis=1)
    a_py = (weight * np.sin(gphi)).sum(axis=1)
    a_pz = (weight * np.sinh(gy)).sum(axis=1)
    a_e = (weight * np.cosh(gy)).sum(axis=1)
    gone = np.hypot(px, py) <= np.hypot(a_px, a_py)
    new_px, new_py, new_pz, new_e = px - a_px, py - a_py, pz - a_pz, energy - a_e
    new_px[gone], new_py[gone], new_pz[gone], new_e[gone] = 0.0, 0.0, 0.0, 0.0
    # rounding must not make the mass imaginary: E at least |p|
    new_e = np.maximum(new_e, np.sqrt(new_px**2 + new_py**2 + new_pz**2))
    return new_px, new_py, new_pz, new_e
