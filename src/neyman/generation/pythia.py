"""Pythia 8 in batches: one chunk of events -> detector -> analysis -> a :class:`Table`.

A chunk (:class:`ChunkTask`) is the unit of work, of seeding and of resuming: its
events depend only on its seed, so chunks can run in any order on any worker.
Each worker process keeps one initialised ``Pythia`` per configuration and
re-seeds it (``Rndm::init``) at the start of every chunk, so that initialisation
(0.2-0.4 s, seconds with MPI) is paid once per worker, not per chunk.

Events come from ``Pythia.nextBatch`` (Awkward output, ~40x cheaper than a Python
loop over ``pythia.event``); no Python loop runs over particles.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from neyman.exceptions import ConfigError
from neyman.generation.analyses import Batch, analyse
from neyman.generation.detector import Detector, simulate
from neyman.generation.pileup import event_density, minimum_bias_settings, overlay
from neyman.generation.processes import Process, Sample
from neyman.optional import require
from neyman.seeding import child_seed, rng
from neyman.table import EVENT_ID, LABEL, WEIGHT, Table

__all__ = [
    "EVENT_ID_STRIDE",
    "ChunkResult",
    "ChunkTask",
    "PythiaInstance",
    "check_settings",
    "combine_cross_sections",
    "event_id_base",
    "final_state",
    "instance_for",
    "new_pythia",
    "pythia_version",
    "run_chunk",
]

MB_TO_PB = 1e9
"""Pythia reports cross sections in mb."""

_PYTHIA_SEED_MAX = 900_000_000
_MAX_LABELS = 8
# event_id = tag(seed) * 2**44 + label * stride + event number: ids of one class are
# consecutive, so parity splits and k-fold (event_id mod k) get every class in every part;
# the 19-bit tag of the run seed keeps files made with different seeds apart, so that equal
# ids in two files mean the same generated event (train --test-data checks that)
EVENT_ID_STRIDE = 2**40
_SEED_TAG_BITS = 19


def event_id_base(seed: int, label: int) -> int:
    """The first event id of class ``label`` in a run with ``seed``.

    Notes
    -----
    ``event_id = t(seed) · 2^44 + label · 2^40 + event``, with ``t`` a 19-bit hash of the
    seed: 40 bits count events, 4 hold the class, and two runs with different seeds share
    an id with probability 2^-19 per pair of runs (and then in their first 2^40 events).
    """
    tag = child_seed(seed, "event-id") % (1 << _SEED_TAG_BITS)
    return (tag << 44) + label * EVENT_ID_STRIDE


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of events of one class.

    Attributes
    ----------
    process
        The process.
    label
        Class label (selects the :class:`~neyman.generation.processes.Sample`).
    index
        Chunk number within the class (0, 1, ...).
    n_events
        Events to generate.
    seed
        Run seed; the chunk's Pythia and detector seeds derive from it, the
        process, the label and ``index``.
    settings
        Extra Pythia settings (after the process's).
    mpi
        Multi-parton interactions on.
    detector
        Detector, or ``None`` for particle level.
    pileup
        Mean number ⟨μ⟩ of minimum-bias events overlaid on each event (0: none).
    """

    process: Process
    label: int
    index: int
    n_events: int
    seed: int
    settings: tuple[str, ...] = ()
    mpi: bool = False
    detector: Detector | None = field(default_factory=Detector)
    pileup: float = 0.0

    @property
    def pythia_seed(self) -> int:
        """Seed of Pythia's generator for this chunk (1 .. 900 000 000)."""
        return child_seed(self.seed, self.process.name, self.label, self.index) % (_PYTHIA_SEED_MAX - 1) + 1

    def pythia_settings(self) -> tuple[str, ...]:
        """Every setting given to Pythia, in order."""
        return (*self.process.settings(self.label), *self.settings, f"PartonLevel:MPI = {'on' if self.mpi else 'off'}")


@dataclass
class ChunkResult:
    """A finished chunk: its rows and a JSON-serialisable record.

    ``stored`` is true when the worker has already written the chunk to the run's
    chunk store (then ``table`` is empty: the rows do not travel back).
    """

    task: ChunkTask
    table: Table
    record: dict[str, Any]
    stored: bool = False


@dataclass
class PythiaInstance:
    """An initialised ``Pythia`` of one configuration, kept by a worker process.

    Attributes
    ----------
    pythia
        The ``pythia8mc.Pythia`` object.
    uid
        Random identifier (chunk records name the instance whose statistics they carry).
    charges
        Cache of particle charges by PDG id.
    """

    pythia: Any
    uid: str
    charges: dict[int, float]


_INSTANCES: dict[tuple[str, ...], PythiaInstance] = {}


def _spectrum_settings(sample: Sample) -> tuple[str, ...]:
    """``SLHA:file`` for samples that need a spectrum neyman writes itself."""
    if not sample.spectrum:
        return ()
    from neyman.generation.slha import write_chargino_spectrum

    if sample.spectrum != "chargino":
        raise ConfigError(f"unknown SLHA spectrum {sample.spectrum!r}")
    path = Path(tempfile.gettempdir()) / f"neyman-{sample.spectrum}-spectrum.slha"
    write_chargino_spectrum(path)
    return (f"SLHA:file = {path}", "SLHA:verbose = 0")


PYTHIA_FLAG_WORDS = frozenset({"on", "off", "yes", "no", "true", "false", "1", "0", "ok"})
"""The values of a Pythia on/off flag that mean what they say (Pythia reads every other word as off)."""


def new_pythia(settings: Sequence[str]) -> Any:
    """A quiet, uninitialised ``Pythia`` with ``settings`` read (a clear error for a bad one)."""
    pythia8 = require("pythia8mc", purpose="generate events with Pythia 8")
    pythia = pythia8.Pythia("", False)
    for line in ("Print:quiet = on", "Next:numberCount = 0", *settings):
        name, equals, value = (part.strip() for part in line.partition("="))
        if equals and pythia.settings.isFlag(name) and value.lower() not in PYTHIA_FLAG_WORDS:
            # Pythia reads any other word as off, silently
            raise ConfigError(f"Pythia setting {line!r}: {name} takes on or off, not {value!r}")
        if not pythia.readString(line):
            raise ConfigError(f"Pythia rejected the setting {line!r}: {_why_rejected(pythia.settings, line)}")
    return pythia


def _why_rejected(settings: Any, line: str) -> str:
    """Why Pythia refused ``line``: an unknown name, or a known one given a value outside its range or type."""
    name, _, value = (part.strip() for part in line.partition("="))
    for kind, known, table in (
        ("a number", settings.isParm, settings.getParmMap),
        ("an integer", settings.isMode, settings.getModeMap),
    ):
        if known(name):
            entry = next(iter(table(name).values()))
            low = f"{entry.valMin:g}" if entry.hasMin else "-inf"
            high = f"{entry.valMax:g}" if entry.hasMax else "inf"
            where = f" in [{low}, {high}]" if entry.hasMin or entry.hasMax else ""
            return f"{name} takes {kind}{where} (default {entry.valDefault:g}), not {value!r}"
    if settings.isFlag(name):
        return f"{name} takes on or off, not {value!r}"
    if settings.isWord(name) or any(
        f(name) for f in (settings.isFVec, settings.isMVec, settings.isPVec, settings.isWVec)
    ):
        return f"Pythia knows {name} but not the value {value!r}; see the Pythia 8 manual for what it takes"
    return f"Pythia has no setting {name!r} (names are as in the Pythia 8 manual, e.g. 'PhaseSpace:pTHatMin = 500.')"


def check_settings(settings: Sequence[str]) -> None:
    """Raise :class:`~neyman.exceptions.ConfigError` if Pythia does not know a setting."""
    new_pythia(settings)


def pythia_version() -> str:
    """Version of the installed Pythia 8, e.g. ``"8.317"``."""
    pythia = new_pythia(())
    return f"{pythia.parm('Pythia:versionNumber'):.3f}"


def instance_for(task: ChunkTask, *, minimum_bias: bool = False) -> PythiaInstance:
    """This process's initialised Pythia for the configuration of ``task`` (created on first use).

    With ``minimum_bias``, the instance generating its pile-up: the hard process's
    beams, user overrides included (:func:`~neyman.generation.pileup.minimum_bias_settings`).
    """
    sample = task.process.sample(task.label)
    if minimum_bias:
        settings = minimum_bias_settings(task.pythia_settings())
    else:
        settings = (*task.pythia_settings(), *_spectrum_settings(sample))
    found = _INSTANCES.get(settings)
    if found is None:
        pythia = new_pythia(settings)
        if not pythia.init():
            raise ConfigError(
                f"Pythia failed to initialise the {sample.name!r} class of {task.process.name!r} with settings: "
                + "; ".join(settings)
            )
        found = PythiaInstance(pythia, uuid.uuid4().hex, {})
        _INSTANCES[settings] = found
    return found


def _charges(instance: PythiaInstance, ids: np.ndarray) -> np.ndarray:
    unique, inverse = np.unique(ids, return_inverse=True)
    for i in unique:
        if int(i) not in instance.charges:
            instance.charges[int(i)] = float(instance.pythia.particleData.charge(int(i)))
    table = np.array([instance.charges[int(i)] for i in unique], dtype=np.float64)
    return table[inverse.ravel()]


def final_state(instance: PythiaInstance, prt: Any) -> Any:
    """Final-state particles of a batch record: fields ``E, px, py, pz, charge, pdg_id``."""
    ak = require("awkward", purpose="generate events")
    final = prt[prt.status > 0]
    ids = np.asarray(ak.to_numpy(ak.flatten(final.id)))
    charge = ak.unflatten(_charges(instance, ids), ak.num(final.id, axis=1))
    return ak.zip(
        {"E": final.p.e, "px": final.p.px, "py": final.p.py, "pz": final.p.pz, "charge": charge, "pdg_id": final.id},
        depth_limit=2,
    )


def _analyse(task: ChunkTask, prt: Any, particles: Any) -> tuple[dict[str, Any], np.ndarray]:
    generator = rng(task.seed, "detector", task.process.name, task.label, task.index)
    overlaid = _with_pileup(task, particles) if task.pileup > 0 else particles
    objects = simulate(overlaid, task.detector, rng=generator)
    rho = event_density(objects) if task.pileup > 0 else None
    return analyse(task.process, task.process.sample(task.label), Batch(prt, particles, objects, rho))


def _with_pileup(task: ChunkTask, particles: Any) -> Any:
    """``particles`` with Poisson(⟨μ⟩) minimum-bias events overlaid on each event."""
    counts = rng(task.seed, "pileup-count", task.process.name, task.label, task.index).poisson(
        task.pileup, len(particles)
    )
    if counts.sum() == 0:  # a small ⟨μ⟩: Pythia's batch of no events has no fields to overlay
        return overlay(particles, particles[:0], counts)
    instance = instance_for(task, minimum_bias=True)
    instance.pythia.rndm.init(
        child_seed(task.seed, "pileup", task.process.name, task.label, task.index) % (_PYTHIA_SEED_MAX - 1) + 1
    )
    minimum_bias = final_state(instance, instance.pythia.nextBatch(int(counts.sum())).prt)
    return overlay(particles, minimum_bias, counts)


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Generate and analyse one chunk (runs on a worker).

    Returns
    -------
    ChunkResult
        The rows (``label`` and ``event_id`` added; ``event_id`` =
        :func:`event_id_base` + event number is unique within the run, and across
        runs with different seeds, and shared by jets of one event) and the record: seeds, events,
        rows, timings and the worker's Pythia statistics (cumulative over the
        instance, identified by ``instance``), from which cross sections combine.
    """
    if not 0 <= task.label < _MAX_LABELS:
        raise ConfigError(f"class labels must be in 0..{_MAX_LABELS - 1}, got {task.label}")
    start = time.perf_counter()
    instance = instance_for(task)
    pythia = instance.pythia
    pythia.rndm.init(task.pythia_seed)
    batch = pythia.nextBatch(task.n_events)
    prt = batch.prt
    generated = time.perf_counter()
    particles = final_state(instance, prt)
    # one BLAS thread: a chunk is one core's work, and the float sums (energy correlators)
    # then come out bit-identical whichever process or worker runs the chunk
    with threadpool_limits(1):
        columns, event = _analyse(task, prt, particles)
    if task.process.weighted:  # Pythia's weight compensating a biased phase space, per event
        ak = require("awkward", purpose="generate events")
        weights = np.asarray(ak.to_numpy(batch.info.weights[:, 0]), dtype=np.float64)
        columns[WEIGHT] = weights[np.asarray(event, dtype=np.int64)]
    first_event = task.index * task.process.chunk_events
    columns[LABEL] = np.full(len(event), task.label, dtype=np.int64)
    columns[EVENT_ID] = event_id_base(task.seed, task.label) + first_event + np.asarray(event, dtype=np.int64)
    table = Table(columns)
    info = pythia.infoPython()
    secondary = task.process.sample(task.label).secondary_resonances
    record = {
        "label": task.label,
        "index": task.index,
        "pythia_seed": task.pythia_seed,
        "events": len(prt),
        "rows": len(table),
        "seconds": time.perf_counter() - start,
        "pythia_seconds": generated - start,
        "instance": instance.uid,
        "sigma_pb": info.sigmaGen() * MB_TO_PB,
        "sigma_err_pb": info.sigmaErr() * MB_TO_PB,
        "tried": int(info.nTried()),
        "accepted": int(info.nAccepted()),
        "branching_fraction": _open_fraction(pythia, secondary),
    }
    return ChunkResult(task, table, record)


def _open_fraction(pythia: Any, resonances: tuple[int, ...]) -> float:
    """The product of the open decay fractions of ``resonances`` (1 for none)."""
    fraction = 1.0
    for start in range(0, len(resonances), 3):
        ids = (*resonances[start : start + 3], 0, 0)[:3]
        fraction *= float(pythia.particleData.resOpenFrac(*ids))
    return fraction


def combine_cross_sections(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Combine the Pythia statistics of chunk records into one cross section.

    Every Pythia instance (one per worker and class) is an independent estimate;
    its last record holds its totals.  Instances are averaged with weights
    :math:`w_i = n_{tried,i} / \\sum_j n_{tried,j}` and the errors combined as
    :math:`\\sqrt{\\sum_i w_i^2 \\sigma_i^2}`.

    ``sigma_pb`` is that average times ``branching_fraction``, the open fraction of
    the class's secondary resonances (:attr:`Sample.secondary_resonances`; 1 when
    Pythia's own σ already counts every restricted decay); ``pythia_sigma_pb`` is
    Pythia's estimate as it stands.
    """
    last: dict[str, dict[str, Any]] = {}
    for record in records:
        current = last.get(record["instance"])
        if current is None or record["tried"] > current["tried"]:
            last[record["instance"]] = record
    tried = np.array([r["tried"] for r in last.values()], dtype=np.float64)
    if tried.sum() <= 0:
        return {
            "sigma_pb": 0.0,
            "sigma_err_pb": 0.0,
            "pythia_sigma_pb": 0.0,
            "branching_fraction": 1.0,
            "tried": 0,
            "accepted": 0,
            "instances": len(last),
        }
    weights = tried / tried.sum()
    sigma = np.array([r["sigma_pb"] for r in last.values()])
    error = np.array([r["sigma_err_pb"] for r in last.values()])
    fraction = float(next(iter(last.values())).get("branching_fraction", 1.0))
    return {
        "sigma_pb": float(weights @ sigma) * fraction,
        "sigma_err_pb": float(np.sqrt((weights**2) @ (error**2))) * fraction,
        "pythia_sigma_pb": float(weights @ sigma),
        "branching_fraction": fraction,
        "tried": int(tried.sum()),
        "accepted": int(sum(r["accepted"] for r in last.values())),
        "instances": len(last),
    }
