"""``neyman generate``: a labelled sample from the catalogue, written to one file.

Glue between the command line and :mod:`neyman.generation`: parses ``--set`` overrides,
validates the request before any work (unknown process or Pythia setting, unwritable or
existing output), plans chunks per class, runs them (inline, on a local Dask cluster or an
existing one) storing each as it finishes, resumes from stored chunks, and writes the final
file and its provenance atomically.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import secrets
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neyman.exceptions import ConfigError, DataError, NeymanWarning
from neyman.generation.analyses import TRUTH_COLUMNS
from neyman.generation.detector import Detector
from neyman.generation.options import (
    check_pileup,
    check_pthat_window,
    detector_with_overrides,
    parse_overrides,
    with_process_options,
)
from neyman.generation.processes import Process, get_process
from neyman.generation.writer import ChunkStore, output_format, refuse_foreign_output, write_sample
from neyman.io import provenance_path, write_provenance
from neyman.runs.guard import enclosing_run
from neyman.seeding import check_seed
from neyman.table import Table, is_truth_column

if TYPE_CHECKING:
    from neyman.generation.parallel import ClassPlan
    from neyman.generation.pythia import ChunkTask

__all__ = ["GenerateResult", "generate"]


@dataclass(frozen=True)
class GenerateResult:
    """What ``generate`` wrote."""

    path: Path
    provenance: Path
    rows: dict[str, int]
    seconds: float
    chunks_run: int
    chunks_reused: int
    seed: int
    seed_drawn: bool


@dataclass(frozen=True)
class _Request:
    """A validated request: what every chunk of the run shares."""

    process: Process
    events: int
    path: Path
    seed: int
    pythia: tuple[str, ...]
    mpi: bool
    detector: Detector | None
    seed_drawn: bool = False
    pileup: float = 0.0

    def task(self, label: int, index: int) -> ChunkTask:
        """Chunk ``index`` of the class ``label``."""
        from neyman.generation.pythia import ChunkTask

        return ChunkTask(
            self.process,
            label,
            index,
            self.process.chunk_events,
            self.seed,
            self.pythia,
            self.mpi,
            self.detector,
            self.pileup,
        )


def generate(
    process: str,
    events: int,
    out: str | os.PathLike[str],
    *,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    detector: str = "default",
    mpi: bool | None = None,
    pileup: float = 0.0,
    overrides: Sequence[str] = (),
    force: bool = False,
    progress: bool = True,
    empty_events_limit: int | None = None,
) -> GenerateResult:
    """Generate ``events`` rows of ``process`` into ``out`` (see ``neyman generate --help``).

    ``events`` counts rows: jets for jet processes, events for event processes,
    split between the classes by their shares.  The same ``seed`` (and settings)
    gives the same file, whatever the number of workers.  Without a ``seed`` a fresh
    one is drawn (and recorded in the provenance), so two files never share events by
    accident; an interrupted run without ``seed`` resumes with the seed of its chunks.
    ``mpi`` (multi-parton interactions) defaults to the process's reference.
    ``pileup`` overlays Poisson(⟨μ⟩) minimum-bias events on every event
    (:mod:`neyman.generation.pileup`).  ``empty_events_limit``
    overrides :data:`neyman.generation.parallel.EMPTY_EVENTS_LIMIT`.  ``workers``
    (default 1) are local processes; with ``scheduler`` the cluster's own workers
    run the chunks and ``workers`` is refused.
    """
    started = time.perf_counter()
    workers = _local_workers(workers, scheduler)
    request = _seeded(
        _request(
            process,
            events,
            out,
            seed=seed or 0,
            workers=workers,
            detector=detector,
            mpi=mpi,
            pileup=pileup,
            overrides=overrides,
            force=force,
        ),
        seed,
        force,
    )
    _warn_shared_seed(request)
    store = ChunkStore(request.path, _manifest(request))
    plans = _plans(request, store.open(replace=force))
    reused = sum(len(plan.done) for plan in plans)
    run = _run(
        request,
        plans,
        store,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        empty_events_limit=empty_events_limit,
    )
    table, classes = _assemble(request, plans, store)
    seconds = time.perf_counter() - started
    written = write_sample(table, request.path, max_constituents=request.process.jets.max_constituents)
    engine = workers if scheduler is None else scheduler
    record = _provenance(request, classes, engine, seconds)
    record["truth_columns"] = [c for c in table.column_names if c in TRUTH_COLUMNS or is_truth_column(c)]
    side = write_provenance(written, record)
    store.remove()
    return GenerateResult(
        path=written,
        provenance=side,
        rows={c["name"]: c["rows"] for c in classes},
        seconds=seconds,
        chunks_run=run,
        chunks_reused=reused,
        seed=request.seed,
        seed_drawn=request.seed_drawn,
    )


def _local_workers(workers: int | None, scheduler: str | None) -> int:
    """Local worker processes (1 by default); refused beside an existing cluster's scheduler."""
    if scheduler is not None and workers is not None:
        raise ConfigError(
            f"--workers runs the chunks in local processes; with --scheduler {scheduler} the chunks run on that "
            "cluster's workers: drop --workers (or --scheduler)"
        )
    return 1 if workers is None else workers


def _seeded(request: _Request, seed: int | None, force: bool) -> _Request:
    """The request with its seed: the one given, an interrupted run's, or a fresh one."""
    if seed is not None:
        return request
    resumed = _resumed_seed(request, force)
    drawn = secrets.randbelow(2**31) if resumed is None else resumed
    return dataclasses.replace(request, seed=drawn, seed_drawn=True)


def _resumed_seed(request: _Request, force: bool) -> int | None:
    """The seed of an interrupted run of the same request (all else equal), if one left chunks."""
    if force:
        return None
    stored = ChunkStore(request.path, {}).stored_manifest()
    if stored is None or not isinstance(stored.get("seed"), int):
        return None
    ours = _manifest(dataclasses.replace(request, seed=stored["seed"]))
    return int(stored["seed"]) if json.loads(json.dumps(ours)) == stored else None


def _warn_shared_seed(request: _Request) -> None:
    """Warn when a sibling file of the same process was generated with the same seed (same events)."""
    mine = provenance_path(request.path)
    for side in sorted(request.path.parent.glob("*.provenance.json")):
        if side == mine:
            continue
        try:
            other = json.loads(side.read_text())
        except (OSError, ValueError):
            continue
        if (
            isinstance(other, dict)
            and other.get("process") == request.process.name
            and other.get("seed") == request.seed
        ):
            sibling = side.name.removesuffix(".provenance.json")
            warnings.warn(
                f"{sibling} next to {request.path.name} was generated from {request.process.name} with the same "
                f"seed {request.seed}: the two files share their events; give another --seed (or none: a fresh "
                "one is drawn) for an independent sample",
                NeymanWarning,
                stacklevel=3,
            )


def _request(
    process: str,
    events: int,
    out: str | os.PathLike[str],
    *,
    seed: int,
    workers: int,
    detector: str,
    mpi: bool | None,
    pileup: float,
    overrides: Sequence[str],
    force: bool,
) -> _Request:
    """Parse and check the request before any work: process, detector, counts, output and Pythia settings."""
    from neyman.generation.pythia import check_settings

    parsed = parse_overrides(overrides)
    proc = with_process_options(get_process(process), parsed.process)
    det = detector_with_overrides(detector, parsed.detector)
    if events <= 0:
        raise ConfigError(f"--events must be positive, got {events}")
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    check_seed(seed)
    check_pileup(pileup, det)
    path = Path(out)
    if path.is_dir():
        raise DataError(f"output {path} is a directory; give a file name such as {path / 'events.parquet'}")
    output_format(path, constituents=proc.jets.max_constituents > 0)
    run = enclosing_run(path.parent)
    if run is not None:
        raise DataError(f"{path} is inside the run directory {run}; write generated samples outside runs")
    if path.exists() and not force:
        raise DataError(f"output file {path} exists; pass --force to replace it")
    refuse_foreign_output(path)
    for sample in proc.samples:
        check_settings((*proc.settings(sample.label), *parsed.pythia))
        check_pthat_window((*proc.settings(sample.label), *parsed.pythia), proc.jets)
    mpi = proc.mpi if mpi is None else mpi
    return _Request(proc, events, path, seed, parsed.pythia, mpi, det, pileup=float(pileup))


def _manifest(request: _Request) -> dict[str, Any]:
    """What pins the chunks of a run: a later run resumes them only if this is identical."""
    from neyman.generation.pythia import EVENT_ID_STRIDE
    from neyman.versions import __version__

    det = request.detector
    return {
        "process": request.process.as_dict(),
        "seed": request.seed,
        "pythia_settings": list(request.pythia),
        "mpi": request.mpi,
        "pileup": request.pileup,
        "detector": None if det is None else det.as_dict(),
        "neyman_version": __version__,
        # chunks numbered otherwise (label + 8 x event, before) are not mixed in on resume
        "event_id": f"tag(seed) * 2**44 + label * {EVENT_ID_STRIDE} + event",
    }


def _plans(request: _Request, finished: dict[tuple[int, int], dict[str, Any]]) -> list[ClassPlan]:
    """One plan per class with rows to generate, signal first, holding its ``finished`` chunks."""
    from neyman.generation.parallel import ClassPlan

    proc = request.process
    rows = proc.rows_per_class(request.events)
    plans = [
        ClassPlan(s.label, s.name, rows[s.label], proc.chunk_events)
        for s in sorted(proc.samples, key=lambda s: -s.label)
        if rows[s.label] > 0
    ]
    for plan in plans:
        plan.done = {index: record for (label, index), record in finished.items() if label == plan.label}
    return plans


def _run(
    request: _Request,
    plans: list[ClassPlan],
    store: ChunkStore,
    *,
    workers: int,
    scheduler: str | None,
    progress: bool,
    empty_events_limit: int | None,
) -> int:
    """Run the missing chunks, storing each as it finishes; return how many ran."""
    from neyman.generation.parallel import EMPTY_EVENTS_LIMIT, executor, run_chunks
    from neyman.generation.progress import ProgressBar
    from neyman.generation.pythia import ChunkResult

    by_label = {plan.label: plan for plan in plans}
    bar = ProgressBar(progress, plans)
    run = 0

    def on_result(result: ChunkResult) -> None:
        nonlocal run
        if not result.stored:
            store.save(result.table, result.record)
        run += 1
        bar.update(by_label[result.task.label])

    try:
        with bar.shown():
            for plan in plans:
                bar.update(plan)
            limit = EMPTY_EVENTS_LIMIT if empty_events_limit is None else empty_events_limit
            with executor(workers, scheduler, store) as engine:
                run_chunks(plans, request.task, engine, on_result, empty_events_limit=limit)
    except BaseException:
        store.remove_if_empty()  # nothing to resume: leave no folder behind
        raise
    return run


def _assemble(request: _Request, plans: list[ClassPlan], store: ChunkStore) -> tuple[Table, list[dict[str, Any]]]:
    """The sample (the first chunks of each class, cut to its rows) and the provenance of each class."""
    from neyman.generation.pileup import minimum_bias_settings
    from neyman.generation.pythia import combine_cross_sections

    tables = []
    classes = []
    for plan in plans:
        needed = plan.chunks_needed()
        table = Table.concat([store.load(plan.label, i) for i in needed]).head(plan.rows_wanted)
        tables.append(table)
        records = list(plan.done.values())
        settings = request.task(plan.label, 0).pythia_settings()
        classes.append(
            {
                "label": plan.label,
                "name": plan.name,
                "rows": len(table),
                "pythia_settings": list(settings),
                "pileup_settings": list(minimum_bias_settings(settings)) if request.pileup else [],
                "chunks_used": [plan.done[i] for i in needed],
                "events_used": sum(plan.done[i]["events"] for i in needed),
                "events_generated": sum(r["events"] for r in records),
                "rows_selected": sum(r["rows"] for r in records),
                "cross_section": combine_cross_sections(records),
            }
        )
    return Table.concat(tables), classes


def _provenance(request: _Request, classes: list[dict[str, Any]], engine: int | str, seconds: float) -> dict[str, Any]:
    """The provenance written next to the sample."""
    from neyman.generation.pythia import pythia_version
    from neyman.versions import __version__

    proc, det = request.process, request.detector
    return {
        "process": proc.name,
        "description": proc.description + "".join(f"; with {line}" for line in request.pythia),
        "recipe": proc.recipe,
        "reference": proc.reference,
        "rows_requested": request.events,
        "seed": request.seed,
        "seed_drawn": request.seed_drawn,
        "mpi": request.mpi,
        "pileup": request.pileup,
        "detector": None if det is None else det.as_dict(),
        "jets": dataclasses.asdict(proc.jets),
        "chunk_events": proc.chunk_events,
        "classes": classes,
        "pythia_version": pythia_version(),
        "neyman_version": __version__,
        "python": platform.python_version(),
        "workers": engine,
        "seconds": seconds,
    }
