"""``neyman.sample``: draw events from a density run (a flow) or a variational autoencoder into a file."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.exceptions import DataError, NeymanWarning
from neyman.io import not_replaceable, refuse_foreign_provenance, write_provenance
from neyman.preprocessing.missing import FLOAT32_MAX
from neyman.runs import TrainedRun, load_run, outside_counts
from neyman.runs.guard import check_folders_above, enclosing_run
from neyman.runs.sampling import check_drawable, condition_columns, draw, drawn_columns
from neyman.seeding import check_seed
from neyman.table import Table
from neyman.versions import __version__
from neyman.workflows.steps.progress import counting_bar

__all__ = ["SampleResult", "sample"]

COMMAND = "neyman sample"
"""What a sample's provenance file names as its maker (``--force`` replaces only such files)."""


@dataclass(frozen=True)
class SampleResult:
    """Where the drawn events went.

    Attributes
    ----------
    output
        The file of drawn events.
    provenance
        ``<output>.provenance.json``: the run, seed, condition and columns.
    n_events
        Events drawn.
    columns
        Columns written: the drawn variables, then any condition columns.
    """

    output: Path
    provenance: Path
    n_events: int
    columns: list[str]


def _output_file(output: str | os.PathLike[str], *, force: bool) -> Path:
    """A new file, or (with ``force``) an earlier sample; never a folder or a run's file."""
    out = Path(output)
    check_folders_above(out)
    if out.is_dir():
        inside = enclosing_run(out)
        example = inside.parent / f"{inside.name}-sample.parquet" if inside is not None else out / "sample.parquet"
        raise DataError(f"{out} is a folder; give the sample a file name (e.g. {example})")
    run = enclosing_run(out.parent)
    if run is not None:
        raise DataError(f"{out} is inside the run directory {run}; write the sample outside the run")
    if out.exists():
        if not force:
            raise DataError(f"output file {out} exists; pass --force to replace it")
        if why := not_replaceable(out, lambda record: record.get("command") == COMMAND):
            raise DataError(
                f"{out} is not a sample neyman drew, as it wrote it ({why}); --force replaces only "
                "those: choose another --output, or remove the file yourself"
            )
    refuse_foreign_provenance(out, lambda record: record.get("command") == COMMAND, COMMAND, "--output")
    return out


def _check_room(out: Path, events: int, n_columns: int) -> None:
    """Refuse a draw whose file cannot fit on the output's disk (4 bytes a drawn value at the least).

    A mistyped ``--events`` (a few zeros too many) would otherwise draw for days and stop
    only when the disk is full.  Only the drawn columns count: random values do not
    compress, a constant condition column does.
    """
    folder = next(p for p in (out.parent.resolve(), *out.parent.resolve().parents) if p.is_dir())
    need, free = 4 * events * n_columns, shutil.disk_usage(folder).free
    if free == 0:
        raise DataError(
            f"{folder} has no free space (a full disk, or a place files cannot be written); choose another --output"
        )
    if need > free:
        raise DataError(
            f"--events {events}: {events} events of {n_columns} columns need at least {need / 1e9:.3g} GB, but the "
            f"disk of {folder} has {free / 1e9:.3g} GB free; draw fewer events"
        )


def _drawing_run(run: str | os.PathLike[str] | TrainedRun) -> TrainedRun:
    trained = run if isinstance(run, TrainedRun) else load_run(Path(run))
    check_drawable(trained)
    return trained


def _conditions(
    trained: TrainedRun, condition: Mapping[str, float] | str | None, events: int | None
) -> tuple[list[str], np.ndarray | None, int]:
    """The condition columns, their values for every drawn event (or None), and the number of events."""
    names = condition_columns(trained)
    if not names:
        if condition:
            raise DataError(f"{trained.path} draws events unconditionally; draw without --condition")
        if events is None:
            raise DataError("give the number of events to draw (--events N)")
        return [], None, events
    if not condition:
        raise DataError(
            f"{trained.path} draws events conditional on {', '.join(names)}: give their values "
            f"(--condition {names[0]}=VALUE for each) or a file holding them (--condition FILE)"
        )
    if isinstance(condition, Mapping):
        missing = [c for c in names if c not in condition]
        extra = [c for c in condition if c not in names]
        if missing or extra:
            raise DataError(
                f"--condition must give exactly {', '.join(names)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (
                    f"; {', '.join(extra)} {'is' if len(extra) == 1 else 'are'} not a condition of the run"
                    if extra
                    else ""
                )
            )
        if events is None:
            raise DataError("give the number of events to draw (--events N)")
        odd = [c for c in names if not abs(float(condition[c])) <= FLOAT32_MAX]
        if odd:
            raise DataError(
                f"--condition {odd[0]}={condition[odd[0]]}: give the condition a finite value the density's float32 "
                f"arithmetic holds (|value| <= {FLOAT32_MAX:.3g})"
            )
        # a broadcast view: no memory per event, however many are drawn
        values = np.broadcast_to(np.asarray([float(condition[c]) for c in names]), (events, len(names)))
        return names, values, events
    path, tree = io.parse_source(condition)
    if not Path(path).exists() and Path(path).suffix == "":
        raise DataError(
            f"--condition {condition}: no such file; give a value for each condition column "
            f"(--condition {names[0]}=VALUE) or a file holding them"
        )
    table = io.read(path, tree=tree, columns=names)
    values = table.to_numpy(names, dtype=np.float64)
    if len(values) == 0:
        raise DataError(f"--condition {condition} holds no events: it gives the condition of each event drawn")
    if not (np.abs(values) <= FLOAT32_MAX).all():
        raise DataError(
            f"{condition}: the condition columns {', '.join(names)} hold missing, infinite or float32-overflowing "
            f"values (|value| > {FLOAT32_MAX:.3g})"
        )
    n = len(values) if events is None else events
    if n > len(values):
        raise DataError(f"{condition} holds {len(values)} events, fewer than the {n} to draw (one per row)")
    # fewer events than rows: rows spread through the file (its first rows would bias a sorted file)
    return names, values[np.floor(np.arange(n) * (len(values) / n)).astype(np.int64)], n


def _warn_outside(trained: TrainedRun, names: list[str], context: np.ndarray) -> None:
    """Warn when condition values lie beyond the range the density was trained on (it extrapolates there)."""
    ranges = trained.feature_ranges or {}
    counts = outside_counts(ranges, names, context)
    parts = []
    for j in np.flatnonzero(counts):
        low, _, high = ranges[names[j]]
        values = context[:, j]
        shown = f"{values[0]:g}" if np.all(values == values[0]) else f"{counts[j]} of {len(values)} values"
        parts.append(f"{names[j]!r}: {shown} outside [{low:.4g}, {high:.4g}]")
    if parts:
        warnings.warn(
            f"conditions outside the range {trained.path} was trained on: {'; '.join(parts)}. The density "
            "extrapolates there, and its draws are not what it was validated on",
            NeymanWarning,
            stacklevel=3,
        )


def _write(out: Path, columns: list[str], chunks: Iterator[np.ndarray], *, n: int, tree: str, progress: bool) -> None:
    """Write the drawn chunks atomically, with a progress bar when asked."""
    with counting_bar(progress, n, f"drawing {out.name}") as advance, io.open_writer(out, tree=tree) as writer:
        for values in chunks:
            bad = ~np.isfinite(values).all(axis=0)
            if bad.any():
                raise DataError(
                    f"the draws hold missing or infinite values of {', '.join(np.asarray(columns)[bad])}: the density "
                    "overflowed at these conditions (far outside its training range?); nothing was written to "
                    f"{out}; draw at conditions within the range it was trained on"
                )
            writer.write(Table({c: values[:, j] for j, c in enumerate(columns)}))
            advance(len(values))


def sample(
    run: str | os.PathLike[str] | TrainedRun,
    output: str | os.PathLike[str],
    *,
    events: int | None = None,
    condition: Mapping[str, float] | str | None = None,
    seed: int = 0,
    step_size: int = 100_000,
    tree: str = "events",
    force: bool = False,
    progress: bool = False,
) -> SampleResult:
    """Draw events from a trained density (or VAE) and write them with the original column names.

    Parameters
    ----------
    run
        A density run (``task: density``), a variational autoencoder run, or a
        loaded :class:`~neyman.runs.TrainedRun` of one.
    output
        The file to write (Parquet, ROOT, HDF5 or CSV, by extension), under a
        temporary name renamed when complete; a provenance file goes beside it.
    events
        Events to draw (default with a condition file: one per row).
    condition
        A conditional density's condition: ``{column: value}`` for all events, or
        a file whose condition columns give each event's values.
    seed
        Seed of the draw: the same seed (and ``step_size``) gives the same file.
    step_size
        Events drawn and written per chunk (bounds the memory).
    tree
        ROOT tree or HDF5 group of the output.
    force
        Replace an earlier sample at ``output``.
    progress
        Show a progress bar.

    Notes
    -----
    A k-fold run draws from the equal mixture of its fold models: each event's
    fold is drawn uniformly.  A VAE's draws are decoded from :math:`z \\sim \\mathcal N(0, 1)`
    and brought back to physical units by the inverse of the run's preprocessing.
    """
    if step_size < 1:
        raise DataError(f"--step-size must be positive, got {step_size}")
    if events is not None and events < 1:
        raise DataError(f"--events must be at least 1, got {events}")
    check_seed(seed)
    out = _output_file(output, force=force)
    trained = _drawing_run(run)
    if events is not None:
        _check_room(out, events, len(drawn_columns(trained)))
    names, context, n = _conditions(trained, condition, events)
    if context is not None:
        _warn_outside(trained, names, context)
    columns = [*drawn_columns(trained), *names]
    chunks = draw(trained, n, context=context, seed=seed, step=step_size)
    if context is not None:  # the condition values go beside the drawn variables
        chunks = (np.column_stack([v, context[i * step_size : i * step_size + len(v)]]) for i, v in enumerate(chunks))
    _write(out, columns, chunks, n=n, tree=tree, progress=progress)
    record: dict[str, Any] = {
        "command": COMMAND,
        "run": str(Path(trained.path).resolve()),
        "task": trained.task.name,
        "model": trained.models[0].family,
        "events": n,
        "seed": seed,
        "step_size": step_size,
        "condition": condition if not isinstance(condition, Mapping) else dict(condition),
        "columns": columns,
        "neyman_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    provenance = write_provenance(out, record)
    return SampleResult(output=out, provenance=provenance, n_events=n, columns=columns)
