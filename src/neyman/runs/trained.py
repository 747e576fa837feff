"""A trained run loaded back from its directory, ready to score new events."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.atomic import file_sha256, json_sha256
from neyman.exceptions import DataError, ModelError, RunDirectoryError
from neyman.models import Model
from neyman.preprocessing import assign_folds
from neyman.representations import RepresentationSpec
from neyman.runs.directory import RunDirectory
from neyman.runs.domain import feature_matrix
from neyman.runs.inputs import (
    InputPreprocessor,
    ModelInput,
    as_model_input,
    model_inputs,
    preprocessor_from_json,
    representation_from_json,
)
from neyman.table import EVENT_ID, FOLD, SPLIT, WEIGHT, Table
from neyman.tasks import ScoredEvents, Task, make_task

__all__ = ["METADATA_DIGEST", "TrainedRun", "load_run", "model_dirs"]

METADATA_DIGEST = "content_sha256"
"""Key of ``model/metadata.json`` holding the SHA-256 of the rest of it (:func:`neyman.atomic.json_sha256`):
a record edited after the run was written (a swapped feature order) is refused."""


def model_dirs(run: RunDirectory, kfold: int) -> list[Path]:
    """Model directories of a run: ``model/`` or ``model/fold_<k>/``."""
    return [run.model / f"fold_{k}" for k in range(kfold)] if kfold >= 2 else [run.model]


@dataclass(frozen=True)
class TrainedRun:
    """Everything needed to score events the way the training did.

    Attributes
    ----------
    task, features, classes
        What the model learned and from which columns.
    models, preprocessors
        One per fold (a single entry without k-fold).
    kfold
        Number of folds (0 without k-fold).
    event_id_column
        Column of new files holding event numbers (k-fold fold choice).
    fill_value
        Replacement for non-finite inputs, ``None`` = error.
    representation
        Particle or image spec of the inputs (``None``: the ``features`` matrix).
    sources
        The training's input files (``path`` and ``tree`` of each), for checks on
        real events such as an export's verification.
    source_columns
        Constant columns each source gave its events (``data.sources[i].columns``).
    checksums
        SHA-256 of the run's files recorded when it was written (path relative to
        the run → digest; empty for runs written before they were recorded).
    source_records
        The training's input files as recorded (:mod:`neyman.runs.sources`: the path as
        given, the absolute path, the size and SHA-256, as far as the run's version kept them).
    feature_ranges
        ``{feature: [smallest, median, largest]}`` of the training events
        (:func:`neyman.runs.feature_ranges`; empty for runs written before they were recorded).
    folds_by_event_id
        k-fold runs: score each event with the model of its fold (``event_id mod k``),
        so the training's own events are scored by a model that never saw them; when
        False (for new files) every event gets the average of all fold models.
    """

    path: Path
    task: Task
    features: list[str]
    classes: list[str]
    models: list[Model]
    preprocessors: list[InputPreprocessor]
    kfold: int
    event_id_column: str | None
    fill_value: float | None
    representation: RepresentationSpec | None = None
    sources: tuple[tuple[str, str | None], ...] = ()
    source_columns: tuple[Mapping[str, float | list[float]], ...] = ()
    checksums: Mapping[str, str] = field(default_factory=dict)
    folds_by_event_id: bool = True
    source_records: tuple[Mapping[str, Any], ...] = ()
    feature_ranges: Mapping[str, Sequence[float]] = field(default_factory=dict)

    @property
    def source_files(self) -> tuple[tuple[str, int | None], ...]:
        """Each input file as :meth:`trained_on` recognises it: its absolute path (the path as given for
        runs written before it was recorded) and its size in bytes."""
        return tuple((str(s.get("absolute") or s["path"]), s.get("bytes")) for s in self.source_records)

    def training_sources(self, path: str | Path) -> list[int]:
        """Positions among the training's ``data.sources`` of the entries that read ``path``.

        A file matches when it is the same path, has the same name and size (a relative
        path recorded from another folder, or a copy), or the same content under another
        name (its SHA-256, computed only for a file of a recorded size): when in doubt the
        file counts as a training file (no leakage).
        """
        from neyman.io import parse_source

        wanted = Path(parse_source(str(path))[0]).resolve()
        size = wanted.stat().st_size if wanted.is_file() else None
        digest = None  # computed once, when a recorded size matches
        found = []
        for index, (recorded, recorded_size) in enumerate(self.source_files):
            known = Path(parse_source(recorded)[0])
            recorded_digest = self.source_records[index].get("sha256")
            if known.resolve() == wanted or (known.name == wanted.name and recorded_size in (None, size)):
                found.append(index)
            elif size is not None and recorded_size == size and recorded_digest:
                digest = digest or file_sha256(wanted)
                if digest == recorded_digest:
                    found.append(index)
        return found

    def trained_on(self, path: str | Path) -> bool:
        """Whether ``path`` (a file, with or without ``:tree``) is one of the training's input files."""
        return bool(self.training_sources(path))

    @property
    def score_names(self) -> list[str]:
        """Names of the score columns :meth:`score` returns."""
        return self.task.score_names(self.classes)

    def saved_predictions(self, *, tested: bool = False) -> ScoredEvents:
        """The scores the training wrote to ``predictions.parquet``, with truth, weight, split and fold.

        ``tested``: the caller judges the test split, so a run without test events is refused.

        Raises
        ------
        ModelError
            ``predictions.parquet`` is missing, or was modified or damaged since the
            run was written.
        DataError
            ``tested`` and the run has no test events (``split.test = 0`` and no test file).
        """
        from neyman.preprocessing import TEST

        run = RunDirectory(self.path)
        run.verify_artefacts(self.checksums, names=[run.predictions.name])
        preds = io.read(run.predictions)
        if tested and not np.any(np.asarray(preds[SPLIT]) == TEST):
            raise DataError(
                f"{self.path} has no test events (trained with split.test = 0 and no test file): judge it on a file "
                "of its own (neyman evaluate RUN --test-data FILE), or train it with --test-data FILE"
            )
        matrix = np.stack([np.asarray(preds[n]) for n in self.score_names], axis=1)
        return ScoredEvents(
            scores=self.task.event_scores(matrix),
            truth=np.asarray(preds[self.task.truth_column]),
            weight=np.asarray(preds[WEIGHT], dtype=np.float64),
            split=np.asarray(preds[SPLIT]),
            fold=np.asarray(preds[FOLD]),
            event_id=np.asarray(preds[EVENT_ID]),
        )

    def scored_events(self, table: Table, *, by_fold: bool = False) -> ScoredEvents:
        """Scores, truth and weights of the events of ``table`` (read by the training's rules).

        These are events the run did not train on (``--test-data``, systematic
        variations): every event counts as a test event.  A k-fold run scores them as
        ``neyman predict`` scores their file: each with the one fold model of its event
        id (``event_id mod k``) when the run has a ``data.event_id`` column (which the
        file then holds), else with the k-fold ensemble; with ``by_fold`` always by the
        event id, as its own out-of-fold predictions were, so that the two compare like
        with like.
        """
        from neyman.preprocessing import TEST

        n = len(table)
        ids = np.asarray(table[EVENT_ID])
        by_id = by_fold or (self.folds_by_event_id and self.event_id_column is not None)
        folds = assign_folds(ids, self.kfold) if by_id and self.kfold >= 2 else np.full(n, -1)
        return ScoredEvents(
            scores=self.task.event_scores(self.score(table, folds=folds)),
            truth=np.asarray(table[self.task.truth_column]),
            weight=np.asarray(table[WEIGHT], dtype=np.float64),
            split=np.full(n, TEST, dtype=np.int8),
            fold=folds if by_fold else np.full(n, -1),  # other events: no fold of the run's to report by
            event_id=ids,
        )

    def reference_inputs(self, *, n_events: int = 1000) -> ModelInput:
        """Up to ``n_events`` raw inputs read from the run's input files (spread over them).

        A feature matrix for tabular runs (rows with non-finite values are dropped
        when the run has no ``fill_value``: the run itself refuses them), particle
        arrays or images for constituent-based runs.

        Raises
        ------
        ModelError
            The run records no input files, or they cannot be read or hold no usable event.
        """
        if not self.sources:
            raise ModelError(f"{self.path} records no input files; pass raw events (x_raw=) to check against")
        per_source = max(1, math.ceil(n_events / len(self.sources)))
        columns = self.features if self.representation is None else self.representation.columns
        tables = []
        for i, (path, tree) in enumerate(self.sources):
            constants = self.source_columns[i] if i < len(self.source_columns) else {}
            read = [c for c in columns if c not in constants]
            try:
                table = io.read(path, tree=tree, columns=read, entry_stop=per_source)
                # a list of values is dealt out by entry number, as the training did
                given = {c: np.resize(np.asarray(v, dtype=np.float64), len(table)) for c, v in constants.items()}
                tables.append(table.with_columns(**given))
            except (DataError, OSError) as exc:
                raise ModelError(
                    f"cannot read events of {path!r} to check against the run {self.path} ({exc}); "
                    "pass x_raw= with a few raw events"
                ) from exc
        table = Table.concat(tables)
        if self.representation is not None:
            return model_inputs(table, self.representation, self.features)[:n_events]
        x = table.to_numpy(self.features, dtype=np.float64)
        if self.fill_value is None:
            x = x[np.isfinite(x).all(axis=1)]
        if not len(x):
            raise ModelError(f"the input files of {self.path} gave no events to check against; pass x_raw=")
        return x[:n_events]

    def matrix(self, table: Table) -> np.ndarray:
        """Feature matrix ``(n_events, n_features)`` of ``table`` with the NaN policy applied."""
        return feature_matrix(
            table,
            self.features,
            fill_value=self.fill_value,
            ranges=self.feature_ranges,
            model=f"the model in {self.path}",
        )

    def inputs(self, table: Table) -> ModelInput:
        """Unpreprocessed model inputs of ``table``: the feature matrix, particle sets or images."""
        if self.representation is None:
            return self.matrix(table)
        return model_inputs(table, self.representation, self.features)

    def score(self, table: Table, *, folds: np.ndarray | None = None) -> np.ndarray:
        """Scores of every event; with k-fold the model that did not see the event's fold.

        Without fold information (no event-id column in ``table``, or
        ``folds_by_event_id`` False) a k-fold run combines the raw outputs of all
        fold models (:meth:`~neyman.tasks.Task.combine_folds`: the mean of logits, the
        mixture of densities): the k-fold ensemble.  So does an event of fold ``-1``
        among given ``folds`` (one of no fold: a ``--test-data`` event).
        """
        x = self.inputs(table)
        if self.kfold < 2:
            return self.models[0].predict(as_model_input(self.preprocessors[0].transform(x)))
        column = self.event_id_column if self.folds_by_event_id else None
        if folds is None and column is not None and column in table:
            folds = assign_folds(np.asarray(table[column]), self.kfold)
        if folds is None:
            return self._ensemble_scores(x)
        out: np.ndarray | None = None
        parts = [(folds == k, k) for k in range(self.kfold)] + [(folds < 0, -1)]
        for sel, k in parts:
            if not sel.any():
                continue
            xs = x[sel]
            s = (
                self._ensemble_scores(xs)
                if k < 0
                else self.models[k].predict(as_model_input(self.preprocessors[k].transform(xs)))
            )
            if out is None:
                out = np.empty((len(x), *s.shape[1:]), dtype=np.float64)
            out[sel] = s
        if out is None:
            out = np.empty((0, *([len(self.score_names)] if len(self.score_names) > 1 else [])))
        return out

    def _ensemble_scores(self, x: ModelInput) -> np.ndarray:
        """The k-fold ensemble's scores: the fold models' raw outputs combined by the task."""
        raw = self.task.combine_folds(
            [
                m.predict_raw(as_model_input(p.transform(x)))
                for m, p in zip(self.models, self.preprocessors, strict=True)
            ]
        )
        return np.asarray(self.task.scores(raw))

    @property
    def uncertainty_names(self) -> list[str]:
        """Names of the model-uncertainty columns (``score_std``, ``sigma_model``); empty without one."""
        if not self.models or any(getattr(m, "uncertainty", "none") == "none" for m in self.models):
            return []
        return self.task.uncertainty_names(self.classes)

    def uncertainty(self, table: Table, *, folds: np.ndarray | None = None) -> np.ndarray:
        """The model's uncertainty of every event, ``(n_events, len(uncertainty_names))``.

        Each event's draws come from the model that scores it (:meth:`score`); the
        k-fold ensemble (events without fold information, or of fold ``-1``) pools the
        draws of every fold model, so the spread includes the differences between folds.
        """
        x = self.inputs(table)

        def draws(k: int, sel: np.ndarray | slice) -> np.ndarray:
            xs = as_model_input(self.preprocessors[k].transform(x[sel]))
            return np.asarray(self.models[k].predict_draws(xs))  # type: ignore[attr-defined]

        if self.kfold < 2:
            return self.task.uncertainty(draws(0, slice(None)))
        column = self.event_id_column if self.folds_by_event_id else None
        if folds is None and column is not None and column in table:
            folds = assign_folds(np.asarray(table[column]), self.kfold)
        if folds is None:
            folds = np.full(len(x), -1)
        out = np.zeros((len(x), len(self.uncertainty_names)))
        for k in range(self.kfold):
            sel = folds == k
            if sel.any():
                out[sel] = self.task.uncertainty(draws(k, sel))
        free = folds < 0
        if free.any():
            out[free] = self.task.uncertainty(np.concatenate([draws(k, free) for k in range(self.kfold)]))
        return out


def _check_digest(run: RunDirectory, meta: dict[str, Any]) -> None:
    """Refuse a ``model/metadata.json`` whose content no longer has its recorded digest (older runs: none)."""
    stored = meta.get(METADATA_DIGEST)
    if stored is not None and stored != json_sha256({k: v for k, v in meta.items() if k != METADATA_DIGEST}):
        raise RunDirectoryError(
            f"{run.path} is damaged: {run.metadata} was modified after the run was written (its "
            f"{METADATA_DIGEST} no longer matches its content); restore it from a copy, or train the run again"
        )


def _checked_metadata(run: RunDirectory, meta: Any, prep: Any) -> None:
    """Refuse a damaged ``model/metadata.json`` or ``preprocessing.json`` with the file and key named."""
    problems = []
    if not isinstance(meta, dict):
        problems.append(f"{run.metadata} holds a {type(meta).__name__}, not a mapping")
    else:
        for key, kind in (
            ("task", str),
            ("features", list),
            ("classes", list),
            ("kfold", int),
            ("feature_ranges", dict),
        ):
            if key in meta and not isinstance(meta[key], kind):
                problems.append(f"{run.metadata}: {key!r} is not a {kind.__name__}")
        problems += [f"{run.metadata} lacks {key!r}" for key in ("task", "features") if key not in meta]
    if not isinstance(prep, dict) or not isinstance(prep.get("folds"), list):
        problems.append(f"{run.preprocessing} lacks its list of 'folds'")
    if problems:
        raise RunDirectoryError(f"{run.path} is damaged: {'; '.join(problems)} (train the run again)")


def _read_json(run: RunDirectory, path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RunDirectoryError(f"{run.path}: cannot read {path}: {exc} (train the run again)") from exc


def _recorded_checksums(run: RunDirectory, meta: Any) -> dict[str, str]:
    """The ``checksums`` of ``model/metadata.json``; empty for runs written before they were recorded."""
    checksums = meta.get("checksums", {}) if isinstance(meta, dict) else {}
    if not isinstance(checksums, dict):
        raise RunDirectoryError(
            f"{run.path} is damaged: {run.metadata}: 'checksums' is not a dict (train the run again)"
        )
    return checksums


def load_run(path: str | Path) -> TrainedRun:
    """Load a finished run directory written by :func:`neyman.train`.

    Before anything is read from them, the model files and ``preprocessing.json``
    are compared with the SHA-256 recorded in ``model/metadata.json`` when the run
    was written (runs written before checksums were recorded load without this
    check); ``predictions.parquet`` is checked when :meth:`TrainedRun.saved_predictions`
    reads it.

    Raises
    ------
    ModelError
        A model file or ``preprocessing.json`` is missing, or was modified or
        damaged since the run was written (the file is named).
    RunDirectoryError
        Not a finished run, or its metadata or preprocessing are damaged (the file
        and key are named).
    """
    run = RunDirectory(Path(path))
    run.require_complete()
    meta = _read_json(run, run.metadata)
    checksums = _recorded_checksums(run, meta)
    run.verify_artefacts(checksums, names=[n for n in checksums if n != run.predictions.name])
    prep = _read_json(run, run.preprocessing)
    _checked_metadata(run, meta, prep)
    ranges = _ranges(run, meta.get("feature_ranges") or {})
    _check_digest(run, meta)  # after the checks that name what is damaged
    kfold = int(meta.get("kfold", 0))
    task = make_task(meta["task"], n_classes=max(len(meta.get("classes", [])), 2))
    # the run's record covers every model file (hashed once); older runs fall back on model.json's
    models = [Model.load(d, verify=not checksums) for d in model_dirs(run, kfold)]
    if len(prep["folds"]) != len(models):
        raise RunDirectoryError(
            f"{run.path} is damaged: {run.preprocessing} holds {len(prep['folds'])} fold(s) for {len(models)} model(s)"
        )
    preprocessors = [preprocessor_from_json(p) for p in prep["folds"]]
    return TrainedRun(
        path=run.path,
        task=task,
        features=list(meta["features"]),
        classes=list(meta.get("classes", [])),
        models=models,
        preprocessors=preprocessors,
        kfold=kfold,
        event_id_column=meta.get("event_id_column"),
        fill_value=meta.get("fill_value"),
        representation=representation_from_json(meta.get("representation")),
        sources=tuple((str(src["path"]), src.get("tree")) for src in meta.get("sources", [])),
        source_columns=tuple(dict(src.get("columns") or {}) for src in meta.get("sources", [])),
        source_records=tuple(dict(src) for src in meta.get("sources", [])),
        checksums=checksums,
        feature_ranges=ranges,
    )


def _ranges(run: RunDirectory, ranges: dict[str, Any]) -> dict[str, list[float]]:
    """The recorded training ranges, each three ordered finite numbers."""
    out = {}
    for name, values in ranges.items():
        ok = isinstance(values, list) and len(values) == 3 and all(isinstance(v, (int, float)) for v in values)
        if not ok or not (np.isfinite(values).all() and values[0] <= values[1] <= values[2]):
            raise RunDirectoryError(
                f"{run.path} is damaged: {run.metadata}: feature_ranges[{name!r}] is not three ordered numbers "
                "(train the run again)"
            )
        out[str(name)] = [float(v) for v in values]
    return out
