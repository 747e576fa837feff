"""A parametrised detector: a tracker, electromagnetic and hadronic calorimeters, particle flow.

Presets (:data:`DETECTORS`): ``cms-like`` (the default: particle-flow jet inputs),
``atlas-like`` (calorimeter jets at the electromagnetic scale), ``simple`` (nearly
transparent, for comparison) and ``none`` (particle level).

Input and output are jagged Awkward record arrays of shape ``(n_events, var)`` with
fields ``E, px, py, pz`` (GeV), ``charge`` and ``pdg_id``.  Everything is vectorised
over all particles of all events; random numbers come from an explicit
:class:`numpy.random.Generator`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from neyman.exceptions import ConfigError, close_matches
from neyman.optional import require
from neyman.physics.kinematics import eta, phi

__all__ = [
    "ATLAS_LIKE",
    "CMS_LIKE",
    "DETECTORS",
    "EM_CLUSTER_PDG_ID",
    "HADRONIC_CLUSTER_PDG_ID",
    "INVISIBLE_PDG_IDS",
    "MIN_CELL_SIZE",
    "PARTICLE_FIELDS",
    "SIMPLE",
    "TRACK_MASSES",
    "Detector",
    "get_detector",
    "hadron_response",
    "simulate",
]

PARTICLE_FIELDS = ("E", "px", "py", "pz", "charge", "pdg_id")
"""Fields of a particle record, before and after the detector."""

INVISIBLE_PDG_IDS = (12, 14, 16, 1000012, 1000014, 1000016, 1000022, 1000039, 51, 52, 53)
"""Particles (either sign) that leave no trace: the neutrinos, and the stable weakly interacting
particles of new physics that Pythia can make — sneutrinos, the lightest neutralino (1000022),
the gravitino (1000039) and its dark-matter particles 51–53.  At particle level they are
dropped too, so that missing momentum means the same at both levels."""

TRACK_MASSES = {11: 0.000511, 13: 0.10566, 211: 0.13957}
"""Masses given to tracks by reconstructed type (GeV): a tracker does not tell π, K and p apart."""

EM_CLUSTER_PDG_ID = 22
"""``pdg_id`` of an electromagnetic-calorimeter cell: a photon candidate (no track)."""

HADRONIC_CLUSTER_PDG_ID = 130
"""``pdg_id`` of a hadronic-calorimeter cell: a neutral-hadron candidate."""

_EM_PDG_IDS = (11, 22)
_GROOM_E0 = 1.0  # GeV


MIN_CELL_SIZE = 1e-3
"""Finest calorimeter cell (η units) a detector may have: finer cells number more than an event's cell key holds."""


@dataclass(frozen=True)
class Detector:
    r"""Parameters of the detector simulation: a tracker and two calorimeter sections.

    Attributes
    ----------
    name
        Label written to the provenance.
    particle_flow
        Jet inputs as a particle-flow reconstruction makes them: tracks for the
        tracked charged particles, calorimeter cells for everything else.  Off, the
        calorimeters see every hadron and photon (tracked or not) and only the
        identified leptons are kept as tracks: calorimeter jets.
    track_eta_max
        Tracker acceptance :math:`|\eta|`.
    track_pt_min
        Tracks need :math:`p_T` above this (GeV).
    track_turn_on
        Width of the efficiency turn-on above ``track_pt_min`` (GeV).
    track_efficiency
        Plateau efficiency for charged hadrons.
    lepton_track_efficiency
        Plateau efficiency for electrons and muons (the identified leptons).
    track_resolution
        Constant term of the relative track momentum resolution.
    track_resolution_pt
        Term growing with :math:`p_T` (per GeV) of the relative track resolution.
    calo_eta_max
        Calorimeter acceptance; particles beyond are lost.
    calo_charged_pt_min
        Charged particles with :math:`p_T` below this curl up in the solenoid's field
        before the calorimeter (:math:`p_T < 0.3\,B R / 2`, GeV with B in T and R in m).
    dead_material
        Energy (GeV) each particle loses before the calorimeters (the tracker, the
        solenoid, the cryostat), at most its own.
    cell_size
        Cell size in :math:`\eta` and (approximately, so that :math:`2\pi` is
        covered by whole cells) in :math:`\phi`, both sections.
    em_stochastic, em_noise, em_constant
        Electromagnetic section: :math:`a` (GeV^{1/2}), noise per cell (GeV), :math:`b`.
    had_stochastic, had_noise, had_constant
        Hadronic section, the same terms.
    h_over_e
        Ratio of the hadronic to the electromagnetic response of the calorimeter
        (below one: non-compensating).
    groom_m
        Exponent :math:`m` of the hadron response's energy dependence.
    hadron_response_spread
        Relative spread, per hadron, of its response (the fluctuating electromagnetic
        fraction of its shower).
    em_threshold, had_threshold
        Cells whose measured energy is not above these are dropped (GeV).
    chs
        Charged-hadron subtraction: with particle flow, tracks from pile-up vertices
        (particles with ``vertex > 0``, see :mod:`neyman.generation.pileup`) are
        removed.
    resolution_scale
        Multiplies every resolution term (track, cell, the hadron response spread):
        the knob of a resolution systematic variation (1: nominal).
    energy_scale
        Multiplies the four-momentum of every reconstructed particle, tracks and
        cells: a jet energy scale variation (1: nominal; 1.02 is +2%).

    Notes
    -----
    Tracks: efficiency :math:`\varepsilon(p_T) = \varepsilon_0 (1 - e^{-(p_T - p_{T,min})/w})`
    above :math:`p_{T,min}`; :math:`\sigma_p/p = c \oplus d\,p_T` as a common scale on the
    three-momentum; the energy from the reconstructed type's mass (electron, muon,
    or charged pion for every hadron); ``pdg_id`` becomes ``±11``, ``±13`` or
    ``±211`` (sign from the charge).

    Calorimeters: every particle reaching them first loses ``dead_material``; photons
    and untracked electrons deposit in the electromagnetic
    section with response 1; hadrons in the hadronic section with the response of
    Groom's parametrisation, :math:`R(E) = 1 - (1 - h/e)(E/E_0)^{m-1}`
    (:math:`E_0` = 1 GeV, per particle), each hadron's response fluctuating by a
    Gaussian of relative width ``hadron_response_spread``; charged particles below
    ``calo_charged_pt_min`` never reach the calorimeters; untracked muons,
    neutrinos and the invisible particles of new physics (:data:`INVISIBLE_PDG_IDS`,
    the neutralinos of ``susy_vs_ww``) leave nothing.
    Each cell's deposit is smeared with :math:`\sigma_E = a\sqrt{E} \oplus bE \oplus n`
    (noise only where there is a deposit) and kept above its section's threshold, as a
    massless pseudo-particle at the cell centre with ``pdg_id`` 22 (electromagnetic:
    a photon candidate) or 130 (hadronic: a neutral-hadron candidate).
    :math:`\oplus` is the sum in quadrature.
    """

    name: str = "cms-like"
    particle_flow: bool = True
    track_eta_max: float = 2.5
    track_pt_min: float = 0.4
    track_turn_on: float = 0.2
    track_efficiency: float = 0.9
    lepton_track_efficiency: float = 0.98
    track_resolution: float = 0.01
    track_resolution_pt: float = 1.5e-4
    calo_eta_max: float = 4.9
    calo_charged_pt_min: float = 0.75
    dead_material: float = 0.2
    cell_size: float = 0.1
    em_stochastic: float = 0.05
    em_noise: float = 0.15
    em_constant: float = 0.005
    had_stochastic: float = 1.0
    had_noise: float = 0.3
    had_constant: float = 0.05
    h_over_e: float = 0.55
    groom_m: float = 0.83
    hadron_response_spread: float = 0.15
    em_threshold: float = 0.3
    had_threshold: float = 0.8
    chs: bool = True
    resolution_scale: float = 1.0
    energy_scale: float = 1.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "name" or isinstance(value, bool):
                continue
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"detector.{field.name} must be a finite number, 0 or more (got {value})")
        for name in ("track_efficiency", "lepton_track_efficiency"):
            if getattr(self, name) > 1:
                raise ConfigError(f"detector.{name} is an efficiency, between 0 and 1 (got {getattr(self, name)})")
        if not MIN_CELL_SIZE <= self.cell_size <= math.pi:
            raise ConfigError(
                f"detector.cell_size must lie in [{MIN_CELL_SIZE:g}, π] (η units; got {self.cell_size}); 0.1 is nominal"
            )
        if not self.energy_scale > 0:
            raise ConfigError(f"detector.energy_scale must be positive (got {self.energy_scale}); 1 is nominal")

    def as_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-serialisable dictionary."""
        return dataclasses.asdict(self)


SIMPLE = Detector(
    name="simple",
    track_pt_min=0.0,
    track_turn_on=1e-9,
    track_efficiency=1.0,
    lepton_track_efficiency=1.0,
    track_resolution_pt=1e-4,
    em_stochastic=0.5,
    em_noise=0.0,
    em_constant=0.03,
    had_stochastic=0.5,
    had_noise=0.0,
    had_constant=0.03,
    calo_charged_pt_min=0.0,
    dead_material=0.0,
    h_over_e=1.0,
    hadron_response_spread=0.0,
    em_threshold=0.0,
    had_threshold=0.0,
)
"""Every charged particle a perfect track, one compensating calorimeter without noise or
thresholds: nearly transparent (neyman's detector before 0.x, kept for comparison)."""

CMS_LIKE = Detector()
"""Particle flow on a precise tracker, a crystal electromagnetic and a coarse hadronic
calorimeter (CMS: 2.8%/√E and 100%/√E ⊕ 5%, e/h ≈ 1.8)."""

ATLAS_LIKE = Detector(
    name="atlas-like",
    particle_flow=False,
    track_pt_min=0.5,
    track_resolution_pt=3e-4,
    em_stochastic=0.10,
    em_noise=0.2,
    em_constant=0.007,
    had_stochastic=0.6,
    had_noise=0.7,
    had_constant=0.03,
    calo_charged_pt_min=0.45,
    dead_material=0.6,
    h_over_e=0.79,
    hadron_response_spread=0.1,
    em_threshold=0.5,
    had_threshold=0.8,
)
"""Calorimeter jets at the electromagnetic scale (ATLAS: LAr 10%/√E, tile 50%/√E ⊕ 3%,
e/h ≈ 1.35); tracks only for the identified leptons."""

DETECTORS: dict[str, Detector | None] = {
    "default": CMS_LIKE,
    "cms-like": CMS_LIKE,
    "atlas-like": ATLAS_LIKE,
    "simple": SIMPLE,
    "none": None,
}
"""Named detectors; ``default`` is ``cms-like``; ``none`` means particle level (only invisible particles removed)."""


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
    vertex = np.asarray(ak.to_numpy(flat["vertex"])) if "vertex" in ak.fields(flat) else None
    columns["vertex"] = np.zeros(len(columns["E"]), dtype=np.int8) if vertex is None else vertex
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
        The detector, or ``None`` for particle level (the invisible particles of
        :data:`INVISIBLE_PDG_IDS` are still removed).
    rng
        Source of the smearing random numbers.

    Returns
    -------
    awkward.Array
        Same layout and fields; tracks, then electromagnetic, then hadronic cells
        within each event.  Tracks carry their reconstructed type (``±11``, ``±13``,
        ``±211``); cells have ``charge = 0`` and ``pdg_id`` 22 or 130.
    """
    columns, event = _flat(particles)
    n_events = len(particles)
    visible = ~np.isin(np.abs(columns["pdg_id"]), INVISIBLE_PDG_IDS)
    if detector is None:
        return _jagged({k: v[visible] for k, v in columns.items()}, event[visible], n_events)

    e, px, py, pz = (columns[k].astype(np.float64) for k in ("E", "px", "py", "pz"))
    pdg = np.abs(columns["pdg_id"])
    eta_ = eta(px, py, pz)
    pt = np.hypot(px, py)
    charged = columns["charge"] != 0
    lepton = np.isin(pdg, (11, 13))
    tracked = visible & charged & _tracked(detector, pt, eta_, lepton, rng)
    if detector.chs and detector.particle_flow:
        # charged-hadron subtraction: tracks of pile-up vertices are dropped (being tracked, they never
        # reach the calorimeters of a particle-flow reconstruction)
        from_pileup = tracked & (columns["vertex"] > 0)
        visible &= ~from_pileup
        tracked &= ~from_pileup
    track = tracked if detector.particle_flow else tracked & lepton
    if detector.particle_flow:
        to_calo = visible & ~tracked & (pdg != 13)
    else:  # every hadron and photon reaches the calorimeters; identified leptons are objects of their own
        to_calo = visible & ~(tracked & lepton) & (pdg != 13)
    to_calo &= (np.abs(eta_) < detector.calo_eta_max) & (~charged | (pt > detector.calo_charged_pt_min))
    tracks = _tracks(detector, columns, px, py, pz, pt, track, rng), event[track]
    em = to_calo & np.isin(pdg, _EM_PDG_IDS)
    had = to_calo & ~em
    reaching = np.maximum(e - detector.dead_material, 0.0)
    response = np.ones_like(e)
    spread_width = detector.hadron_response_spread * detector.resolution_scale
    spread = 1.0 + spread_width * rng.standard_normal(int(had.sum()))
    response[had] = np.maximum(hadron_response(e[had], detector.h_over_e, detector.groom_m) * spread, 0.0)
    sections = [
        _cells(detector, event, eta_, phi(px, py), reaching * response, em, "em", rng),
        _cells(detector, event, eta_, phi(px, py), reaching * response, had, "had", rng),
    ]
    parts = [tracks, *sections]
    out = {k: np.concatenate([part[0][k] for part in parts]) for k in PARTICLE_FIELDS}
    if detector.energy_scale != 1.0:
        for k in ("E", "px", "py", "pz"):
            out[k] = out[k] * detector.energy_scale
    return _jagged(out, np.concatenate([part[1] for part in parts]), n_events)


def hadron_response(energy: np.ndarray, h_over_e: float, m: float) -> np.ndarray:
    r"""The calorimeter's response to a hadron of ``energy`` (GeV), relative to an electron's.

    Notes
    -----
    Groom's parametrisation, :math:`R(E) = 1 - (1 - h/e)(E/E_0)^{m-1}` with
    :math:`E_0` = 1 GeV, clipped to :math:`[h/e \cdot 0.8, 1]` below :math:`E_0`.
    """
    scaled = np.maximum(np.asarray(energy, dtype=np.float64), 1e-6) / _GROOM_E0
    return np.clip(1.0 - (1.0 - h_over_e) * scaled ** (m - 1.0), 0.8 * h_over_e, 1.0)


def _tracked(
    detector: Detector, pt: np.ndarray, eta_: np.ndarray, lepton: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Which charged particles leave a reconstructed track (acceptance, threshold, efficiency)."""
    plateau = np.where(lepton, detector.lepton_track_efficiency, detector.track_efficiency)
    above = pt - detector.track_pt_min
    turn_on = 1.0 - np.exp(-np.maximum(above, 0.0) / max(detector.track_turn_on, 1e-12))
    efficiency = np.where(above > 0, plateau * turn_on, 0.0)
    accepted: np.ndarray = (np.abs(eta_) < detector.track_eta_max) & (rng.random(pt.size) < efficiency)
    return accepted


def _tracks(
    detector: Detector,
    columns: dict[str, np.ndarray],
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    pt: np.ndarray,
    track: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Smeared tracks with their reconstructed type (e, mu or charged pion) and its mass."""
    sigma = detector.resolution_scale * np.hypot(detector.track_resolution, detector.track_resolution_pt * pt[track])
    scale = np.maximum(1.0 + sigma * rng.standard_normal(sigma.size), 1e-3)
    t_px, t_py, t_pz = px[track] * scale, py[track] * scale, pz[track] * scale
    pdg = np.abs(columns["pdg_id"][track])
    kind = np.where(np.isin(pdg, (11, 13)), pdg, 211)
    mass = np.select([kind == 11, kind == 13], [TRACK_MASSES[11], TRACK_MASSES[13]], TRACK_MASSES[211])
    charge = columns["charge"][track]
    sign = np.where(kind == 211, np.sign(charge), np.sign(columns["pdg_id"][track]))
    return {
        "E": np.sqrt(mass**2 + t_px**2 + t_py**2 + t_pz**2),
        "px": t_px,
        "py": t_py,
        "pz": t_pz,
        "charge": charge,
        "pdg_id": (sign * kind).astype(columns["pdg_id"].dtype),
    }


def _cells(
    detector: Detector,
    event: np.ndarray,
    eta_: np.ndarray,
    phi_: np.ndarray,
    deposit: np.ndarray,
    into: np.ndarray,
    section: str,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The cells of one calorimeter section: summed deposits, smeared, above threshold."""
    a, noise, b, threshold = (
        (detector.em_stochastic, detector.em_noise, detector.em_constant, detector.em_threshold)
        if section == "em"
        else (detector.had_stochastic, detector.had_noise, detector.had_constant, detector.had_threshold)
    )
    n_eta = int(np.ceil(2 * detector.calo_eta_max / detector.cell_size))
    n_phi = max(round(2 * np.pi / detector.cell_size), 1)
    phi_width = 2 * np.pi / n_phi
    i_eta = np.clip(((eta_[into] + detector.calo_eta_max) / detector.cell_size).astype(np.int64), 0, n_eta - 1)
    i_phi = np.clip(((phi_[into] + np.pi) / phi_width).astype(np.int64), 0, n_phi - 1)
    key = (event[into] * n_eta + i_eta) * n_phi + i_phi
    cells, inverse = np.unique(key, return_inverse=True)
    true = np.bincount(inverse.ravel(), weights=deposit[into], minlength=cells.size)
    sigma = detector.resolution_scale * np.sqrt(a**2 * np.maximum(true, 0.0) + (b * true) ** 2 + noise**2)
    measured = true + sigma * rng.standard_normal(cells.size)
    keep = measured > max(threshold, 0.0)
    cells, measured = cells[keep], measured[keep]
    c_eta = -detector.calo_eta_max + (((cells // n_phi) % n_eta) + 0.5) * detector.cell_size
    c_phi = -np.pi + ((cells % n_phi) + 0.5) * phi_width
    c_pt = measured / np.cosh(c_eta)
    pdg = EM_CLUSTER_PDG_ID if section == "em" else HADRONIC_CLUSTER_PDG_ID
    return (
        {
            "E": measured,
            "px": c_pt * np.cos(c_phi),
            "py": c_pt * np.sin(c_phi),
            "pz": c_pt * np.sinh(c_eta),
            "charge": np.zeros(cells.size, dtype=np.int64),
            "pdg_id": np.full(cells.size, pdg, dtype=np.int64),
        },
        cells // (n_eta * n_phi),
    )
