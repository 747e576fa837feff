"""Jets from detector objects: clustering, selection, truth matching and features.

All steps work on whole batches of events at once (FastJet on Awkward arrays, NumPy
on flattened columns); there is no Python loop over particles or jets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neyman._optional import require
from neyman.exceptions import ConfigError
from neyman.generation.detector import PARTICLE_FIELDS
from neyman.generation.processes import JetSelection
from neyman.physics.kinematics import delta_r, eta, mass, phi, pt
from neyman.physics.substructure import substructure

__all__ = ["CONSTITUENT_FIELDS", "JET_FEATURES", "cluster_jets", "truth_match"]

JET_FEATURES = (
    "pt", "eta", "phi", "mass", "energy", "n_constituents",
    "tau1", "tau2", "tau3", "tau21", "tau32", "c2", "d2", "softdrop_mass",
)  # fmt: skip
"""Flat per-jet columns."""

CONSTITUENT_FIELDS = ("E", "px", "py", "pz", "pt", "eta", "phi", "charge", "pdg_id")
"""Jagged per-constituent columns, stored as ``constituent_<field>``."""

_ALGORITHMS = ("antikt", "kt", "cambridge")


def _jet_definition(selection: JetSelection) -> Any:
    fastjet = require("fastjet", purpose="cluster jets")
    algorithms = {
        "antikt": fastjet.antikt_algorithm,
        "kt": fastjet.kt_algorithm,
        "cambridge": fastjet.cambridge_algorithm,
    }
    if selection.algorithm not in algorithms:
        raise ConfigError(f"unknown jet algorithm {selection.algorithm!r}; choose one of {', '.join(_ALGORITHMS)}")
    return fastjet.JetDefinition(algorithms[selection.algorithm], selection.radius)


def cluster_jets(objects: Any, selection: JetSelection) -> tuple[dict[str, Any], np.ndarray]:
    """Cluster detector objects into jets and keep those in the selection window.

    Parameters
    ----------
    objects
        Jagged record array ``(n_events, var)`` with fields ``E, px, py, pz, charge, pdg_id``.
    selection
        Jet definition and acceptance.

    Returns
    -------
    (columns, event)
        ``columns`` maps :data:`JET_FEATURES` and ``constituent_<field>`` to arrays
        with one row per selected jet (constituents jagged, ordered by decreasing
        pT and capped at ``selection.max_constituents``; features use all of them).
        ``event`` gives the index of each jet's event in ``objects``.
    """
    ak = require("awkward", purpose="cluster jets")
    fastjet = require("fastjet", purpose="cluster jets")
    n_events = len(objects)
    vectors = ak.zip({k: ak.values_astype(objects[k], np.float64) for k in ("px", "py", "pz", "E")})
    sequence = fastjet.ClusterSequence(vectors, _jet_definition(selection))
    jets = sequence.inclusive_jets(min_pt=selection.pt_min)
    index = sequence.constituent_index(min_pt=selection.pt_min)

    j_pt = pt(jets.px, jets.py)
    j_eta = eta(jets.px, jets.py, jets.pz)
    keep = (j_pt > selection.pt_min) & (j_pt < selection.pt_max) & (abs(j_eta) < selection.eta_max)
    per_event = np.asarray(ak.to_numpy(ak.sum(keep, axis=1)), dtype=np.int64)
    event = np.repeat(np.arange(n_events), per_event)
    sel = ak.flatten(jets[keep], axis=1)
    sel_index = ak.flatten(index[keep], axis=1)

    # constituents: local indices -> global indices into the flattened objects
    n_objects = np.asarray(ak.to_numpy(ak.num(objects, axis=1)), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(n_objects)[:-1]]).astype(np.int64)
    counts = np.asarray(ak.to_numpy(ak.num(sel_index, axis=1)), dtype=np.int64)
    flat_index = np.asarray(ak.to_numpy(ak.flatten(sel_index)), dtype=np.int64) + np.repeat(offsets[event], counts)
    flat_objects = ak.flatten(objects, axis=1)
    cols = {k: np.asarray(ak.to_numpy(flat_objects[k]))[flat_index] for k in PARTICLE_FIELDS}
    cols["pt"] = pt(cols["px"], cols["py"])
    cols["eta"] = eta(cols["px"], cols["py"], cols["pz"])
    cols["phi"] = phi(cols["px"], cols["py"])
    # order by decreasing pT within each jet: sort on (jet, -pt)
    jet_of = np.repeat(np.arange(len(counts)), counts)
    order = np.lexsort((-cols["pt"], jet_of))
    cols = {k: v[order] for k, v in cols.items()}
    constituents = ak.unflatten(ak.zip({k: cols[k] for k in ("px", "py", "pz", "E")}), counts)

    px, py, pz, energy = (np.asarray(ak.to_numpy(sel[k]), dtype=np.float64) for k in ("px", "py", "pz", "E"))
    columns: dict[str, Any] = {
        "pt": pt(px, py),
        "eta": eta(px, py, pz),
        "phi": phi(px, py),
        "mass": mass(energy, px, py, pz),
        "energy": energy,
        "n_constituents": counts,
    }
    columns.update(substructure(constituents, r0=selection.radius))

    # capped storage: rank of each constituent within its jet
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    rank = np.arange(counts.sum()) - np.repeat(starts, counts)
    stored = rank < selection.max_constituents
    stored_counts = np.minimum(counts, selection.max_constituents)
    for k in CONSTITUENT_FIELDS:
        values = cols[k][stored]
        if k in ("E", "px", "py", "pz", "pt", "eta", "phi", "charge"):
            values = values.astype(np.float32)
        else:
            values = values.astype(np.int32)
        columns[f"constituent_{k}"] = ak.unflatten(values, stored_counts)
    return columns, event


def _gather(prt: Any, index: Any) -> Any:
    """``prt[index]`` per event for a jagged integer ``index`` of the same length."""
    ak = require("awkward", purpose="match jets to partons")
    counts = np.asarray(ak.to_numpy(ak.num(prt, axis=1)), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    sizes = np.asarray(ak.to_numpy(ak.num(index, axis=1)), dtype=np.int64)
    flat = np.asarray(ak.to_numpy(ak.flatten(index)), dtype=np.int64) + np.repeat(offsets, sizes)
    out = {}
    for k in ("id", "daughter1", "daughter2", "px", "py", "pz"):
        src = prt.p[k] if k in ("px", "py", "pz") else prt[k]
        out[k] = ak.unflatten(np.asarray(ak.to_numpy(ak.flatten(src)))[flat], sizes)
    return out


def _last_copy(prt: Any, index: Any, *, max_steps: int = 200) -> Any:
    """Follow each particle's chain of shower copies (one daughter, same id) to its last copy."""
    ak = require("awkward", purpose="match jets to partons")
    for _ in range(max_steps):
        here = _gather(prt, index)
        single = (here["daughter1"] == here["daughter2"]) & (here["daughter1"] > 0)
        target = ak.where(single, here["daughter1"], index)
        same = single & (_gather(prt, target)["id"] == here["id"])
        if not ak.any(same):
            break
        index = ak.where(same, target, index)
    return index


def truth_match(
    prt: Any, jet_eta: np.ndarray, jet_phi: np.ndarray, event: np.ndarray, *, kind: str, radius: float
) -> np.ndarray:
    """Whether each jet contains a hadronically decaying top (or W) and all its decay quarks.

    Parameters
    ----------
    prt
        The Pythia particle records of the batch (``nextBatch(...).prt``).
    jet_eta, jet_phi
        Direction of each jet.
    event
        Index of each jet's event in ``prt``.
    kind
        ``"top"`` or ``"w"``.
    radius
        Matching radius :math:`\\Delta R`.

    Notes
    -----
    The hard-process resonances (status -22)
    are followed to their last copy (where they decay); for a top its W and b
    daughters and the two quarks from the W's last copy are the decay partons.  A jet
    is matched when the resonance and each quark lie within ``radius`` of its axis.
    """
    ak = require("awkward", purpose="match jets to partons")
    if kind not in ("top", "w"):
        raise ConfigError(f"unknown truth matching {kind!r}; choose 'top', 'w' or ''")
    resonance_id = 6 if kind == "top" else 24
    local = ak.local_index(prt.id, axis=1)
    is_res = (abs(prt.id) == resonance_id) & (prt.status == -22)
    res = _gather(prt, _last_copy(prt, local[is_res]))
    d1 = _gather(prt, res["daughter1"])
    d2 = _gather(prt, res["daughter2"])
    partons: list[dict[str, Any]]
    hadronic: Any
    if kind == "top":
        first_is_w = abs(d1["id"]) == 24
        w = {k: ak.where(first_is_w, d1[k], d2[k]) for k in d1}
        b = {k: ak.where(first_is_w, d2[k], d1[k]) for k in d1}
        w = _gather(prt, _last_copy(prt, ak.where(first_is_w, res["daughter1"], res["daughter2"])))
        q1, q2 = _gather(prt, w["daughter1"]), _gather(prt, w["daughter2"])
        hadronic = (abs(w["id"]) == 24) & (abs(b["id"]) == 5) & (abs(q1["id"]) <= 5) & (abs(q2["id"]) <= 5)
        partons = [b, q1, q2]
    else:
        hadronic = (abs(d1["id"]) <= 5) & (abs(d2["id"]) <= 5)
        partons = [d1, d2]

    def close(obj: dict[str, Any]) -> Any:
        o_eta = eta(obj["px"], obj["py"], obj["pz"])[event]
        o_phi = phi(obj["px"], obj["py"])[event]
        return delta_r(o_eta, o_phi, jet_eta, jet_phi) < radius

    matched = close(res) & hadronic[event]
    for parton in partons:
        matched = matched & close(parton)
    return np.asarray(ak.to_numpy(ak.any(matched, axis=1)), dtype=bool)
