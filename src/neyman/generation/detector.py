"""A simple parametrised detector: tracker plus a projective calorimeter.

Input and output are jagged Awkward record arrays of shape ``(n_events, var)`` with
fields ``E, px, py, pz`` (GeV), ``charge`` and ``pdg_id``.  Everything is vectorised
over all particles of all events; random numbers come from an explicit
:class:`numpy.random.Generator`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from neyman.exceptions import ConfigError, close_matches
from neyman.optional import require
from neyman.physics.kinematics import eta, phi

__all__ = ["DETECTORS", "INVISIBLE_PDG_IDS", "PARTICLE_FIELDS", "Detector", "get_detector", "simulate"]

PARTICLE_FIELDS = ("E", "px", "py", "pz", "charge", "pdg_id")
"""Fields of a particle record, before and after the detector."""

INVISIBLE_PDG_IDS = (12, 14, 16)
"""Neutrinos (either sign) leave no trace."""

CELL_PDG_ID = 0
"""``pdg_id`` given to calorimeter cells (they are not particles)."""


@dataclass(frozen=True)
class Detector:
    r"""Parameters of the detector simulation.

    Attributes
    ----------
    name
        Label written to the provenance.
    track_eta_max
        Tracker acceptance: charged particles with :math:`|\eta|` below are tracks.
    track_resolution
        Constant term of the relative track momentum resolution.
    track_resolution_pt
        Term growing with :math:`p_T` (per GeV) of the relative track resolution.
    calo_eta_max
        Calorimeter acceptance; particles beyond are lost.
    cell_size
        Cell size in :math:`\eta` and (approximately, so that :math:`2\pi` is
        covered by whole cells) in :math:`\phi`.
    calo_stochastic
        Stochastic term :math:`a` in GeV^{1/2}.
    calo_constant
        Constant term :math:`b`.
    cell_energy_min
        Cells whose smeared energy is not above this are dropped (GeV).

    Notes
    -----
    Tracks: :math:`\sigma_{p}/p = c \oplus d\,p_T` applied as a common scale factor
    on the three-momentum, the mass kept.  Cells: the energies of all neutral (and
    out-of-tracker charged) visible particles in a cell are summed and smeared with
    :math:`\sigma_E/E = a/\sqrt{E} \oplus b`; the cell becomes a massless
    pseudo-particle at the cell centre.  :math:`\oplus` is the sum in quadrature.
    """

    name: str = "default"
    track_eta_max: float = 2.5
    track_resolution: float = 0.01
    track_resolution_pt: float = 1e-4
    calo_eta_max: float = 4.9
    cell_size: float = 0.1
    calo_stochastic: float = 0.5
    calo_constant: float = 0.03
    cell_energy_min: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-serialisable dictionary."""
        return dataclasses.asdict(self)


DETECTORS: dict[str, Detector | None] = {"default": Detector(), "none": None}
"""Named detectors; ``none`` means particle level (only neutrinos removed)."""


def get_detector(name: str) -> Detector | None:
    """Return the detector registered as ``name`` (``None`` for particle level)."""
    try:
        return DETECTORS[name]
    except KeyError:
        raise ConfigError(
            f"unknown detector {name!r}{close_matches(name, DETECTORS)}; choose one of {', '.join(DETECTORS)}"
        ) from None


def _flat(particles: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    ak = require("awkward", purpose="simulate the detector")
    counts = np.asarray(ak.to_numpy(ak.num(particles, axis=1)), dtype=np.int64)
    flat = ak.flatten(particles, axis=1)
    columns = {name: np.asarray(ak.to_numpy(flat[name])) for name in PARTICLE_FIELDS}
    event = np.repeat(np.arange(len(counts)), counts)
    return columns, event


def _jagged(columns: dict[str, np.ndarray], event: np.ndarray, n_events: int) -> Any:
    ak = require("awkward", purpose="simulate the detector")
    order = np.argsort(event, kind="stable")
    counts = np.bincount(event, minlength=n_events)
    record = ak.zip({name: columns[name][order] for name in PARTICLE_FIELDS}, depth_limit=1)
    return ak.unflatten(record, counts)


def simulate(particles: Any, detector: Detector | None, *, rng: np.random.Generator) -> Any:
    """Turn final-state particles into detector objects (tracks and calorimeter cells).

    Parameters
    ----------
    particles
        Jagged record array ``(n_events, var)`` with fields :data:`PARTICLE_FIELDS`.
    detector
        The detector, or ``None`` for particle level (neutrinos are still removed).
    rng
        Source of the smearing random numbers.

    Returns
    -------
    awkward.Array
        Same layout and fields; tracks first then cells within each event.
        Cells have ``charge = 0`` and ``pdg_id = 0``.
    """
    columns, event = _flat(particles)
    n_events = len(particles)
    visible = ~np.isin(np.abs(columns["pdg_id"]), INVISIBLE_PDG_IDS)
    if detector is None:
        return _jagged({k: v[visible] for k, v in columns.items()}, event[visible], n_events)

    e, px, py, pz = (columns[k].astype(np.float64) for k in ("E", "px", "py", "pz"))
    eta_ = eta(px, py, pz)
    phi_ = phi(px, py)
    charged = columns["charge"] != 0
    track = visible & charged & (np.abs(eta_) < detector.track_eta_max)
    to_calo = visible & ~track & (np.abs(eta_) < detector.calo_eta_max)

    # tracks: a common scale on the three-momentum, mass unchanged
    t_pt = np.hypot(px[track], py[track])
    sigma = np.hypot(detector.track_resolution, detector.track_resolution_pt * t_pt)
    scale = np.maximum(1.0 + sigma * rng.standard_normal(t_pt.size), 1e-3)
    m2 = np.maximum(e[track] ** 2 - (px[track] ** 2 + py[track] ** 2 + pz[track] ** 2), 0.0)
    t_px, t_py, t_pz = px[track] * scale, py[track] * scale, pz[track] * scale
    t_e = np.sqrt(m2 + t_px**2 + t_py**2 + t_pz**2)

    # calorimeter: sum energies per (event, eta cell, phi cell)
    n_eta = int(np.ceil(2 * detector.calo_eta_max / detector.cell_size))
    n_phi = max(round(2 * np.pi / detector.cell_size), 1)
    phi_width = 2 * np.pi / n_phi
    i_eta = np.clip(((eta_[to_calo] + detector.calo_eta_max) / detector.cell_size).astype(np.int64), 0, n_eta - 1)
    i_phi = np.clip(((phi_[to_calo] + np.pi) / phi_width).astype(np.int64), 0, n_phi - 1)
    key = (event[to_calo] * n_eta + i_eta) * n_phi + i_phi
    cells, inverse = np.unique(key, return_inverse=True)
    c_true = np.bincount(inverse.ravel(), weights=e[to_calo], minlength=cells.size)
    c_sigma = np.hypot(detector.calo_stochastic * np.sqrt(np.maximum(c_true, 0.0)), detector.calo_constant * c_true)
    c_e = c_true + c_sigma * rng.standard_normal(cells.size)
    keep = c_e > max(detector.cell_energy_min, 0.0)
    cells, c_e = cells[keep], c_e[keep]
    c_event = cells // (n_eta * n_phi)
    c_eta = -detector.calo_eta_max + (((cells // n_phi) % n_eta) + 0.5) * detector.cell_size
    c_phi = -np.pi + ((cells % n_phi) + 0.5) * phi_width
    c_pt = c_e / np.cosh(c_eta)

    out = {
        "E": np.concatenate([t_e, c_e]),
        "px": np.concatenate([t_px, c_pt * np.cos(c_phi)]),
        "py": np.concatenate([t_py, c_pt * np.sin(c_phi)]),
        "pz": np.concatenate([t_pz, c_pt * np.sinh(c_eta)]),
        "charge": np.concatenate([columns["charge"][track], np.zeros(c_e.size, dtype=columns["charge"].dtype)]),
        "pdg_id": np.concatenate(
            [columns["pdg_id"][track], np.full(c_e.size, CELL_PDG_ID, dtype=columns["pdg_id"].dtype)]
        ),
    }
    return _jagged(out, np.concatenate([event[track], c_event]), n_events)
