"""``neyman generate``: a labelled sample from the catalogue, written to one file.

Glue between the command line and :mod:`neyman.generation`: parses ``--set``
overrides, validates the request before any work (unknown process or Pythia
setting, unwritable or existing output), plans chunks per class, runs them
(inline, on a local Dask cluster or on an existing one) while storing each as it
finishes, resumes from stored chunks, and writes the final file and its
provenance atomically.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neyman._atomic import write_json
from neyman.exceptions import ConfigError, DataError, close_matches
from neyman.generation.detector import Detector, get_detector
from neyman.generation.processes import PROCESSES, Process, get_process
from neyman.table import Table

__all__ = [
    "GenerateResult",
    "Overrides",
    "describe_processes",
    "generate",
    "parse_overrides",
    "provenance_path",
]


@dataclass(frozen=True)
class Overrides:
    """Parsed ``--set`` options.

    Attributes
    ----------
    pythia
        Pythia settings ``"Key = value"`` (from ``pythia.Key=value``).
    detector
        Detector parameters (from ``detector.name=value``).
    process
        Process options (from ``process.name=value``): ``signal_fraction``, the
        share of label 1 in a two-class process; ``chunk_events``, events per chunk.
    """

    pythia: tuple[str, ...] = ()
    detector: dict[str, float] = dataclasses.field(default_factory=dict)
    process: dict[str, float] = dataclasses.field(default_factory=dict)


_PROCESS_OPTIONS = ("signal_fraction", "chunk_events")


def parse_overrides(items: Sequence[str]) -> Overrides:
    """Parse ``pythia.Key=value``, ``detector.name=value`` and ``process.name=value`` items.

    Raises
    ------
    ConfigError
        For an item without ``=``, an unknown prefix or detector field, or a
        non-numeric detector/process value.
    """
    pythia: list[str] = []
    detector: dict[str, float] = {}
    process: dict[str, float] = {}
    fields = [f.name for f in dataclasses.fields(Detector) if f.name != "name"]
    for item in items:
        key, sep, value = item.partition("=")
        prefix, dot, name = key.strip().partition(".")
        if not sep or not dot or not name or not value.strip():
            raise ConfigError(
                f"cannot read --set {item!r}: write pythia.Key=value (e.g. pythia.PhaseSpace:pTHatMin=450), "
                "detector.name=value or process.name=value"
            )
        if prefix == "pythia":
            pythia.append(f"{name} = {value.strip()}")
            continue
        if prefix not in ("detector", "process"):
            raise ConfigError(f"--set {item!r}: unknown prefix {prefix!r}; use pythia., detector. or process.")
        known = fields if prefix == "detector" else list(_PROCESS_OPTIONS)
        if name not in known:
            raise ConfigError(f"--set {item!r}: unknown {prefix} option {name!r}{close_matches(name, known)}")
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"--set {item!r}: {value!r} is not a number") from None
        (detector if prefix == "detector" else process)[name] = number
    return Overrides(tuple(pythia), detector, process)


def _with_options(process: Process, options: dict[str, float]) -> Process:
    chunk = options.get("chunk_events")
    if chunk is not None:
        if chunk < 1 or chunk != int(chunk):
            raise ConfigError(f"process.chunk_events must be a positive integer, got {chunk}")
        process = dataclasses.replace(process, chunk_events=int(chunk))
    fraction = options.get("signal_fraction")
    if fraction is None:
        return process
    labels = sorted(s.label for s in process.samples)
    if labels != [0, 1]:
        raise ConfigError(f"process.signal_fraction needs a two-class process; {process.name!r} has {len(labels)}")
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"process.signal_fraction must be in [0, 1], got {fraction}")
    samples = tuple(dataclasses.replace(s, share=fraction if s.label == 1 else 1.0 - fraction) for s in process.samples)
    return dataclasses.replace(process, samples=samples)


def _detector(name: str, overrides: dict[str, float]) -> Detector | None:
    detector = get_detector(name)
    if overrides:
        if detector is None:
            raise ConfigError("--set detector.* has no effect with --detector none; drop one of them")
        detector = dataclasses.replace(detector, name=f"{detector.name}+overrides", **overrides)
    return detector


def provenance_path(out: str | os.PathLike[str]) -> Path:
    """Where the provenance of a generated file is written: ``<file>.provenance.json``."""
    path = Path(out)
    return path.with_name(path.name + ".provenance.json")


def describe_processes() -> str:
    """The catalogue in words: classes, recipe and reference of each process."""
    lines = []
    for process in PROCESSES.values():
        classes = ", ".join(f"{s.label} = {s.name}" for s in sorted(process.samples, key=lambda s: -s.label))
        lines += [
            f"{process.name}",
            f"  {process.description}",
            f"  classes: {classes}; rows: one per {'jet' if process.unit == 'jets' else 'event'}",
            f"  recipe: {process.recipe}",
            f"  reference: {process.reference}",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


@dataclass(frozen=True)
class GenerateResult:
    """What ``generate`` wrote."""

    path: Path
    provenance: Path
    rows: dict[str, int]
    seconds: float
    chunks_run: int
    chunks_reused: int


class _Bar:
    """A rich progress bar per class: rows, events and rate."""

    def __init__(self, enabled: bool, plans: Sequence[Any]) -> None:
        self._bar: Any = None
        self._tasks: dict[int, Any] = {}
        self._start = time.perf_counter()
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
        )
        for plan in plans:
            self._tasks[plan.label] = self._bar.add_task(plan.name, total=plan.rows_wanted, info="")

    @contextmanager
    def shown(self) -> Iterator[None]:
        if self._bar is None:
            yield
            return
        with self._bar:
            yield

    def update(self, plan: Any) -> None:
        if self._bar is None:
            return
        seconds = max(time.perf_counter() - self._start, 1e-9)
        self._bar.update(
            self._tasks[plan.label],
            completed=min(plan.rows, plan.rows_wanted),
            info=f"{plan.events} events, {plan.rows / seconds:.0f} rows/s",
        )


def generate(
    process: str,
    events: int,
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    workers: int = 1,
    scheduler: str | None = None,
    detector: str = "default",
    mpi: bool = False,
    overrides: Sequence[str] = (),
    force: bool = False,
    progress: bool = True,
    empty_events_limit: int | None = None,
) -> GenerateResult:
    """Generate ``events`` rows of ``process`` into ``out`` (see ``neyman generate --help``).

    ``events`` counts rows: jets for jet processes, events for event processes,
    split between the classes by their shares.  The same ``seed`` (and settings)
    gives the same file, whatever the number of workers.  ``empty_events_limit``
    overrides :data:`neyman.generation.parallel.EMPTY_EVENTS_LIMIT`.
    """
    from neyman import __version__
    from neyman.generation.parallel import EMPTY_EVENTS_LIMIT, ClassPlan, executor, run_chunks
    from neyman.generation.pythia import (
        EVENT_ID_STRIDE,
        ChunkResult,
        ChunkTask,
        check_settings,
        combine_cross_sections,
        pythia_version,
    )
    from neyman.generation.writer import ChunkStore, output_format, write_sample

    started = time.perf_counter()
    parsed = parse_overrides(overrides)
    proc = _with_options(get_process(process), parsed.process)
    det = _detector(detector, parsed.detector)
    if events <= 0:
        raise ConfigError(f"--events must be positive, got {events}")
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    path = Path(out)
    output_format(path)
    if path.exists() and not force:
        raise DataError(f"output file {path} exists; pass --force to replace it")
    if path.is_dir():
        raise DataError(f"output {path} is a directory; give a file name such as {path / 'events.parquet'}")
    for sample in proc.samples:
        check_settings((*proc.settings(sample.label), *parsed.pythia))

    manifest = {
        "process": proc.as_dict(),
        "seed": seed,
        "pythia_settings": list(parsed.pythia),
        "mpi": mpi,
        "detector": None if det is None else det.as_dict(),
        "neyman_version": __version__,
        # chunks numbered otherwise (label + 8 x event, before) are not mixed in on resume
        "event_id": f"label * {EVENT_ID_STRIDE} + event",
    }
    store = ChunkStore(path, manifest)
    finished = store.open()
    rows = proc.rows_per_class(events)
    plans = [
        ClassPlan(s.label, s.name, rows[s.label], proc.chunk_events)
        for s in sorted(proc.samples, key=lambda s: -s.label)
        if rows[s.label] > 0
    ]
    for plan in plans:
        plan.done = {index: record for (label, index), record in finished.items() if label == plan.label}
    reused = sum(len(plan.done) for plan in plans)
    by_label = {plan.label: plan for plan in plans}
    bar = _Bar(progress, plans)

    def make_task(label: int, index: int) -> ChunkTask:
        return ChunkTask(proc, label, index, proc.chunk_events, seed, parsed.pythia, mpi, det)

    run = 0

    def on_result(result: ChunkResult) -> None:
        nonlocal run
        if not result.stored:
            store.save(result.table, result.record)
        run += 1
        bar.update(by_label[result.task.label])

    with bar.shown():
        for plan in plans:
            bar.update(plan)
        with executor(workers, scheduler, store) as engine:
            limit = EMPTY_EVENTS_LIMIT if empty_events_limit is None else empty_events_limit
            run_chunks(plans, make_task, engine, on_result, empty_events_limit=limit)

    tables = []
    classes = []
    for plan in plans:
        needed = plan.chunks_needed()
        table = Table.concat([store.load(plan.label, i) for i in needed]).head(plan.rows_wanted)
        tables.append(table)
        records = list(plan.done.values())
        classes.append(
            {
                "label": plan.label,
                "name": plan.name,
                "rows": len(table),
                "pythia_settings": list(make_task(plan.label, 0).pythia_settings()),
                "chunks_used": [plan.done[i] for i in needed],
                "events_used": sum(plan.done[i]["events"] for i in needed),
                "events_generated": sum(r["events"] for r in records),
                "rows_selected": sum(r["rows"] for r in records),
                "cross_section": combine_cross_sections(records),
            }
        )
    table = Table.concat(tables)
    seconds = time.perf_counter() - started
    written = write_sample(table, path, max_constituents=proc.jets.max_constituents)
    provenance = {
        "process": proc.name,
        "description": proc.description,
        "recipe": proc.recipe,
        "reference": proc.reference,
        "rows_requested": events,
        "seed": seed,
        "mpi": mpi,
        "detector": None if det is None else det.as_dict(),
        "jets": dataclasses.asdict(proc.jets),
        "chunk_events": proc.chunk_events,
        "classes": classes,
        "pythia_version": pythia_version(),
        "neyman_version": __version__,
        "python": platform.python_version(),
        "workers": workers if scheduler is None else scheduler,
        "seconds": seconds,
    }
    side = write_json(provenance_path(written), provenance)
    store.remove()
    return GenerateResult(
        path=written,
        provenance=side,
        rows={c["name"]: c["rows"] for c in classes},
        seconds=seconds,
        chunks_run=run,
        chunks_reused=reused,
    )
