"""Jets from detector objects: clustering, trimming, selection and features.

A :class:`Jets` holds many jets of many events as flat NumPy arrays: one entry per
jet, and the constituents of all jets concatenated (grouped by jet, hardest
first).  FastJet clusters whole batches of events at once (Awkward input); every
other step is NumPy on the flat arrays.  There is no Python loop over particles
or jets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from neyman.exceptions import ConfigError
from neyman.generation.detector import PARTICLE_FIELDS
from neyman.generation.pileup import subtract
from neyman.generation.processes import JetSelection
from neyman.generation.ragged import segments, starts
from neyman.optional import require
from neyman.physics.kinematics import delta_phi, eta, mass, phi, pt, rapidity
from neyman.physics.substructure import substructure

__all__ = [
    "CONSTITUENT_FIELDS",
    "JET_FEATURES",
    "KINEMATIC_FEATURES",
    "Jets",
    "constituent_columns",
    "find_jets",
    "jet_features",
    "leading_jets",
    "nearest",
    "trim",
]

KINEMATIC_FEATURES = ("pt", "eta", "phi", "mass", "energy", "n_constituents")
"""Flat per-jet kinematic columns."""

JET_FEATURES = (
    *KINEMATIC_FEATURES, "tau1", "tau2", "tau3", "tau21", "tau32", "c2", "d2", "softdrop_mass",
)  # fmt: skip
"""Flat per-jet columns with substructure."""

CONSTITUENT_FIELDS = ("E", "px", "py", "pz", "pt", "eta", "phi", "charge", "pdg_id")
"""Jagged per-constituent columns, stored as ``constituent_<field>``."""

_ALGORITHMS = ("antikt", "kt", "cambridge")


@dataclass
class Jets:
    """Many jets as flat arrays.

    Attributes
    ----------
    event
        Index of each jet's event in its batch.
    px, py, pz, E
        Jet four-momenta (GeV).
    counts
        Constituents per jet.
    constituents
        Flat constituent columns (:data:`~neyman.generation.detector.PARTICLE_FIELDS`
        plus ``pt``, ``eta``, ``phi``), grouped by jet, decreasing :math:`p_T` within a jet.
    area
        The area that a pile-up subtraction took :math:`\\rho A` from, per jet (trimmed
        jets: their kept subjets'); ``None``: the jet radius's :math:`\\pi R^2`.
    """

    event: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    E: np.ndarray
    counts: np.ndarray
    constituents: dict[str, np.ndarray]
    area: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.event)

    @property
    def pt(self) -> np.ndarray:
        """Transverse momenta."""
        return np.asarray(pt(self.px, self.py))

    @property
    def eta(self) -> np.ndarray:
        """Pseudorapidities."""
        return np.asarray(eta(self.px, self.py, self.pz))

    @property
    def phi(self) -> np.ndarray:
        """Azimuths."""
        return np.asarray(phi(self.px, self.py))

    @property
    def rapidity(self) -> np.ndarray:
        """Rapidities."""
        return np.asarray(rapidity(self.E, self.pz))

    @property
    def mass(self) -> np.ndarray:
        """Invariant masses."""
        return np.asarray(mass(self.E, self.px, self.py, self.pz))

    def take(self, index: np.ndarray) -> Jets:
        """The jets at ``index`` (integer positions or a boolean mask), constituents included."""
        index = np.flatnonzero(index) if index.dtype == bool else np.asarray(index, dtype=np.int64)
        flat = segments(starts(self.counts)[index], self.counts[index])
        return Jets(
            event=self.event[index],
            px=self.px[index],
            py=self.py[index],
            pz=self.pz[index],
            E=self.E[index],
            counts=self.counts[index],
            constituents={k: v[flat] for k, v in self.constituents.items()},
            area=None if self.area is None else self.area[index],
        )

    def constituent_vectors(self) -> Any:
        """Constituent four-momenta as a jagged Awkward record array ``(n_jets, var)``."""
        ak = require("awkward", purpose="compute jet substructure")
        c = self.constituents
        return ak.unflatten(ak.zip({k: c[k].astype(np.float64) for k in ("px", "py", "pz", "E")}), self.counts)


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


def _sorted_constituents(columns: dict[str, np.ndarray], counts: np.ndarray) -> dict[str, np.ndarray]:
    """Add pt/eta/phi and order by decreasing pT within each jet."""
    columns = dict(columns)
    columns["pt"] = np.asarray(pt(columns["px"], columns["py"]))
    columns["eta"] = np.asarray(eta(columns["px"], columns["py"], columns["pz"]))
    columns["phi"] = np.asarray(phi(columns["px"], columns["py"]))
    jet_of = np.repeat(np.arange(len(counts)), counts)
    order = np.lexsort((-columns["pt"], jet_of))
    return {k: v[order] for k, v in columns.items()}


def find_jets(objects: Any, selection: JetSelection, *, window: bool = True, rho: np.ndarray | None = None) -> Jets:
    """Cluster detector objects into jets.

    Parameters
    ----------
    objects
        Jagged record array ``(n_events, var)`` with fields ``E, px, py, pz, charge, pdg_id``.
    selection
        Jet definition and acceptance.
    window
        Apply the :math:`p_T` upper edge and the :math:`|\\eta|` (or :math:`|y|`) cut;
        jets below ``selection.pt_min`` are never kept.
    rho
        Per event, the pile-up density: each jet's four-momentum loses
        :math:`\\rho A^\\mu`, with the area four-vector of an anti-:math:`k_T` jet of
        area :math:`\\pi R^2` (:func:`neyman.generation.pileup.subtract`), before the
        selection.

    Returns
    -------
    Jets
        Selected jets of all events, in event order.
    """
    ak = require("awkward", purpose="cluster jets")
    fastjet = require("fastjet", purpose="cluster jets")
    vectors = ak.zip({k: ak.values_astype(objects[k], np.float64) for k in ("px", "py", "pz", "E")})
    sequence = fastjet.ClusterSequence(vectors, _jet_definition(selection))
    jets = sequence.inclusive_jets(min_pt=selection.pt_min)
    index = sequence.constituent_index(min_pt=selection.pt_min)

    per_event = np.asarray(ak.to_numpy(ak.num(jets, axis=1)), dtype=np.int64)
    event = np.repeat(np.arange(len(objects)), per_event)
    px, py, pz, energy = (
        np.asarray(ak.to_numpy(ak.flatten(jets[k])), dtype=np.float64) for k in ("px", "py", "pz", "E")
    )
    local = ak.flatten(index, axis=1)
    counts = np.asarray(ak.to_numpy(ak.num(local, axis=1)), dtype=np.int64)
    n_objects = np.asarray(ak.to_numpy(ak.num(objects, axis=1)), dtype=np.int64)
    flat_index = np.asarray(ak.to_numpy(ak.flatten(local)), dtype=np.int64) + np.repeat(
        starts(n_objects)[event], counts
    )
    flat_objects = ak.flatten(objects, axis=1)
    columns = {k: np.asarray(ak.to_numpy(flat_objects[k]))[flat_index] for k in PARTICLE_FIELDS}
    if rho is not None:
        px, py, pz, energy = subtract(px, py, pz, energy, rho[event], selection.radius)
    found = Jets(event, px, py, pz, energy, counts, _sorted_constituents(columns, counts))
    keep = found.pt > selection.pt_min
    if window:
        keep &= _in_window(found, selection)
    return found.take(keep)


def _in_window(jets: Jets, selection: JetSelection) -> np.ndarray:
    pts = jets.pt
    keep = pts > selection.pt_min
    if selection.pt_max > 0:
        keep &= pts < selection.pt_max
    angle = jets.rapidity if selection.use_rapidity else jets.eta
    return np.asarray(keep & (np.abs(angle) < selection.eta_max))


def trim(jets: Jets, selection: JetSelection, *, rho: np.ndarray | None = None) -> Jets:
    """Trim jets and apply the selection window to the trimmed jets.

    Parameters
    ----------
    jets
        The jets (area-median subtracted with pile-up, :func:`find_jets`).
    selection
        The trimming parameters and the window.
    rho
        Each event's pile-up density (``None``: no pile-up).

    Notes
    -----
    The constituents of each jet are reclustered into :math:`k_T` subjets of radius
    ``selection.trim_radius``; subjets with :math:`p_T^{sub} < f_{cut}\\, p_T^{jet}`
    (``selection.trim_fraction``) are removed with their constituents (Krohn,
    Thaler, Wang, JHEP 02 (2010) 084).  The jet four-momentum becomes the sum of
    the remaining subjets.  With pile-up each subjet first loses
    :math:`\\rho A^\\mu_{sub}`, the area four-vector of a disc of radius
    ``trim_radius`` around it (:func:`neyman.generation.pileup.subtract`), so that
    the cut and the trimmed jet are pile-up subtracted as the ungroomed jet was;
    the constituents stay as measured.  Jets are then required to be in the
    :math:`p_T`/:math:`\\eta` window of ``selection``.
    """
    if selection.trim_radius <= 0 or len(jets) == 0:
        return jets.take(_in_window(jets, selection))
    ak = require("awkward", purpose="trim jets")
    fastjet = require("fastjet", purpose="trim jets")
    definition = fastjet.JetDefinition(fastjet.kt_algorithm, selection.trim_radius)
    sequence = fastjet.ClusterSequence(jets.constituent_vectors(), definition)
    subjets = sequence.inclusive_jets()
    sub_index = sequence.constituent_index()
    n_sub = np.asarray(ak.to_numpy(ak.num(subjets, axis=1)), dtype=np.int64)
    jet_of_sub = np.repeat(np.arange(len(jets)), n_sub)
    four = [np.asarray(ak.to_numpy(ak.flatten(subjets[k])), dtype=np.float64) for k in ("px", "py", "pz", "E")]
    if rho is not None:
        event_rho = np.asarray(rho)[jets.event[jet_of_sub]]
        four = list(subtract(four[0], four[1], four[2], four[3], event_rho, selection.trim_radius))
    kept_flat = pt(four[0], four[1]) >= selection.trim_fraction * jets.pt[jet_of_sub]
    keep_sub = ak.unflatten(kept_flat, n_sub)
    kept_local = ak.flatten(sub_index[keep_sub], axis=2)
    new_counts = np.asarray(ak.to_numpy(ak.num(kept_local, axis=1)), dtype=np.int64)
    flat = np.asarray(ak.to_numpy(ak.flatten(kept_local)), dtype=np.int64) + np.repeat(starts(jets.counts), new_counts)
    columns = {k: v[flat] for k, v in jets.constituents.items() if k not in ("pt", "eta", "phi")}
    constituents = _sorted_constituents(columns, new_counts)
    owner = jet_of_sub[kept_flat]
    sums = {
        k: np.bincount(owner, weights=v[kept_flat], minlength=len(jets))
        for k, v in zip(("px", "py", "pz", "E"), four, strict=True)
    }
    area = None if rho is None else np.bincount(owner, minlength=len(jets)) * np.pi * selection.trim_radius**2
    trimmed = Jets(jets.event, sums["px"], sums["py"], sums["pz"], sums["E"], new_counts, constituents, area)
    return trimmed.take(_in_window(trimmed, selection) & (new_counts > 0))


def jet_features(jets: Jets, *, radius: float, with_substructure: bool = True) -> dict[str, np.ndarray]:
    """Flat per-jet columns: :data:`KINEMATIC_FEATURES` and, optionally, substructure.

    Parameters
    ----------
    jets
        The jets.
    radius
        Jet radius (normalisation of N-subjettiness, soft-drop :math:`R_0`).
    with_substructure
        Also compute :data:`~neyman.physics.substructure.SUBSTRUCTURE_FEATURES`.
    """
    columns: dict[str, np.ndarray] = {
        "pt": jets.pt,
        "eta": jets.eta,
        "phi": jets.phi,
        "mass": jets.mass,
        "energy": jets.E.copy(),
        "n_constituents": jets.counts.copy(),
    }
    if with_substructure:
        if len(jets):
            columns.update(substructure(jets.constituent_vectors(), r0=radius))
        else:
            columns.update({name: np.zeros(0) for name in JET_FEATURES[len(KINEMATIC_FEATURES) :]})
    return columns


def constituent_columns(jets: Jets, max_constituents: int) -> dict[str, Any]:
    """Jagged ``constituent_<field>`` columns with at most ``max_constituents`` per jet.

    Momenta and angles are stored as float32, ``charge`` as float32, ``pdg_id`` as int32.
    """
    ak = require("awkward", purpose="store jet constituents")
    rank = np.arange(int(jets.counts.sum())) - np.repeat(starts(jets.counts), jets.counts)
    stored = rank < max_constituents
    stored_counts = np.minimum(jets.counts, max_constituents)
    out: dict[str, Any] = {}
    for k in CONSTITUENT_FIELDS:
        values = jets.constituents[k][stored]
        values = values.astype(np.int32) if k == "pdg_id" else values.astype(np.float32)
        out[f"constituent_{k}"] = ak.unflatten(values, stored_counts)
    return out


def leading_jets(jets: Jets, n_events: int, k: int = 2) -> np.ndarray:
    """Indices of the ``k`` highest-:math:`p_T` jets of every event, ``-1`` where missing.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_events, k)``.
    """
    out = np.full((n_events, k), -1, dtype=np.int64)
    order = np.lexsort((-jets.pt, jets.event))
    event = jets.event[order]
    per_event = np.bincount(event, minlength=n_events)
    rank = np.arange(len(order)) - np.repeat(starts(per_event), per_event)
    take = rank < k
    out[event[take], rank[take]] = order[take]
    return out


def nearest(
    eta1: np.ndarray, phi1: np.ndarray, event1: np.ndarray, eta2: np.ndarray, phi2: np.ndarray, event2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each object 1, the nearest object 2 of the same event in :math:`\\Delta R`.

    Returns
    -------
    (index, distance)
        Index into the objects 2 (``-1`` when the event has none) and the distance
        (``inf`` then).  Objects 2 must be sorted by event.
    """
    lo = np.searchsorted(event2, event1, side="left")
    hi = np.searchsorted(event2, event1, side="right")
    n_pairs = hi - lo
    first = np.repeat(np.arange(len(event1)), n_pairs)
    second = segments(lo, n_pairs)
    dr = np.hypot(eta1[first] - eta2[second], delta_phi(phi1[first], phi2[second]))
    index = np.full(len(event1), -1, dtype=np.int64)
    distance = np.full(len(event1), np.inf)
    if len(dr):
        order = np.lexsort((dr, first))
        head = np.concatenate([[True], first[order][1:] != first[order][:-1]])
        best = order[head]
        index[first[best]] = second[best]
        distance[first[best]] = dr[best]
    return index, distance
