"""``neyman.predict``: apply a trained run to new files, chunk by chunk."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.exceptions import DataError, NeymanWarning, missing_file
from neyman.io import not_replaceable, read_provenance, refuse_foreign_provenance, write_provenance
from neyman.preprocessing import assign_folds
from neyman.representations import ParticleArrays, ParticleSpec
from neyman.runs import (
    RangeCheck,
    Scorer,
    TrainedRun,
    is_hunt,
    load_hunt,
    load_run,
    read_ratio_weights,
    score_table,
)
from neyman.runs.guard import check_folders_above, enclosing_run
from neyman.table import Table, entry_event_ids
from neyman.versions import __version__
from neyman.workflows.steps.progress import counting_bar

__all__ = ["PredictResult", "predict"]

_COMMAND = "neyman predict"


@dataclass(frozen=True)
class PredictResult:
    """Where the scored events went, how many there were, and their provenance file."""

    output: Path
    n_events: int
    score_columns: list[str]
    provenance: Path


def _output_file(out: Path, *, force: bool, scores: list[str], tree: str | None) -> Path:
    """The predictions' file: never a folder, never over a run's own files, replaced only with ``force``.

    ``force`` replaces only earlier predictions: a file holding the ``scores`` columns, as
    ``neyman predict`` wrote it (:func:`neyman.io.not_replaceable`).
    """
    check_folders_above(out)
    if out.is_dir():
        run = enclosing_run(out)  # a run's own folder: the example goes beside the run
        example = out / "scores.parquet" if run is None else run.parent / f"{run.name}-scores.parquet"
        raise DataError(f"output {out} is a folder; give the predictions a file name (e.g. {example})")
    io.detect_format(out, output=True)  # before anything is scored
    run = enclosing_run(out.parent)
    if run is not None:  # a run's folder holds what its training wrote: --force replaces it whole
        raise DataError(
            f"{out} is inside the run directory {run}; write the predictions outside it "
            f"(e.g. {run.parent / f'{run.name}-scores{out.suffix}'})"
        )
    if out.exists() and not force:
        raise DataError(f"output file {out} exists; pass --force to replace it")
    if out.exists():
        try:
            held = set(io.available_columns(out, tree=tree))
        except DataError:
            held = set()
        if not set(scores) <= held:
            raise DataError(
                f"{out} exists and holds no {', '.join(scores)} column(s): --force replaces only earlier predictions "
                "with these score columns (the same run and --prefix); choose another --output"
            )
        if why := not_replaceable(out, lambda record: record.get("command") == _COMMAND):
            raise DataError(
                f"{out} holds {', '.join(scores)} but is not a file neyman predict wrote, as it wrote it ({why}); "
                "--force replaces only those: choose another --output, or remove the file yourself"
            )
    refuse_foreign_provenance(out, lambda record: record.get("command") == _COMMAND, _COMMAND, "--output")
    return out


def _scorer(run: str | os.PathLike[str] | Scorer, in_path: str) -> Scorer:
    """The run (or ONNX file) that scores ``in_path``; a k-fold run scores a new file with its ensemble."""
    trained: Scorer
    if isinstance(run, (str, os.PathLike)):
        if str(run).endswith(".onnx"):
            from neyman.export import OnnxModel

            trained = OnnxModel(Path(run))
        elif is_hunt(run):
            return load_hunt(run)
        else:
            trained = load_run(Path(run))
    else:
        trained = run
    if isinstance(trained, TrainedRun) and trained.kfold >= 2 and not trained.trained_on(in_path):
        # a new file: the k-fold ensemble (the training's own files keep the model of each event's fold),
        # unless it holds the run's event ids: a skim or conversion of a training file is scored by fold too
        column = trained.event_id_column
        where, tree = io.parse_source(in_path)
        if column is None or column not in io.available_columns(where, tree=tree):
            trained = replace(trained, folds_by_event_id=False)
    return trained


def _entry_source(trained: Scorer, in_path: str) -> int | None:
    """The training source whose entry numbers are the event ids of ``in_path`` (k-fold, no id column).

    Without ``data.event_id`` a k-fold training numbered the events of source ``i`` as
    ``i * 10^12 + entry``; scoring that file entry by entry with the model of each
    event's fold keeps every event away from the models that trained on it.
    """
    if not isinstance(trained, TrainedRun) or trained.kfold < 2 or trained.event_id_column is not None:
        return None
    sources = trained.training_sources(in_path)
    if len(sources) > 1:
        warnings.warn(
            f"{in_path} was read by {len(sources)} data.sources entries of {trained.path} (with different "
            "selections), so the fold of each event is unknown: every event is scored by the k-fold ensemble, "
            "whose models trained on most of them; give the run a data.event_id column to avoid this",
            stacklevel=2,
        )
    return sources[0] if len(sources) == 1 else None


def _column_names(trained: Scorer, reweighting: bool) -> list[str]:
    """The columns predict adds: ``weight`` (a reweighting run), or the scores and any uncertainty."""
    if reweighting:
        return ["weight"]
    uncertainty = trained.uncertainty_names if isinstance(trained, TrainedRun) else []
    return [*trained.score_names, *uncertainty]


def _write_provenance(
    out: Path, trained: Scorer, run: str | os.PathLike[str] | Scorer, in_path: str, n: int, names: list[str]
) -> Path:
    """``<out>.provenance.json``: the run, the input and the columns predict added.

    Columns an earlier ``neyman predict`` added to the input (its own provenance) are
    listed too: they are in the output as well.
    """
    run_path = getattr(trained, "path", None) or (run if isinstance(run, (str, os.PathLike)) else None)
    earlier = read_provenance(in_path)
    carried = earlier.get("output_columns") if earlier.get("command") == _COMMAND else None
    record = {
        "command": _COMMAND,
        "run": str(Path(run_path).resolve()) if run_path is not None else None,
        "input": str(Path(in_path).resolve()),
        "events": n,
        "output_columns": list(dict.fromkeys([*(carried if isinstance(carried, list) else []), *names])),
        "neyman_version": __version__,
    }
    return write_provenance(out, record)


def _columns_to_read(trained: Scorer, in_path: str, tree: str | None) -> tuple[list[str] | None, list[str]]:
    """The columns to read (None: every stored one) and those among them that are not written out: the
    constituents a particle or image model builds its inputs from, where the file's public layout gives
    them rather than storing them (:mod:`neyman.io.constituents`); the copy keeps the file's own layout."""
    spec = getattr(trained, "representation", None)
    if spec is None:
        return None, []
    stored = io.read(in_path, tree=tree, entry_stop=0).column_names
    held = set(io.available_columns(in_path, tree=tree))
    derived = [c for c in spec.columns if c not in stored and c in held]
    return (None, []) if not derived else ([*stored, *derived], derived)


def _score_chunks(
    trained: Scorer,
    chunks: Iterable[Table],
    source: int | None,
    ratio: Any,
    names: list[str],
    write: Callable[[Table], None],
    advance: Callable[[int], None],
) -> int:
    """Score and write every chunk; warn about features outside the training range; the events scored."""
    ranges = None
    tabular: Any = trained  # a run, or an ONNX export whose metadata holds the ranges (a hunt's scorer has none)
    known, spec = getattr(tabular, "feature_ranges", None), getattr(tabular, "representation", None)
    if known and spec is None:
        ranges = RangeCheck(known, tabular.features)
    elif known and isinstance(spec, ParticleSpec) and set(known) == set(ParticleArrays.SUMMARIES):
        ranges = RangeCheck(known, ParticleArrays.SUMMARIES)
    n, empty, infinite, where = 0, 0, 0, "the input"
    for chunk in chunks:
        scores = _chunk_scores(trained, chunk, source, n)
        if ratio is not None:
            scores = ratio[0](scores)
        infinite += int(np.sum(~np.isfinite(np.asarray(scores, dtype=np.float64).reshape(len(chunk), -1)).any(axis=1)))
        write(score_table(trained, chunk, scores=scores, names=names))
        if spec is None:
            if ranges is not None:
                ranges.update(tabular.matrix(chunk))
        else:  # one pass over the constituents gives the summaries judged and the jets without any
            jets = _jet_summaries(chunk, spec)
            if ranges is not None:
                ranges.update(jets)
            empty += int(np.sum(jets[:, 1] == 0))
        n, where = n + len(chunk), chunk.source or where
        advance(len(chunk))
    message = None if ranges is None else ranges.warning(where)
    if message:
        warnings.warn(message, NeymanWarning, stacklevel=3)
    if infinite:
        warnings.warn(
            f"{infinite} of the {n} events of {where} got a score that is not a finite number (NaN or +-inf, e.g. "
            "a density's -inf: events so far outside the training events that the model's float32 arithmetic "
            "overflows); their scores say nothing more: select the events within the training range",
            NeymanWarning,
            stacklevel=3,
        )
    if empty:
        warnings.warn(
            f"{empty} of the {n} jets of {where} have no constituents: each got the model's score of an empty set, "
            "the same for all of them, which says nothing of the jet; select jets with constituents",
            NeymanWarning,
            stacklevel=3,
        )
    return n


def _jet_summaries(chunk: Table, spec: Any) -> np.ndarray:
    """Per jet, the pT of the kept constituents' sum and their number (:meth:`ParticleArrays.summaries_of`;
    an image's constituents are counted as one particle set of its size)."""
    if isinstance(spec, ParticleSpec):
        return ParticleArrays.summaries_of(chunk, spec)
    return ParticleArrays.summaries_of(chunk, ParticleSpec(n_constituents=spec.max_constituents, prefix=spec.prefix))


def _chunk_scores(trained: Scorer, chunk: Table, source: int | None, first_entry: int) -> np.ndarray:
    """Scores of a chunk; events of a k-fold training file without ids by the model of their fold.

    A run whose model estimates its uncertainty gets its columns after the scores.
    """
    folds = None
    if source is not None:
        assert isinstance(trained, TrainedRun)
        folds = assign_folds(entry_event_ids(source, np.arange(first_entry, first_entry + len(chunk))), trained.kfold)
    scores = trained.score(chunk) if folds is None else trained.score(chunk, folds=folds)  # type: ignore[call-arg]
    if isinstance(trained, TrainedRun) and trained.uncertainty_names:
        spread = trained.uncertainty(chunk, folds=folds)
        return np.column_stack([scores.reshape(len(chunk), -1), spread])
    return scores


def predict(
    run: str | os.PathLike[str] | Scorer,
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    tree: str | None = None,
    output_tree: str | None = None,
    step_size: int = 100_000,
    prefix: str = "",
    force: bool = False,
    progress: bool = False,
) -> PredictResult:
    """Score every event of ``input`` and write it, with all its columns, to ``output``.

    Parameters
    ----------
    run
        A run directory (also of ``neyman hunt``: its windows' ``anomaly_score``), an ``.onnx``
        file of ``neyman export`` (scored with ONNX Runtime only), or a loaded :class:`TrainedRun`.  A run of
        ``neyman reweight`` adds a ``weight`` column (``w = p_target / p_source``)
        instead of its classifier's score.
    input
        Input file; ``file.root:tree`` names the tree.
    output
        Output file; its format follows its extension (ROOT in → ROOT out as a new
        tree, Parquet in → Parquet out, ...).  Written under a temporary name and
        renamed when complete.
    tree, output_tree
        Input tree and output tree name (default: the input's name, else ``events``).
    step_size
        Events per chunk: memory use is bounded by the chunk, not the file.
    prefix
        Prefix of the score column names.
    force
        Replace an existing output file.
    progress
        Show a progress bar.

    Returns
    -------
    PredictResult
        The output file, its events and score columns, and ``<output>.provenance.json``, which
        names the run and the columns predict added, so that a later training leaves them
        out of its automatic features whatever their ``prefix``.

    Notes
    -----
    A k-fold run scores one of its own training files event by event with the model
    of the event's fold (``event_id mod k``: a model that never saw the event; without
    an event-id column the id is ``source * 10^12 + entry``, as the training numbered
    it), and any other file with the average of its fold models' raw outputs, the k-fold
    ensemble :math:`s(x) = \\sigma\\big(\\tfrac1k \\sum_f z_f(x)\\big)`.
    """
    in_path, in_tree = io.parse_source(str(input))
    if not os.path.exists(in_path):
        raise DataError(f"input file {in_path}{missing_file(in_path)}")
    tree = tree or in_tree
    trained = _scorer(run, in_path)
    ratio = read_ratio_weights(trained.path) if isinstance(trained, TrainedRun) else None
    names = [prefix + s for s in _column_names(trained, ratio is not None)]
    if Path(output).resolve() == Path(in_path).resolve():
        raise DataError(f"output {output} is the input file; write to another file")
    out = _output_file(Path(output), force=force, scores=names, tree=output_tree)
    total = io.num_entries(in_path, tree=tree)
    if total == 0:
        raise DataError(f"{in_path} holds no events (its columns but no rows); there is nothing to score")
    with (
        counting_bar(progress, total, f"scoring {Path(in_path).name}") as advance,
        io.open_writer(out, tree=output_tree or tree or "events") as writer,
    ):
        columns, derived = _columns_to_read(trained, in_path, tree)
        chunks = io.iterate(in_path, tree=tree, step_size=step_size, columns=columns)
        write = writer.write if not derived else lambda table: writer.write(table.drop(derived))
        n = _score_chunks(trained, chunks, _entry_source(trained, in_path), ratio, names, write, advance)
    provenance = _write_provenance(out, trained, run, in_path, n, names)
    return PredictResult(output=out, n_events=n, score_columns=names, provenance=provenance)
