"""Batched Pythia 8 generation of labelled jet samples, and :func:`generate` to Parquet.

Events are produced with ``Pythia.nextBatch`` (Awkward output), passed through the
detector, clustered and selected in batches; no Python loop runs over particles.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neyman._optional import require
from neyman._seeding import child_seed, rng
from neyman.exceptions import ConfigError
from neyman.generation.detector import Detector, get_detector, simulate
from neyman.generation.jets import cluster_jets, truth_match
from neyman.generation.processes import Process, get_process
from neyman.table import EVENT_ID, LABEL, Table

__all__ = ["generate", "generate_class", "generate_table"]

_MB_TO_PB = 1e9
_PYTHIA_SEED_MAX = 900_000_000


def _pythia(settings: Sequence[str], *, mpi: bool) -> Any:
    pythia8 = require("pythia8mc", purpose="generate events with Pythia 8")
    pythia = pythia8.Pythia("", False)
    for line in (*settings, f"PartonLevel:MPI = {'on' if mpi else 'off'}", "Print:quiet = on", "Random:setSeed = on"):
        if not pythia.readString(line):
            raise ConfigError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise ConfigError("Pythia failed to initialise with settings: " + "; ".join(settings))
    return pythia


def _charges(pythia: Any, ids: np.ndarray) -> np.ndarray:
    unique, inverse = np.unique(ids, return_inverse=True)
    table = np.array([pythia.particleData.charge(int(i)) for i in unique], dtype=np.float64)
    return table[inverse.ravel()]


def generate_class(
    process: str | Process,
    label: int,
    n_jets: int,
    *,
    seed: int = 0,
    detector: str | Detector | None = "default",
    mpi: bool = False,
    settings: Sequence[str] = (),
    batch_size: int = 200,
    max_events: int | None = None,
) -> tuple[Table, dict[str, Any]]:
    """Generate ``n_jets`` selected jets of one class.

    Parameters
    ----------
    process
        Catalogue name or :class:`Process`.
    label
        1 for the signal configuration, 0 for the background.
    n_jets
        Selected jets wanted (the sample is cut to exactly this many).
    seed
        Run seed; each batch of events gets its own seed derived with
        :func:`neyman._seeding.child_seed`, so the output depends only on the seed.
    detector
        Detector name, :class:`Detector`, or ``None``/``"none"`` for particle level.
    mpi
        Switch multi-parton interactions on (3-12 times slower).
    settings
        Extra Pythia settings, applied after the process's.
    batch_size
        Events per ``nextBatch`` call.
    max_events
        Stop after this many events even if fewer jets were found
        (default ``1000 * n_jets + 10 * batch_size``).

    Returns
    -------
    (table, provenance)
        One row per jet with :data:`~neyman.generation.jets.JET_FEATURES`, the jagged
        ``constituent_*`` columns, ``label`` and ``event_id``; and a JSON-serialisable
        provenance dictionary.
    """
    ak = require("awkward", purpose="generate events")
    proc = get_process(process)
    det = get_detector(detector) if isinstance(detector, str) else detector
    all_settings = (*proc.settings(label), *settings)
    pythia = _pythia(all_settings, mpi=mpi)
    limit = max_events if max_events is not None else 1000 * n_jets + 10 * batch_size
    parts: list[Table] = []
    n_found = n_events = chunk = 0
    seeds: list[int] = []
    start = time.perf_counter()
    while n_found < n_jets and n_events < limit:
        chunk_seed = child_seed(seed, proc.name, label, chunk) % (_PYTHIA_SEED_MAX - 1) + 1
        seeds.append(chunk_seed)
        pythia.rndm.init(chunk_seed)
        batch = pythia.nextBatch(min(batch_size, limit - n_events))
        prt = batch.prt
        final = prt[prt.status > 0]
        ids = np.asarray(ak.to_numpy(ak.flatten(final.id)))
        charge = ak.unflatten(_charges(pythia, ids), ak.num(final.id, axis=1))
        particles = ak.zip(
            {
                "E": final.p.e,
                "px": final.p.px,
                "py": final.p.py,
                "pz": final.p.pz,
                "charge": charge,
                "pdg_id": final.id,
            },
            depth_limit=2,
        )
        objects = simulate(particles, det, rng=rng(seed, "detector", proc.name, label, chunk))
        columns, event = cluster_jets(objects, proc.jets)
        keep = np.ones(len(event), dtype=bool)
        if label == 1 and proc.jets.truth_match:
            keep = truth_match(
                prt, columns["eta"], columns["phi"], event, kind=proc.jets.truth_match, radius=proc.jets.match_radius
            )
        columns[LABEL] = np.full(len(event), label, dtype=np.int64)
        columns[EVENT_ID] = 2 * (n_events + event) + label
        parts.append(Table(columns).take(keep))
        n_found += int(keep.sum())
        n_events += len(batch)
        chunk += 1
    elapsed = time.perf_counter() - start
    table = Table.concat(parts).head(n_jets) if parts else Table({})
    info = pythia.infoPython()
    provenance = {
        "process": proc.name,
        "label": label,
        "pythia_version": f"{pythia.parm('Pythia:versionNumber'):.3f}",
        "pythia_settings": list(all_settings),
        "mpi": mpi,
        "seed": seed,
        "chunk_seeds": seeds,
        "batch_size": batch_size,
        "cross_section_pb": info.sigmaGen() * _MB_TO_PB,
        "cross_section_error_pb": info.sigmaErr() * _MB_TO_PB,
        "events_tried": int(info.nTried()),
        "events_accepted": int(info.nAccepted()),
        "events_generated": n_events,
        "jets_selected": n_found,
        "jets_kept": len(table),
        "seconds": elapsed,
        "detector": None if det is None else det.as_dict(),
    }
    return table, provenance


def generate_table(
    process: str | Process,
    n_jets: int,
    *,
    seed: int = 0,
    detector: str | Detector | None = "default",
    mpi: bool = False,
    settings: Sequence[str] = (),
    batch_size: int = 200,
) -> tuple[Table, dict[str, Any]]:
    """Generate ``n_jets`` jets of each class (signal first) and their provenance.

    Parameters are those of :func:`generate_class`.  The provenance holds the
    process description and one entry per class under ``"classes"``.
    """
    proc = get_process(process)
    tables, classes = [], []
    for label in (1, 0):
        table, prov = generate_class(
            proc, label, n_jets, seed=seed, detector=detector, mpi=mpi, settings=settings, batch_size=batch_size
        )
        tables.append(table)
        classes.append(prov)
    provenance = {"process": proc.as_dict(), "n_jets_per_class": n_jets, "seed": seed, "classes": classes}
    return Table.concat(tables), provenance


def generate(
    process: str | Process,
    n_jets: int,
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    detector: str | Detector | None = "default",
    mpi: bool = False,
    settings: Sequence[str] = (),
    batch_size: int = 200,
) -> Path:
    """Generate a labelled jet sample and write it to Parquet.

    The table is written atomically with :func:`neyman.io.write`; the provenance
    goes to ``<out>.provenance.json`` next to it (also written atomically).

    Returns
    -------
    pathlib.Path
        The Parquet file written.
    """
    from neyman import io

    path = Path(out)
    table, provenance = generate_table(
        process, n_jets, seed=seed, detector=detector, mpi=mpi, settings=settings, batch_size=batch_size
    )
    io.write(table, path)
    side = path.with_suffix(".provenance.json")
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(json.dumps(provenance, indent=2, sort_keys=True))
    tmp.replace(side)
    return path
