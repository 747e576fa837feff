"""Generator-level truth: resonance decays, jet truth matching and the jet's parton.

Works on the particle record of a Pythia batch (Awkward, fields ``id``, ``status``,
``daughter1``, ``daughter2``, ``p``) flattened once into NumPy arrays.  A resonance
is taken at its *decaying copy*: the last entry of its chain of recoil copies,
recognised as the entry whose first daughter is not the same particle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from neyman.exceptions import ConfigError
from neyman.generation.jets import nearest
from neyman.generation.ragged import segments, starts
from neyman.optional import require
from neyman.physics.kinematics import delta_r, eta, phi

__all__ = ["Decays", "Record", "decays", "hard_parton", "match"]

_RESONANCE_ID = {"top": 6, "w": 24, "higgs": 25}


@dataclass
class Record:
    """A batch's particle record as flat arrays (``daughter`` indices made global)."""

    id: np.ndarray
    status: np.ndarray
    daughter1: np.ndarray
    daughter2: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    event: np.ndarray

    @classmethod
    def from_batch(cls, prt: Any) -> Record:
        """Flatten ``batch.prt`` of ``Pythia.nextBatch``."""
        ak = require("awkward", purpose="read the particle record")
        counts = np.asarray(ak.to_numpy(ak.num(prt.id, axis=1)), dtype=np.int64)
        offsets = starts(counts)
        event = np.repeat(np.arange(len(counts)), counts)

        def flat(x: Any) -> np.ndarray:
            return np.asarray(ak.to_numpy(ak.flatten(x)))

        px, py, pz = flat(prt.p.px), flat(prt.p.py), flat(prt.p.pz)
        d1 = flat(prt.daughter1).astype(np.int64)
        d2 = flat(prt.daughter2).astype(np.int64)
        base = offsets[event]
        return cls(
            id=flat(prt.id).astype(np.int64),
            status=flat(prt.status).astype(np.int64),
            daughter1=np.where(d1 > 0, d1 + base, -1),
            daughter2=np.where(d2 > 0, d2 + base, -1),
            eta=np.asarray(eta(px, py, pz)),
            phi=np.asarray(phi(px, py)),
            event=event,
        )

    def daughter_id(self, which: np.ndarray) -> np.ndarray:
        """PDG id of entries ``which`` (0 where ``which`` is -1)."""
        return np.where(which >= 0, self.id[np.maximum(which, 0)], 0)


@dataclass
class Decays:
    """Decaying resonances and the partons that must accompany them in a jet.

    Attributes
    ----------
    event
        Event of each resonance (sorted).
    resonance
        Index of the resonance's decaying copy in the :class:`Record`.
    partons
        ``(n, k)`` indices of its decay partons (for a top: b and the two quarks of
        the W); ``-1`` where a parton is missing (the decay is then not matched).
    """

    event: np.ndarray
    resonance: np.ndarray
    partons: np.ndarray


def _decaying(record: Record, pdg: int) -> np.ndarray:
    first = record.daughter_id(record.daughter1)
    return np.asarray((np.abs(record.id) == pdg) & (record.daughter1 >= 0) & (np.abs(first) != pdg))


def decays(record: Record, kind: str) -> Decays:
    """Hadronic decays of the resonance named ``kind`` (``top``, ``w`` or ``higgs``).

    Notes
    -----
    * ``w``: W bosons decaying to quarks; partons: the two quarks.
    * ``higgs``: Higgs bosons decaying to b quarks; partons: the two b quarks.
    * ``top``: tops whose same-sign W decays to quarks; partons: the b from the top
      decay and the W's two quarks.  In a tt̄ event the W of the top has the
      top's sign, which pairs them without following mother links.
    """
    if kind not in _RESONANCE_ID:
        raise ConfigError(f"unknown truth matching {kind!r}; choose one of {', '.join(_RESONANCE_ID)}")
    d1, d2 = record.daughter1, record.daughter2
    first, second = record.daughter_id(d1), record.daughter_id(d2)
    if kind in ("w", "higgs"):
        pdg = _RESONANCE_ID[kind]
        wanted = (np.abs(first) <= 5) & (first != 0) if kind == "w" else np.abs(first) == 5
        chosen = np.flatnonzero(_decaying(record, pdg) & wanted)
        return Decays(record.event[chosen], chosen, np.stack([d1[chosen], d2[chosen]], axis=1))

    tops = np.flatnonzero(_decaying(record, 6))
    b = np.where(np.abs(first[tops]) == 5, d1[tops], np.where(np.abs(second[tops]) == 5, d2[tops], -1))
    ws = np.flatnonzero(_decaying(record, 24) & (np.abs(first) <= 5) & (first != 0))
    w_key = record.event[ws] * 2 + (record.id[ws] > 0)
    top_key = record.event[tops] * 2 + (record.id[tops] > 0)
    w_of_top = np.full(len(tops), -1, dtype=np.int64)
    if len(ws):
        order = np.argsort(w_key, kind="stable")
        pos = np.minimum(np.searchsorted(w_key[order], top_key), len(ws) - 1)
        w_of_top = np.where(w_key[order][pos] == top_key, ws[order][pos], -1)
    q1 = np.where(w_of_top >= 0, d1[np.maximum(w_of_top, 0)], -1)
    q2 = np.where(w_of_top >= 0, d2[np.maximum(w_of_top, 0)], -1)
    return Decays(record.event[tops], tops, np.stack([b, q1, q2], axis=1))


def match(
    record: Record, found: Decays, jet_eta: np.ndarray, jet_phi: np.ndarray, jet_event: np.ndarray, *, radius: float
) -> np.ndarray:
    """Whether each jet contains one of the ``found`` resonances and all its decay partons.

    A jet is matched when the resonance and every parton lie within ``radius`` of
    its axis (:math:`\\Delta R` in :math:`\\eta`-:math:`\\phi`).
    """
    lo = np.searchsorted(found.event, jet_event, side="left")
    hi = np.searchsorted(found.event, jet_event, side="right")
    n_pairs = hi - lo
    jet = np.repeat(np.arange(len(jet_event)), n_pairs)
    cand = segments(lo, n_pairs)
    inside = np.ones(len(jet), dtype=bool)
    for column in [found.resonance[:, None], found.partons]:
        for k in range(column.shape[1]):
            which = column[cand, k]
            ok = which >= 0
            w = np.maximum(which, 0)
            close = delta_r(record.eta[w], record.phi[w], jet_eta[jet], jet_phi[jet]) < radius
            inside &= ok & close
    matched = np.zeros(len(jet_event), dtype=bool)
    matched[jet[inside]] = True
    return matched


def hard_parton(
    record: Record, jet_eta: np.ndarray, jet_phi: np.ndarray, jet_event: np.ndarray, *, radius: float
) -> np.ndarray:
    """PDG id of the outgoing hard-process parton nearest each jet within ``radius`` (0 if none).

    Outgoing hard-process partons have status :math:`\\pm 23` in Pythia (a quark or
    gluon of QCD 2->2, a decay quark of a resonance); resonance samples record the
    resonance instead (see :mod:`neyman.generation.analyses`).
    """
    hard = np.flatnonzero(np.abs(record.status) == 23)
    index, distance = nearest(jet_eta, jet_phi, jet_event, record.eta[hard], record.phi[hard], record.event[hard])
    return np.where((index >= 0) & (distance < radius), record.id[hard[np.maximum(index, 0)]], 0)
