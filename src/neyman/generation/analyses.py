"""Analyses: turn a batch of simulated events into rows of features.

Each analysis takes a :class:`Batch` (generator record, visible final state and
detector objects) and returns the columns of its rows and, for each row, the index
of its event in the batch.  Selected by :attr:`Process.analysis`:

``jets``
    one row per selected (and, for resonance samples, truth-matched) jet, with
    kinematics, substructure, ``parton_id`` and jagged ``constituent_*`` columns;
``dijet``
    one row per event with a leading jet above threshold: the two leading jets'
    kinematics, mass, :math:`\\tau_{21}`, :math:`\\tau_{32}` and :math:`m_{jj}`;
``dilepton``
    one row per event with exactly two isolated leptons: the UCI SUSY features;
``calibration``
    one row per detector-level jet matched to a particle-level jet: both sets of
    kinematics, composition, width and the response :math:`p_T / p_T^{truth}`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from neyman.generation.detector import simulate
from neyman.generation.jets import (
    Jets,
    constituent_columns,
    find_jets,
    jet_features,
    leading_jets,
    nearest,
    trim,
)
from neyman.generation.processes import Process, Sample
from neyman.generation.ragged import segments
from neyman.generation.truth import Record, decays, hard_parton, match
from neyman.io.lhco import MASS_ORDERED, mass_ordered, ratio
from neyman.optional import require
from neyman.physics.kinematics import delta_phi, delta_r, eta, mass, phi, pt
from neyman.physics.substructure import nsubjettiness

__all__ = ["DIJET_FEATURES", "TRUTH_COLUMNS", "Batch", "analyse"]

Columns = dict[str, Any]

_RESONANCE_PDG = {"top": 6, "w": 24, "higgs": 25}

DIJET_FEATURES = (
    "mjj", "mj1", "mj2", "tau21_j1", "tau32_j1", "tau21_j2", "tau32_j2",
    "ptj1", "etaj1", "phij1", "ptj2", "etaj2", "phij2", "n_constituents_j1", "n_constituents_j2",
    *MASS_ORDERED,
)  # fmt: skip
"""Columns of the ``dijet`` analysis (jets ordered by pT; then the mass-ordered features of the LHC Olympics)."""

LEPTON_PT_MIN = 20.0
LEPTON_ETA_MAX = 2.5
LEPTON_ISOLATION_CONE = 0.3
LEPTON_ISOLATION_MAX = 0.15
JET_LEPTON_OVERLAP = 0.4
SUBJET_JET_PT_MIN = 100.0


@dataclass
class Batch:
    """One batch of events at three levels.

    Attributes
    ----------
    prt
        Pythia's particle record (``nextBatch(...).prt``), for truth.
    particles
        Final-state particles (fields ``E, px, py, pz, charge, pdg_id``), neutrinos included.
    objects
        Detector objects (same fields), or the visible particles at particle level.
    rho
        Per event, the pile-up density of the objects (GeV per unit area), when
        pile-up is overlaid; jets of ``objects`` are then area-median subtracted.
    """

    prt: Any
    particles: Any
    objects: Any
    rho: np.ndarray | None = None

    @property
    def n_events(self) -> int:
        """Events in the batch."""
        return len(self.objects)


def analyse(process: Process, sample: Sample, batch: Batch) -> tuple[Columns, np.ndarray]:
    """Run the analysis of ``process`` on ``batch`` for the class ``sample``.

    Returns
    -------
    (columns, event)
        Row columns and the batch index of each row's event.
    """
    return _ANALYSES[process.analysis](process, sample, batch)


TRUTH_COLUMNS = ("parton_id", "response")
"""Columns of generator truth beside the ``truth_*`` ones: the matched parton's flavour and the
calibration sample's response ``pt / truth_pt`` (recorded in a sample's provenance, so that no
training takes them as features by default)."""


def _jets(process: Process, sample: Sample, batch: Batch) -> tuple[Columns, np.ndarray]:
    selection = process.jets
    jets = find_jets(batch.objects, selection, window=selection.trim_radius <= 0, rho=batch.rho)
    jets = trim(jets, selection, rho=batch.rho)
    record = Record.from_batch(batch.prt)
    if sample.truth:
        found = decays(record, sample.truth)
        jets = jets.take(match(record, found, jets.eta, jets.phi, jets.event, radius=selection.match_radius))
        parton = np.full(len(jets), _RESONANCE_PDG[sample.truth], dtype=np.int64)
    else:
        parton = hard_parton(record, jets.eta, jets.phi, jets.event, radius=selection.radius)
    if sample.partons:
        keep = np.isin(np.abs(parton), sample.partons)
        jets, parton = jets.take(keep), parton[keep]
    columns = jet_features(jets, radius=selection.radius)
    columns.update(_pileup_columns(jets, batch, selection.radius))
    columns["parton_id"] = np.abs(parton)
    if selection.max_constituents > 0:
        columns.update(constituent_columns(jets, selection.max_constituents))
    return columns, jets.event


def _dijet(process: Process, sample: Sample, batch: Batch) -> tuple[Columns, np.ndarray]:
    selection = process.jets
    loose = dataclasses.replace(selection, pt_min=SUBJET_JET_PT_MIN, pt_max=0.0)
    jets = find_jets(batch.objects, loose, window=True, rho=batch.rho)
    lead = leading_jets(jets, batch.n_events, 2)
    ok = (lead[:, 1] >= 0) & (jets.pt[np.maximum(lead[:, 0], 0)] > selection.pt_min)
    ok &= lead[:, 0] >= 0
    events = np.flatnonzero(ok)
    columns: Columns = {}
    four = []
    for k, name in ((0, "j1"), (1, "j2")):
        jet = jets.take(lead[events, k])
        taus = nsubjettiness(jet.constituent_vectors(), n_max=3, r0=selection.radius) if len(jet) else np.zeros((0, 3))
        columns[f"m{name}"] = jet.mass
        columns[f"tau21_{name}"] = ratio(taus[:, 1], taus[:, 0])
        columns[f"tau32_{name}"] = ratio(taus[:, 2], taus[:, 1])
        columns[f"pt{name}"] = jet.pt
        columns[f"eta{name}"] = jet.eta
        columns[f"phi{name}"] = jet.phi
        columns[f"n_constituents_{name}"] = jet.counts
        four.append(jet)
    total = [getattr(four[0], k) + getattr(four[1], k) for k in ("E", "px", "py", "pz")]
    columns["mjj"] = np.asarray(mass(*total))
    columns.update(mass_ordered(columns["mj1"], columns["mj2"], columns["tau21_j1"], columns["tau21_j2"]))
    return {name: columns[name] for name in DIJET_FEATURES}, events


def _flat_objects(objects: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    ak = require("awkward", purpose="select leptons")
    counts = np.asarray(ak.to_numpy(ak.num(objects, axis=1)), dtype=np.int64)
    flat = ak.flatten(objects, axis=1)
    columns = {k: np.asarray(ak.to_numpy(flat[k]), dtype=np.float64) for k in ("E", "px", "py", "pz", "charge")}
    columns["pdg_id"] = np.asarray(ak.to_numpy(flat["pdg_id"]), dtype=np.int64)
    return columns, np.repeat(np.arange(len(counts)), counts)


def _dilepton(process: Process, sample: Sample, batch: Batch) -> tuple[Columns, np.ndarray]:
    from neyman.physics.dilepton import uci_susy_features

    obj, event = _flat_objects(batch.objects)
    o_pt = np.asarray(pt(obj["px"], obj["py"]))
    o_eta = np.asarray(eta(obj["px"], obj["py"], obj["pz"]))
    o_phi = np.asarray(phi(obj["px"], obj["py"]))
    candidate = (
        np.isin(np.abs(obj["pdg_id"]), (11, 13))
        & (obj["charge"] != 0)
        & (o_pt > LEPTON_PT_MIN)
        & (np.abs(o_eta) < LEPTON_ETA_MAX)
    )
    leptons = np.flatnonzero(candidate)
    # isolation: scalar pT sum of the other objects within the cone, relative to the lepton's pT
    lo = np.searchsorted(event, event[leptons], side="left")
    hi = np.searchsorted(event, event[leptons], side="right")
    n_pairs = hi - lo
    which = np.repeat(np.arange(len(leptons)), n_pairs)
    other = segments(lo, n_pairs)
    near = delta_r(o_eta[other], o_phi[other], o_eta[leptons][which], o_phi[leptons][which]) < LEPTON_ISOLATION_CONE
    near &= other != leptons[which]
    cone = np.bincount(which, weights=np.where(near, o_pt[other], 0.0), minlength=len(leptons))
    leptons = leptons[cone < LEPTON_ISOLATION_MAX * o_pt[leptons]]

    n_events = batch.n_events
    per_event = np.bincount(event[leptons], minlength=n_events)
    events = np.flatnonzero(per_event == 2)
    chosen = leptons[np.isin(event[leptons], events)]
    pairs = chosen.reshape(-1, 2)
    harder = o_pt[pairs[:, 0]] >= o_pt[pairs[:, 1]]
    first = np.where(harder, pairs[:, 0], pairs[:, 1])
    second = np.where(harder, pairs[:, 1], pairs[:, 0])

    # missing transverse momentum: minus the vector sum of every detector object
    met_x = -np.bincount(event, weights=obj["px"], minlength=n_events)[events]
    met_y = -np.bincount(event, weights=obj["py"], minlength=n_events)[events]

    # jets for MET_rel, away from the leptons
    jets = find_jets(batch.objects, process.jets, window=True, rho=batch.rho)
    jet_lep = np.zeros(len(jets), dtype=bool)
    for lep in (first, second):
        lep_at = np.full(n_events, -1, dtype=np.int64)
        lep_at[events] = lep
        own = lep_at[jets.event]
        jet_lep |= (own >= 0) & (
            delta_r(jets.eta, jets.phi, o_eta[np.maximum(own, 0)], o_phi[np.maximum(own, 0)]) < JET_LEPTON_OVERLAP
        )
    jets = jets.take(~jet_lep & np.isin(jets.event, events))
    n_max = int(np.bincount(jets.event, minlength=n_events).max()) if len(jets) else 0
    other_phis = np.full((len(events), max(n_max, 1)), np.nan)
    if len(jets):
        row = np.searchsorted(events, jets.event)
        rank = np.arange(len(jets)) - np.searchsorted(jets.event, jets.event, side="left")
        other_phis[row, rank] = jets.phi

    def lepton(index: np.ndarray) -> dict[str, np.ndarray]:
        return {k: obj[k][index] for k in ("E", "px", "py", "pz")}

    columns = uci_susy_features(lepton(first), lepton(second), met_x, met_y, other_phis=other_phis)
    return dict(columns), events


def _calibration(process: Process, sample: Sample, batch: Batch) -> tuple[Columns, np.ndarray]:
    selection = process.jets
    reco = find_jets(batch.objects, selection, window=True, rho=batch.rho)
    visible = simulate(batch.particles, None, rng=np.random.default_rng(0))
    loose = dataclasses.replace(
        selection, pt_min=0.5 * selection.pt_min, pt_max=0.0, eta_max=selection.eta_max + selection.radius
    )
    truth = find_jets(visible, loose, window=True)
    index, distance = nearest(reco.eta, reco.phi, reco.event, truth.eta, truth.phi, truth.event)
    ok = (index >= 0) & (distance < selection.match_radius)
    reco = reco.take(ok)
    truth = truth.take(index[ok])
    columns = jet_features(reco, radius=selection.radius, with_substructure=False)
    columns.update(_composition(reco))
    for key, values in jet_features(truth, radius=selection.radius, with_substructure=False).items():
        columns[f"truth_{key}"] = values
    columns["response"] = columns["pt"] / columns["truth_pt"]
    columns.update(_pileup_columns(reco, batch, selection.radius))
    return columns, reco.event


def _pileup_columns(jets: Jets, batch: Batch, radius: float) -> Columns:
    """With pile-up: each jet's area and its event's density ρ, as subtracted (nothing without)."""
    if batch.rho is None:
        return {}
    area = np.full(len(jets), np.pi * radius**2) if jets.area is None else jets.area
    return {"area": area, "rho": batch.rho[jets.event]}


def _composition(jets: Jets) -> Columns:
    """Charged fraction and multiplicity, and the pT-weighted width of each jet."""
    c = jets.constituents
    jet_of = np.repeat(np.arange(len(jets)), jets.counts)
    charged = c["charge"] != 0
    total = np.bincount(jet_of, weights=c["pt"], minlength=len(jets))
    safe = np.where(total > 0, total, 1.0)
    dr = np.hypot(c["eta"] - jets.eta[jet_of], delta_phi(c["phi"], jets.phi[jet_of]))
    return {
        "charged_fraction": np.bincount(jet_of, weights=np.where(charged, c["pt"], 0.0), minlength=len(jets)) / safe,
        "n_charged": np.bincount(jet_of, weights=charged.astype(np.float64), minlength=len(jets)).astype(np.int64),
        "width": np.bincount(jet_of, weights=c["pt"] * dr, minlength=len(jets)) / safe,
    }


_ANALYSES: dict[str, Callable[[Process, Sample, Batch], tuple[Columns, np.ndarray]]] = {
    "jets": _jets,
    "dijet": _dijet,
    "dilepton": _dilepton,
    "calibration": _calibration,
}
