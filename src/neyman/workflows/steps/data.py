"""Turn the ``data:`` section into one labelled, weighted table of events."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neyman import io
from neyman.config import RunConfig
from neyman.config.schema import DataConfig, SourceConfig
from neyman.exceptions import ConfigError, DataError, NeymanWarning, close_matches, missing_file
from neyman.io import read_provenance
from neyman.io.core import EXACT_INTEGERS, list_names
from neyman.preprocessing import TEST, Selection, bootstrap_counts, check_weights, event_weights, parse_selection
from neyman.preprocessing.missing import FLOAT32_MAX
from neyman.representations import RepresentationSpec
from neyman.runs import RangeCheck, changed_sources
from neyman.table import (
    EVENT_ID,
    LABEL,
    TARGET,
    TRUE_LOG_LR,
    WEIGHT,
    Table,
    entry_event_ids,
    is_output_column,
    is_truth_column,
    number_hint,
)
from neyman.tasks import Task, make_task

if TYPE_CHECKING:
    from neyman.runs import TrainedRun

__all__ = [
    "COPIED_SHARE",
    "MIN_SHARED",
    "Events",
    "SourcePlan",
    "check_evaluated_files",
    "check_test_disjoint",
    "data_with_sources",
    "events_from_chunk",
    "events_in_order",
    "held_out",
    "load_events",
    "plan_sources",
    "refuse_changed_inputs",
    "refuse_copied_training_events",
    "refuse_training_files",
    "resolve_classes",
    "resolve_features",
    "run_events",
    "shared_events",
    "source_column",
    "true_log_ratio",
    "warn_copied_events",
    "warn_outside_training",
]

SOURCE = "source"
MIN_SHARED = 10
"""Test events equal to training events (by feature values alone) that make an overlap."""
# the row index pandas writes along with a frame: an unnamed first CSV column ('' or, written again,
# 'Unnamed: 0') and a Parquet column '__index_level_0__'; never a feature (it tells the row's position)
_PANDAS_INDEX = re.compile(r"|Unnamed: \d+|__index_level_\d+__")
# event, run and luminosity-block numbers name an event and tell nothing of its physics (EventId,
# eventNumber, RunNumber, luminosityBlock, ...): never an automatic feature
_EVENT_NUMBER = re.compile(
    r"(?i)(event|evt)_?(id|number|num|no|nr)?|(run|lumi|luminosity)_?(number|num|no|nr|id|block|section)?|id|entry"
)
# a public data set's own split of its events (the top-tagging set's ttv: 0 train, 1 test, 2 validation)
_SPLIT_FLAG = re.compile(r"(?i)ttv|is_?(train|training|test|val|validation)")


@dataclass(frozen=True)
class Events:
    """All selected events with reserved columns filled in.

    Attributes
    ----------
    table
        Feature columns plus ``label`` (classification) or ``target``
        (regression), ``weight``, ``event_id`` and ``source`` (index of the input).
    features
        Feature names in model-input order.
    classes
        Class names in index order (empty for regression).
    """

    table: Table
    features: list[str]
    classes: list[str]


def resolve_classes(data: DataConfig, task: str) -> list[str]:
    """Class names in index order for a classification task (empty otherwise)."""
    learned = make_task(task)
    if learned.reads_labels == "no":
        return []
    fixed = list(learned.fixed_classes)
    if data.classes:
        classes = list(data.classes)
    elif fixed:
        classes = fixed
    else:
        named = [s.label for s in data.sources if isinstance(s.label, str)]
        if named and len(named) == len(data.sources):
            classes = list(dict.fromkeys(named))
        elif data.label_column:
            return []  # taken from the label column's values
        else:
            raise ConfigError("a multiclass task needs data.classes, a label per source, or data.label_column")
    if fixed and len(classes) != len(fixed):
        raise ConfigError(
            f"a {task} task needs exactly {len(fixed)} classes, data.classes has {len(classes)}: {classes}"
        )
    if len(set(classes)) != len(classes):
        raise ConfigError(f"data.classes has duplicates: {classes}")
    return classes


def _refuse_comma_numbers(sample: Table, text: list[str]) -> None:
    """Refuse a text column whose cells are numbers written with a comma (automatic features would drop it)."""
    for column in text:
        values = np.asarray(sample[column])
        cell = next((v for v in values.tolist() if v is not None), None) if values.dtype.kind in "USO" else None
        hint = number_hint(cell)
        if hint:
            raise DataError(
                f"{sample.source}: column {column!r} holds text, not numbers{hint}. Without a feature list the "
                "features are the numeric columns, and this one would be left out; fix the file, or list the "
                "features (--features, data.features)"
            )


def resolve_features(data: DataConfig, first_source: SourceConfig) -> list[str]:
    """Feature names: explicit, a named set of a benchmark layout, or all flat numeric columns.

    Parameters
    ----------
    data
        The ``data:`` section.
    first_source
        The source whose columns give the features when none are listed.

    Raises
    ------
    DataError
        When the features are taken from the columns and none is numeric, or a column
        of text holds numbers written with a comma (``0,25``), which would be left out
        silently.

    Warns
    -----
    NeymanWarning
        Naming the columns the automatic choice leaves out, and why: true/false and
        text columns, records (a Parquet struct), columns neyman writes (scores of ``neyman predict``, the
        ``split`` and ``fold`` of predictions: :func:`~neyman.table.is_output_column`;
        prefixed scores that the file's ``<file>.provenance.json`` names), generator truth
        (:func:`~neyman.table.is_truth_column`, and the truth columns a generated file's
        provenance names, such as the calibration sample's ``response``)
        and the index pandas wrote with a Parquet frame (named or not).  The reserved
        columns (``label``, ``weight``, ``true_log_lr``, ...) and the ones the configuration names
        (label, target, weight, event id) are left out quietly; so is pandas' unnamed
        row index (an unnamed CSV column, ``__index_level_0__``).
    """
    fmt = data.format
    if isinstance(data.features, str):
        if not fmt or not fmt.startswith("uci-"):
            raise ConfigError(
                f"data.features: {data.features!r} is a named feature set, which needs a benchmark format "
                "(data.format: uci-susy or uci-higgs); otherwise list the columns"
            )
        return list(io.datasets.feature_set(fmt, data.features))
    if data.features:
        return list(data.features)
    if fmt and fmt.startswith("uci-"):
        return list(io.datasets.feature_set(fmt, "all"))
    path, tree = io.parse_source(first_source.path)
    skip = {
        data.label_column,
        data.target,
        data.weight,
        data.event_id,
        *(s.weight for s in data.sources),
    }
    skip |= {LABEL, WEIGHT, EVENT_ID, TARGET, TRUE_LOG_LR}
    # enough rows that a text cell in the first one does not pass a column of numbers off as text
    sample = io.read(path, tree=first_source.tree or tree, entry_stop=1000, format=fmt)
    index = set(io.index_columns(path, tree=first_source.tree or tree, format=fmt))
    predicted = _predicted_columns(path)
    truth = _truth_columns(path)
    flat = [c for c in sample.flat_columns() if c not in skip and not _row_index(sample, c)]
    features, left_out = _sort_columns(sample, flat, skip, index, predicted, truth)
    _refuse_comma_numbers(sample, [c for c in flat if not np.issubdtype(sample[c].dtype, np.number)])
    why = "; ".join(f"{list_names(names, limit=10)} ({reason})" for reason, names in left_out.items())
    if not features:
        one_each = set(sample.flat_columns())
        several = [c for c in sample.column_names if c not in one_each and c not in skip]
        raise _no_feature(sample, f" (left out: {why})" if left_out else "", several)
    if left_out:
        warnings.warn(
            f"{sample.source}: left out of the automatic features: {why}; to choose the features yourself, "
            "list them (--features, data.features)",
            NeymanWarning,
            stacklevel=2,
        )
    return features


def _row_index(sample: Table, column: str) -> bool:
    """Whether ``column`` is the row index pandas writes with a frame, left out of the features quietly.

    Parquet names it ``__index_level_0__``; a CSV gives it no name (read as ``''`` or
    ``Unnamed: 0``) in its first column, counting the rows.  Another unnamed column is
    data whose header lacks a name: it is left out with the others, and named.
    """
    if not _PANDAS_INDEX.fullmatch(column):
        return False
    if column.startswith("__index_level_"):
        return True
    values = sample[column]
    return sample.column_names.index(column) == 0 and values.dtype.kind in "iu" and bool(np.all(np.diff(values) > 0))


def _sort_columns(
    sample: Table, flat: list[str], skip: set[Any], index: set[str], predicted: set[str], truth: set[str]
) -> tuple[list[str], dict[str, list[str]]]:
    """The automatic features among the ``flat`` columns, and the columns left out by reason."""
    left_out: dict[str, list[str]] = {}
    features: list[str] = []
    for column in flat:
        values = sample[column]
        reason = (
            "no name in the header: name it to use it"
            if _PANDAS_INDEX.fullmatch(column)
            else "a list of values per event"
            if values.dtype.kind == "O" and len(values) and isinstance(values[0], (list, tuple, np.ndarray))
            else _left_out_because(column, values.dtype, index, predicted, truth)
        )
        if reason:
            left_out.setdefault(reason, []).append(column)
        else:
            features.append(column)
    records = [c for c in sample.column_names if c not in skip and getattr(sample[c], "fields", None)]
    if records:  # a Parquet struct: neither one number nor a list of them
        left_out["records of several fields: give each field a column of its own"] = records
    return features, left_out


def _no_feature(sample: Table, shown: str, several: list[str]) -> DataError:
    """The error for a file without a column to use as a feature; ``several``: its columns of several numbers."""
    if several:  # a matrix of features per event, or jagged lists: no column of one number per event
        return DataError(
            f"{sample.source} has no column of one number per event to use as a feature{shown}: "
            f"{', '.join(f'{c!r} {_shape_text(sample[c])}' for c in several[:3])} hold several; store one "
            "array or column per feature (a matrix of shape (n, k) as k of them), or for jet constituents "
            "train a particle-set model (--model pfn, particlenet, ...)"
        )
    return DataError(
        f"{sample.source} has no numeric column to use as a feature{shown}; convert the columns of numbers "
        "to numbers, or list the features (--features, data.features)"
    )


def _shape_text(values: Any) -> str:
    """How a column that is not one number per event is shaped, for a message."""
    shape = getattr(values, "shape", None)
    if isinstance(values, np.ndarray) and shape is not None:
        return f"of shape {('n', *shape[1:])}".replace("'n'", "n")
    return "(a list per event)"


def _predicted_columns(path: str) -> set[str]:
    """The columns ``neyman predict`` added to ``path``, as its provenance records them (any ``--prefix``)."""
    record = read_provenance(path)
    names = record.get("output_columns") if record.get("command") == "neyman predict" else None
    return {str(n) for n in names} if isinstance(names, list) else set()


def _truth_columns(path: str) -> set[str]:
    """The generator-truth columns of a file ``neyman generate`` wrote, as its provenance records them."""
    names = read_provenance(path).get("truth_columns")
    return {str(n) for n in names} if isinstance(names, list) else set()


def _left_out_because(column: str, dtype: np.dtype, index: set[str], predicted: set[str], truth: set[str]) -> str:
    """Why ``column`` is not an automatically chosen feature (``""``: it is one)."""
    if column in truth or is_truth_column(column):
        return "generator truth, which a detector does not measure"
    if column in index:
        return "the index pandas wrote with the frame"
    if _EVENT_NUMBER.fullmatch(column):
        return "an event, run or block number"
    if _SPLIT_FLAG.fullmatch(column):
        return "the data set's own train/test/validation flag"
    if is_output_column(column) or column in predicted:
        return "neyman's output: an earlier run's scores or weights"
    if "weight" in column.lower():  # genWeight, mc_weight: differ by sample, so they tell the classes apart
        return "an event weight, not a measurement: give it with --weight or data.weight"
    if dtype == np.bool_:
        return "true/false"
    if not np.issubdtype(dtype, np.number):
        return "text" if dtype.kind in "USO" else f"not numbers: {dtype}"
    return ""


def _class_index(label: str | int, classes: list[str], where: str) -> int:
    if isinstance(label, int):
        if not 0 <= label < len(classes):
            raise ConfigError(f"{where}.label: class index {label} is outside 0..{len(classes) - 1} ({classes})")
        return label
    if label not in classes:
        raise ConfigError(
            f"{where}.label: unknown class {label!r}{close_matches(label, classes)}; classes are {classes}"
        )
    return classes.index(label)


def _labels_from_column(values: np.ndarray, classes: list[str], column: str, source: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == np.bool_:  # True is class 1 (signal), False class 0
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        missing = np.zeros(len(arr), dtype=bool)
        if arr.dtype.kind == "O":  # text read as objects: None or NaN where a cell is empty
            missing = np.array([v is None or (isinstance(v, float) and v != v) for v in arr.tolist()], dtype=bool)
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            raise DataError(
                f"{source}: column {column!r} holds {int(missing.sum())} missing labels (the first in row "
                f"{first + 1}); every event needs its class: fill them or select the labelled events (data.selection)"
            )
        names = arr.astype(str)
        held = sorted(str(name) for name in np.unique(names))
        unknown = [name for name in held if name not in classes]
        if unknown:
            example = (
                f"; e.g. --set 'data.classes=[{held[0]},{held[1]}]' for {held[1]!r} as the signal"
                if len(held) == 2
                else f"; e.g. --set 'data.classes=[{','.join(held)}]'"
                if len(held) <= 10
                else ""
            ) + (
                "; or --task multiclass, which takes the labels in sorted order as the classes"
                if len(held) > 2 == len(classes)
                else ""
            )
            raise DataError(
                f"{source}: column {column!r} holds labels {', '.join(map(repr, unknown[:10]))} that are not in "
                f"data.classes ({', '.join(map(repr, classes))}); list every class in data.classes, in index "
                f"order (class 0 first; in a binary task class 1 is the signal){example}"
            )
        lookup = {c: i for i, c in enumerate(classes)}
        return np.array([lookup[n] for n in names], dtype=np.int64)
    finite = np.isfinite(arr) if np.issubdtype(arr.dtype, np.floating) else np.ones(arr.shape, bool)
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        raise DataError(
            f"{source}: column {column!r} holds {int((~finite).sum())} missing or infinite labels "
            f"(the first in row {first + 1}: {arr[first]}); every event needs its class"
        )
    as_int = arr.astype(np.int64)
    if not np.array_equal(as_int, arr):
        odd = as_int != arr
        shown = ", ".join(repr(float(v)) for v in arr[odd][:3])  # in full: 0.9999999 is no 1
        first, count = int(np.flatnonzero(odd)[0]), int(odd.sum())
        raise DataError(
            f"{source}: column {column!r} holds {count} non-integer label{'s' * (count != 1)} (e.g. {shown}; the "
            f"first in row {first + 1}); a class label is a whole number (0 = {classes[0]}, 1 = {classes[1]}"
            f"{', ...' if len(classes) > 2 else ''}): to learn a continuous value, name it as the target "
            f"(--target {column}); for classes, round the column or choose the label column (--label-column)"
        )
    bad = (as_int < 0) | (as_int >= len(classes))
    if bad.any():
        held = np.unique(as_int).tolist()
        more = len(classes) == 2 and (as_int[bad] >= 2).any()
        if len(classes) == 2 and len(held) == 2:  # two classes coded otherwise, e.g. 1/2 or -1/+1
            hint = (
                f"; the column holds two values, {held[0]} and {held[1]}, and a binary label is 0 ({classes[0]}) "
                f"or 1 ({classes[1]}): write the labels as 0 and 1"
            )
        elif more:
            hint = "; more than two classes need the multi-class task: --task multiclass (task.type: multiclass)"
        else:
            hint = "; fix data.classes or the labels"
        raise DataError(
            f"{source}: column {column!r} holds label values {sorted(set(as_int[bad].tolist()))[:10]} outside the "
            f"declared classes 0..{len(classes) - 1} ({classes}){hint}"
        )
    return as_int


@dataclass(frozen=True)
class SourcePlan:
    """How to read one source: file, tree, columns to load and cuts to apply."""

    index: int
    config: SourceConfig
    path: str
    tree: str | None
    columns: list[str]
    selections: list[Selection]

    @property
    def where(self) -> str:
        return f"data.sources.{self.index}"


def plan_sources(
    data: DataConfig,
    features: list[str],
    *,
    classification: bool,
    carry: list[str] | None = None,
    labels_required: bool = True,
) -> list[SourcePlan]:
    """Resolve every source's file, tree and the columns it must provide (``carry``: extra ones).

    ``classification``: the events get labels; ``labels_required``: every source
    must give them (otherwise a source without a label holds background, class 0).
    """
    plans = []
    for i, src in enumerate(data.sources):
        path, tree = io.parse_source(src.path)
        if not os.path.exists(path):
            raise DataError(f"input file {path}{missing_file(path)} (data.sources.{i}.path)")
        weight_col = src.weight or data.weight
        needed = [c for c in [*features, *(carry or [])] if c not in src.columns]
        for extra in (weight_col, data.event_id, data.target if not classification else None):
            if extra:
                needed.append(extra)
        if classification and src.label is None and (data.label_column or labels_required):
            if not data.label_column:
                raise ConfigError(f"data.sources.{i}: give the source a label (class) or set data.label_column")
            needed.append(data.label_column)
        selections = [parse_selection(c) for c in [*(data.selection or []), *(src.selection or [])]]
        columns = list(dict.fromkeys([*needed, *(c for sel in selections for c in sorted(sel.columns))]))
        plans.append(SourcePlan(i, src, path, src.tree or tree, columns, selections))
    _refuse_one_file_as_two_classes(plans)
    return plans


def _refuse_one_file_as_two_classes(plans: list[SourcePlan]) -> None:
    """Refuse two sources of different classes that name one file by two paths (a link, ``./``).

    The configuration already refuses the same path spelled alike; here the files are
    compared as the system sees them (:func:`os.path.samefile`), with their tree and cuts.
    """
    seen: dict[tuple[int, int, str | None, tuple[str, ...]], SourcePlan] = {}
    for plan in plans:
        if plan.config.label is None or plan.config.test:
            continue
        stat = Path(plan.path).stat()
        key = (stat.st_dev, stat.st_ino, plan.tree, tuple(plan.config.selection or ()))
        first = seen.setdefault(key, plan)
        if first.config.label != plan.config.label:
            raise DataError(
                f"{first.path} and {plan.path} are one file, read as classes {first.config.label!r} and "
                f"{plan.config.label!r} (data.sources.{first.index} and data.sources.{plan.index}): the same events "
                "in both classes teach nothing; give each class its own file or selection"
            )


def _refuse_not_flat(
    table: Table, features: list[str], src: SourceConfig, data: DataConfig, *, classification: bool
) -> None:
    """Refuse a feature, label, target or event-id column that holds several values (or a record) per event."""
    flat = set(table.flat_columns())
    jagged = [f for f in features if f not in src.columns and f not in flat]
    if jagged:
        raise _not_flat(
            table,
            jagged[0],
            "feature",
            "choose flat columns (--features, data.features), e.g. each field, or the leading object's value, "
            "written as a column of its own",
        )
    for role, name in (
        ("event-id", data.event_id),
        ("label", data.label_column if classification and src.label is None else None),
        ("target", None if classification else data.target),
    ):
        if name is not None and name not in flat:
            raise _not_flat(table, name, role, f"choose a column with one value per event as the {role}")


def _not_flat(table: Table, name: str, role: str, fix: str) -> DataError:
    """The error for a column of ``role`` that holds several values (or a record) per event."""
    fields = getattr(table[name], "fields", None)
    held = f"a record of fields {list(fields)} (a struct)" if fields else "a list of values (a jagged or array branch)"
    one = "one number" if role == "feature" else "one value"
    return DataError(
        f"{table.source}: {role} column {name!r} holds {held} per event, and a {role} takes {one} per event; {fix}"
    )


def _event_ids(values: np.ndarray, column: str, source: str | None, entries: np.ndarray) -> np.ndarray:
    """The event-id column as int64, refused where a value is missing or not a whole number.

    Missing values (NaN, an empty cell) and fractions would otherwise become arbitrary
    integers, which decide the splits, the folds and the overlap checks.
    """
    if values.dtype.kind in "iub":
        return values.astype(np.int64)
    bad: int | None = None
    if values.dtype.kind == "f":
        whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) <= EXACT_INTEGERS)
        bad = None if whole.all() else int(np.argmin(whole))
        if bad is None:
            return values.astype(np.int64)
    else:
        out = np.empty(len(values), dtype=np.int64)
        for i, cell in enumerate(values.tolist()):
            text = cell.decode() if isinstance(cell, bytes) else str(cell)
            try:
                out[i] = int(text.strip())
            except (ValueError, OverflowError):
                bad = i
                break
        if bad is None:
            return out
    where = f"{source}: " if source else ""
    shown = values[bad].item() if isinstance(values[bad], np.generic) else values[bad]
    raise DataError(
        f"{where}event-id column {column!r} holds {shown!r} at entry {int(entries[bad])} (counted from 0): "
        "every event needs a whole-number id (data.event_id decides the splits and folds); fill or drop such "
        "events, or leave data.event_id unset to number the events by entry"
    )


def events_from_chunk(
    table: Table,
    plan: SourcePlan,
    data: DataConfig,
    features: list[str],
    classes: list[str],
    *,
    classification: bool,
    first_entry: int | None = None,
    carry: list[str] | None = None,
) -> Table:
    """Apply a source's cuts to a chunk and build the feature and reserved columns.

    With ``first_entry`` (the chunk's first entry in its file) and no event-id
    column configured, events are numbered ``source * 10^12 + entry``.
    """
    entries = np.arange(len(table), dtype=np.int64) + (first_entry or 0)
    if plan.selections:
        mask = np.ones(len(table), dtype=bool)
        for sel in plan.selections:
            mask &= sel.mask(table)
        table = table.take(mask)
        entries = entries[mask]
    src = plan.config
    n = len(table)
    _refuse_not_flat(table, features, src, data, classification=classification)
    cols: dict[str, Any] = {
        f: source_column(src.columns[f], entries) if f in src.columns else np.asarray(table[f]) for f in features
    }
    cols.update({c: table[c] for c in carry or []})
    cols[WEIGHT] = event_weights(table, weight_column=src.weight or data.weight, scale=src.scale)
    if data.bootstrap is not None and not src.test:  # a replica of the training samples; test files stay whole
        cols[WEIGHT] = cols[WEIGHT] * bootstrap_counts(data.bootstrap, plan.index, entries)
    if data.event_id:
        cols[EVENT_ID] = _event_ids(np.asarray(table[data.event_id]), data.event_id, table.source, entries)
    elif first_entry is not None:
        cols[EVENT_ID] = entry_event_ids(plan.index, entries)
    if classification:
        if src.label is not None:
            if not classes:
                raise ConfigError(f"{plan.where}.label: declare data.classes to use class labels")
            cols[LABEL] = np.full(n, _class_index(src.label, classes, plan.where), dtype=np.int64)
        elif data.label_column is None:  # an unsupervised task's unlabelled source: background
            cols[LABEL] = np.zeros(n, dtype=np.int64)
        else:
            raw = np.asarray(table[data.label_column])
            # without declared classes the labels are checked once all sources are read
            cols[LABEL] = _labels_from_column(raw, classes, data.label_column, table.source) if classes else raw
    else:
        assert data.target is not None
        cols[TARGET] = table.to_numpy([data.target], dtype=np.float64)[:, 0]
        bad = ~np.isfinite(cols[TARGET])
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{table.source}: the target column {data.target!r} holds {int(bad.sum())} missing or infinite "
                f"values (the first in row {first + 1}: {cols[TARGET][first]}); select the events that have a "
                "target (data.selection) or fix the file"
            )
        big = np.abs(cols[TARGET]) > FLOAT32_MAX
        if big.any():
            first = int(np.flatnonzero(big)[0])
            raise DataError(
                f"{table.source}: the target column {data.target!r} holds {int(big.sum())} values beyond "
                f"±{FLOAT32_MAX:.3g}, which the models' float32 arithmetic turns into infinities (the first in row "
                f"{first + 1}: {cols[TARGET][first]:.4g}); rescale the target (another unit, or its logarithm)"
            )
    cols[SOURCE] = np.full(n, plan.index, dtype=np.int64)
    return Table(cols, source=table.source)


def _with_classes(events: Table, data: DataConfig, learned: Task) -> tuple[Table, list[str]]:
    """The events with their label column read as class indices, and the classes, when none are declared.

    Integer labels ``0..k-1`` are the task's fixed classes, a generated file's or ``class_0..``;
    text labels of a task without fixed classes (multi-class) are the names in sorted order.
    """
    values = np.unique(np.asarray(events[LABEL]))
    if np.issubdtype(values.dtype, np.floating):  # a missing label is named later, not counted here
        values = values[np.isfinite(values)]
    numeric = np.issubdtype(values.dtype, np.number)
    n_cls = (int(values.max()) + 1 if len(values) else 1) if numeric else len(values)
    named = [] if numeric or learned.fixed_classes else sorted(map(str, values))
    classes = (
        (list(learned.fixed_classes) or _generated_class_names(data, n_cls)) or named or learned.class_names(n_cls)
    )
    files = ", ".join(str(s.path) for s in data.sources)
    return events.with_column(
        LABEL, _labels_from_column(events[LABEL], classes, str(data.label_column), files)
    ), classes


def load_events(
    data: DataConfig, *, task: str, features: list[str] | None = None, carry: list[str] | None = None
) -> Events:
    """Read every source, apply the cuts and attach labels, weights and event ids.

    Parameters
    ----------
    data
        The ``data:`` section.
    task
        The task name (decides between labels and a regression target).
    features
        Feature columns (default: resolved from ``data.features``).
    carry
        Further columns passed through as they are (e.g. jagged constituents).

    Raises
    ------
    DataError
        Missing files or columns, labels outside the classes, one class only,
        no events after the selection, a non-positive total weight.
    """
    classes = resolve_classes(data, task)
    if features is None:
        features = resolve_features(data, data.sources[0])
    learned = make_task(task)
    classification = learned.reads_labels != "no"
    required = learned.reads_labels == "required"
    parts = []
    plans = plan_sources(data, features, classification=classification, carry=carry, labels_required=required)
    _warn_unused_weight_column(plans, data)
    for plan in plans:
        table = io.read(
            plan.path, tree=plan.tree, columns=plan.columns, entry_stop=plan.config.max_events, format=data.format
        )
        if len(table) == 0:
            raise DataError(
                f"{plan.path} holds no events (its columns but no rows); fill it or remove it from data.sources "
                "(or --test-data)"
            )
        parts.append(
            events_from_chunk(
                table, plan, data, features, classes, classification=classification, first_entry=0, carry=carry
            )
        )
    _warn_rounded_class(parts, plans, features)
    events = Table.concat(parts)
    if len(events) == 0:
        raise DataError(
            "no events left after the selections in any input; loosen data.selection (or the sources' "
            "selection) or check the files"
        )
    if classification and not classes:
        events, classes = _with_classes(events, data, learned)
    if EVENT_ID not in events:
        events = events.with_column(EVENT_ID, np.arange(len(events), dtype=np.int64))
    if required:
        present = np.bincount(events[LABEL], minlength=len(classes))
        missing = [classes[k] for k in range(len(classes)) if present[k] == 0]
        if missing:
            selected = data.selection or any(s.selection for s in data.sources)
            raise DataError(
                f"no events of class {', '.join(map(repr, missing))} "
                f"{'after the selections' if selected else 'in the inputs'} "
                f"(events per class: {dict(zip(classes, present.tolist(), strict=True))}); "
                "a classifier needs every class"
            )
        _check_weights(data, events, labels=True)
        _warn_cancelling_weights(events, classes, data)
    else:
        _check_weights(data, events, labels=False)
        _warn_cancelling_weights(events, [], data)
        if not classification:
            _check_target(np.asarray(events[TARGET]), data)
    return Events(table=events, features=features, classes=classes)


WHOLE_DISTINCT = 10
"""A feature of whole numbers must take more values than this to be compared across classes."""


def _warn_rounded_class(parts: list[Table], plans: list[SourcePlan], features: list[str]) -> None:
    """Warn when a feature holds only whole numbers in one class's files and fractions in another's.

    Files of different classes written by different tools can differ in how they store
    a quantity (rounded to an integer, or in another unit): a classifier then separates
    the files' formats, not their physics.  A feature counts as whole in a file when
    every value is a whole number and it takes more than :data:`WHOLE_DISTINCT` values
    (a count such as a multiplicity is whole in every class, and a column of zeros,
    such as an absent object's momentum, says nothing).
    """
    labelled = [(plan, part) for plan, part in zip(plans, parts, strict=True) if plan.config.label and len(part)]
    if len({plan.config.label for plan, _ in labelled}) < 2:
        return
    for name in features:
        whole: dict[str, str] = {}
        fractional: dict[str, str] = {}
        for plan, part in labelled:
            values = np.asarray(part[name], dtype=np.float64)
            if not np.array_equal(values, np.round(values)):
                fractional.setdefault(str(plan.config.label), plan.path)
            elif len(np.unique(values)) > WHOLE_DISTINCT:
                whole.setdefault(str(plan.config.label), plan.path)
        if whole and fractional and whole.keys().isdisjoint(fractional.keys()):
            warnings.warn(
                f"feature {name!r} holds only whole numbers in {', '.join(whole.values())} (class "
                f"{', '.join(map(repr, whole))}) but fractions in {', '.join(fractional.values())} (class "
                f"{', '.join(map(repr, fractional))}): if the files store it differently (rounded, or in another "
                "unit), the classifier learns the files' formats instead of the physics; write it alike in every "
                "file",
                NeymanWarning,
                stacklevel=3,
            )


def _check_weights(data: DataConfig, events: Table, *, labels: bool) -> None:
    """:func:`~neyman.preprocessing.check_weights` with the weight columns and files named in the error."""
    try:
        check_weights(events[WEIGHT], events[LABEL] if labels else None)
    except DataError as exc:
        named = {
            f"{source.weight or data.weight!r} of {io.parse_source(source.path)[0]}"
            for source in data.sources
            if source.weight or data.weight
        }
        scaled = [io.parse_source(source.path)[0] for source in data.sources if source.scale != 1.0]
        what = [f"the weight column {', '.join(sorted(named))}"] if named else []
        what += [f"the scale of {', '.join(scaled)}"] if scaled else []
        if not what:
            raise
        raise DataError(f"{exc} (weights from {' and '.join(what)})") from exc


CANCELLING_ESS = 0.1
"""Warn when a class's effective sample size is below this share of its events (negative weights)."""


def _warn_unused_weight_column(plans: list[SourcePlan], data: DataConfig) -> None:
    """Warn when a source holds a column named ``weight`` with other values than 1 that no option names.

    ``weight`` is the name neyman gives the event weight it computes, so the column is never
    a feature; it weighs the events only when named (``--weight weight``).  Unit weights (as
    neyman's own files hold) change nothing and are passed over quietly.
    """
    named = [data.target, data.label_column, data.event_id, *(data.features if isinstance(data.features, list) else [])]
    if data.weight is not None or WEIGHT in named:
        return  # named as something else (a regression of the signed weight, reweight --positive)
    for plan in plans:
        if plan.config.weight is not None:
            continue
        try:
            if WEIGHT not in io.available_columns(plan.path, tree=plan.tree, format=data.format):
                continue
            values = io.read(plan.path, tree=plan.tree, columns=[WEIGHT], entry_stop=1000, format=data.format)
            held = np.asarray(values[WEIGHT], dtype=np.float64)
        except (DataError, TypeError, ValueError):
            continue  # the reading itself reports a damaged file
        if len(held) and not np.all(held == 1.0):
            warnings.warn(
                f"{plan.path} has a column 'weight' (e.g. {held[held != 1.0][0]:g}), which weighs no event: neyman "
                "uses the weight column it is told of; give --weight weight (data.weight) to weight the events by it",
                NeymanWarning,
                stacklevel=3,
            )
            return


def _warn_cancelling_weights(events: Table, classes: list[str], data: DataConfig) -> None:
    """Warn for each class whose negative weights cancel most of its positive ones.

    Notes
    -----
    The effective sample size :math:`N_\\text{eff} = (\\sum_i w_i)^2 / \\sum_i w_i^2` is
    :math:`N (1 - 2f)^2` for unit weights of which a share :math:`f` is negative: at
    :math:`N_\\text{eff} < 0.1 N` (:math:`f > 0.34`) a weighted metric rests on a few
    effective events and can leave its range (an AUC below 0, an accuracy above 1).
    """
    w = np.asarray(events[WEIGHT], dtype=np.float64)
    if not (w < 0).any():
        return
    groups = np.asarray(events[LABEL]) if classes else np.zeros(len(w), dtype=np.int64)
    column = data.weight or next((s.weight for s in data.sources if s.weight), None) or "COLUMN"
    for k in np.unique(groups):
        wk = w[groups == k]
        ess = float(wk.sum() ** 2 / np.sum(wk**2))
        if ess < CANCELLING_ESS * len(wk):
            negative = float(-wk[wk < 0].sum() / wk[wk > 0].sum())
            who = f"class {classes[int(k)]!r}" if classes else "the events"
            warnings.warn(
                f"{who}: negative weights cancel {negative:.0%} of the positive weight, leaving an effective "
                f"sample of {ess:.0f} of {len(wk)} events ((Σw)²/Σw²); training learns little and weighted "
                "metrics can leave their range (an AUC below 0 or above 1). Positive weights with the same "
                f"expectation: neyman reweight --positive {io.parse_source(data.sources[0].path)[0]} --weight {column}",
                NeymanWarning,
                stacklevel=2,
            )


def held_out(cfg: RunConfig, table: Table) -> np.ndarray | None:
    """The events of external test files (``data.sources[*].test``), or None when there are none."""
    tests = [i for i, src in enumerate(cfg.data.sources) if src.test]
    return np.isin(np.asarray(table[SOURCE]), tests) if tests else None


def check_test_disjoint(cfg: RunConfig, table: Table, x: np.ndarray) -> None:
    """Refuse external test events that are also training or validation events.

    The events of the test files (``data.sources[*].test``) are compared with the
    others' by :func:`shared_events`.

    Raises
    ------
    DataError
        Naming the test and training files and how many test events are shared.
    """
    test = held_out(cfg, table)
    if test is None or x.ndim != 2:
        return
    ids = np.asarray(table[EVENT_ID]) if cfg.data.event_id else None
    shared = shared_events(x[~test], x[test], None if ids is None else ids[~test], None if ids is None else ids[test])
    if shared.any():
        sources = np.asarray(table[SOURCE])
        test_files = sorted({cfg.data.sources[i].path for i in np.unique(sources[test])})
        train_files = sorted({cfg.data.sources[i].path for i in np.unique(sources[~test])})
        raise DataError(_shared_message(int(shared.sum()), int(test.sum()), test_files, train_files))


def _shared_message(shared: int, total: int, test_files: Sequence[str], train_files: Sequence[str]) -> str:
    return (
        f"{shared} of the {total} test events in {', '.join(test_files)} are also in the training input "
        f"{', '.join(train_files)} (equal feature values, or event ids): a test on training events overstates the "
        "performance; use an independent test file (neyman generate without --seed, or with another seed) or "
        "remove the shared events"
    )


def shared_events(
    train_x: np.ndarray, test_x: np.ndarray, train_ids: np.ndarray | None = None, test_ids: np.ndarray | None = None
) -> np.ndarray:
    """Which test events are training events: a copied file, renumbered or not, shuffled or not.

    An event is shared when its feature vector equals a training event's.  Equal
    vectors identify events only where vectors do not repeat: when the training
    events repeat feature vectors (more than 1% duplicates, as with a few discrete
    features) vectors alone decide nothing; a vector repeated within either sample
    (events without objects, all zeros) is left out; and fewer than ``MIN_SHARED``
    shared events (or fewer than all of a smaller test sample) are taken as
    coincidences of distinct events.  With event ids, an equal vector with an equal id
    is shared in any case.  Values are compared at float32 precision, so that a copy
    written as text or converted from float32 to float64 is still a copy.

    Notes
    -----
    The row key is FNV-1a over the bit patterns of the row's values,
    ``h ← (h ⊕ b_j) · 1099511628211 mod 2^64``; two different rows share a key with
    probability 2^-64 per pair.

    Returns
    -------
    numpy.ndarray
        Boolean mask over the test events.
    """
    shared = np.zeros(len(test_x), dtype=bool)
    if train_x.shape[1]:
        train_keys, test_keys = _row_keys(train_x, None), _row_keys(test_x, None)
        if len(np.unique(train_keys)) >= 0.99 * len(train_keys):
            alone = np.isin(test_keys, train_keys) & ~np.isin(
                test_keys, np.concatenate([_repeated(train_keys), _repeated(test_keys)])
            )
            if alone.sum() >= min(MIN_SHARED, len(test_x)):
                shared |= alone
    if train_ids is not None and test_ids is not None:
        shared |= np.isin(_row_keys(test_x, test_ids), _row_keys(train_x, train_ids))
    return shared


def refuse_copied_training_events(trained: TrainedRun, cfg: RunConfig, table: Table, files: Sequence[str]) -> None:
    """Refuse evaluation events (``evaluate --test-data``) that are copies of the run's training events.

    The run's training files are read again and the events its models fitted on
    (training and validation splits, or every event of a k-fold run; of the classes
    the task learns from) are compared with :func:`shared_events`, when the files are
    still those it trained on and fit in memory (not for a streamed run); the file
    names alone are compared before (:func:`refuse_training_files`).

    Raises
    ------
    DataError
        Naming the files and how many events are shared.
    """
    spec = trained.representation
    if not files or cfg.data.streaming or not trained.source_records or changed_sources(trained.source_records):
        return
    if spec is not None and not cfg.data.event_id:
        return  # constituents: no feature vector to compare
    training = run_events(cfg.data, cfg.task.type, spec, features=trained.features)
    # the events a model fitted on: training and validation (with k-fold, every event), of the
    # classes the task learns from (an anomaly model never saw the signal of its file)
    saved = trained.saved_predictions()
    fitted = trained.task.learns_from(saved.truth) & ((saved.split != TEST) | (trained.kfold >= 2))
    training = training.take(np.flatnonzero(np.isin(np.asarray(training[EVENT_ID]), saved.event_id[fitted])))
    features = [] if spec is not None else list(trained.features)
    ids = (np.asarray(training[EVENT_ID]), np.asarray(table[EVENT_ID])) if cfg.data.event_id else (None, None)
    shared = shared_events(
        training.to_numpy(features, dtype=np.float64), table.to_numpy(features, dtype=np.float64), *ids
    )
    if shared.any():
        train_files = [src.path for src in cfg.data.sources if not src.test]
        raise DataError(_shared_message(int(shared.sum()), len(table), files, train_files))


COPIED_SHARE = 0.01
"""Events that are exact copies of others beyond this share of the input are named."""


def warn_copied_events(cfg: RunConfig, table: Table, x: np.ndarray, truth: np.ndarray | None) -> None:
    """Warn when many events are exact copies of others that the split can put on both of its sides.

    A file read twice, or a sample concatenated with itself, puts copies of training events
    into the validation and test splits, where they measure the model's memory rather than
    its performance.  Copies are equal feature vectors with equal labels (or targets),
    held by two to four events (a file read two to four times; a vector that hundreds of
    events share is a default value, such as all zeros for an empty event) with other event
    ids (with ``data.event_id``, copies sharing an id share a split).  They are named when
    they exceed :data:`COPIED_SHARE` of the events (external test files left out:
    :func:`check_test_disjoint` judges those) and when the features are continuous enough
    that equal vectors mean copied events: one feature alone must hold at least 90% as
    many distinct values as there are distinct vectors (with a few discrete features,
    equal vectors are expected).
    """
    test = held_out(cfg, table)
    keep = np.ones(len(table), bool) if test is None else ~test
    if keep.sum() < 100 or x.ndim != 2 or x.shape[1] == 0:
        return
    values = x[keep] if truth is None else np.column_stack([x[keep], truth[keep]])
    keys = _row_keys(values, None)
    found, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    distinct = len(found)
    few = (counts[inverse] >= 2) & (counts[inverse] <= 4)
    ids = np.asarray(table[EVENT_ID])[keep]  # numbered by entry without data.event_id: all differ
    copies = len(np.unique(_row_keys(values[few], ids[few]))) - len(np.unique(keys[few]))
    if copies <= COPIED_SHARE * keep.sum():
        return
    widest = max(len(np.unique(x[keep, j])) for j in range(x.shape[1]))
    if widest < 0.9 * distinct:
        return
    files = sorted({cfg.data.sources[i].path for i in np.unique(np.asarray(table[SOURCE])[keep])})
    warnings.warn(
        f"{', '.join(files)}: {copies} of the {int(keep.sum())} events are exact copies of others (the same "
        f"features and {'label' if cfg.data.label_column or not cfg.data.target else 'target'}"
        f"{', other event ids' if cfg.data.event_id else ''}): the split puts copies of training events among the "
        "validation and test events, where they measure the model's memory, not its performance (a file read "
        "twice? a sample joined to itself?); remove the copies, or give data.event_id so that copies share a split",
        NeymanWarning,
        stacklevel=3,
    )


def _repeated(keys: np.ndarray) -> np.ndarray:
    """The keys that occur more than once."""
    values, counts = np.unique(keys, return_counts=True)
    return values[counts > 1]


def _row_keys(x: np.ndarray, ids: np.ndarray | None) -> np.ndarray:
    """A 64-bit FNV-1a hash of each row's values at float32 precision (and id)."""
    values = np.ascontiguousarray(x, dtype=np.float32)
    columns = [values.view(np.uint32)[:, j].astype(np.uint64) for j in range(values.shape[1])]
    if ids is not None:
        columns.append(np.asarray(ids, dtype=np.int64).view(np.uint64))
    key = np.full(len(x), 0xCBF29CE484222325, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    for column in columns:
        key = (key ^ column) * prime
    return key


def _generated_class_names(data: DataConfig, n_classes: int) -> list[str]:
    """Class names recorded by ``neyman generate`` in the inputs' provenance (empty when not all agree).

    A generated file's ``<file>.provenance.json`` lists its classes with their label
    values (e.g. ``qcd`` = 0, ``top`` = 1, ``higgs`` = 2).
    """
    found: set[tuple[str, ...]] = set()
    for source in data.sources:
        path, _ = io.parse_source(source.path)
        try:
            names = {int(c["label"]): str(c["name"]) for c in read_provenance(path)["classes"]}
        except (ValueError, KeyError, TypeError):
            return []
        if sorted(names) != list(range(n_classes)):
            return []
        found.add(tuple(names[k] for k in range(n_classes)))
    return list(found.pop()) if len(found) == 1 else []


def _check_target(target: np.ndarray, data: DataConfig) -> None:
    """Refuse a regression target with one value; warn for one holding only 0 and 1 (almost always a label)."""
    column = str(data.target)
    values = np.unique(target[np.isfinite(target)])
    if len(values) == 1:
        files = ", ".join(io.parse_source(s.path)[0] for s in data.sources)
        raise DataError(
            f"the target column {column!r} holds the one value {values[0]:g} in every event of {files}: there is "
            "nothing to regress; choose the column to predict (--target, data.target)"
        )
    if len(values) == 2 and np.array_equal(values, [0.0, 1.0]):
        advice = (
            f"--label-column {data.label_column} is ignored by a regression task: train without --target "
            "(data.target) and --task to classify"
            if data.label_column
            else f"use --label-column {column} (data.label_column) instead of --target (data.target)"
        )
        warnings.warn(
            NeymanWarning(
                f"the target column {column!r} holds only the values 0 and 1: a classification was probably "
                f"meant; {advice}"
            ),
            stacklevel=3,
        )


def true_log_ratio(data: DataConfig) -> np.ndarray | None:
    """The ``true_log_lr`` column of synthetic inputs, aligned with :func:`load_events`; None elsewhere."""
    parts = []
    for plan in plan_sources(data, [], classification=True) if data.label_column else []:
        if TRUE_LOG_LR not in io.available_columns(plan.path, tree=plan.tree, format=data.format):
            return None
        cols = [TRUE_LOG_LR, *(c for sel in plan.selections for c in sorted(sel.columns))]
        table = io.read(
            plan.path,
            tree=plan.tree,
            columns=list(dict.fromkeys(cols)),
            entry_stop=plan.config.max_events,
            format=data.format,
        )
        mask = np.ones(len(table), dtype=bool)
        for sel in plan.selections:
            mask &= sel.mask(table)
        parts.append(np.asarray(table[TRUE_LOG_LR])[mask])
    return np.concatenate(parts) if parts else None


def check_evaluated_files(trained: TrainedRun, cfg: RunConfig, data: DataConfig, *, external: bool) -> None:
    """Refuse the files an evaluation would read when they cannot give a true answer.

    The run's own files (not ``external``) must be those it trained on; external
    ``--test-data`` files (the sources of ``data``) must not be a training file
    (:func:`refuse_training_files`), and their text labels must be the run's class
    names (the classes are the run's).
    """
    if not external:
        refuse_changed_inputs(
            trained.source_records,
            doing="cannot evaluate the run's own events",
            why="its input figures and permutation importance would describe other events than its predictions",
            fix="restore the file, or evaluate other events with --test-data",
        )
        return
    files = [src.path for src in data.sources]
    refuse_training_files(trained, cfg, {"--test-data ": files}, measured="its performance on new events")
    classes = trained.classes
    column = data.label_column
    if column is None or not classes:
        return
    for src in data.sources:
        path, tree = io.parse_source(src.path)
        if column not in io.available_columns(path, tree=tree):
            continue
        values = np.asarray(io.read(path, tree=tree, columns=[column])[column])
        if values.dtype.kind not in "USO":
            continue
        unknown = sorted({str(v) for v in np.unique(values.astype(str))} - set(classes))
        if unknown:
            signal = f" (class 1, {classes[1]!r}, is the signal)" if len(classes) == 2 else ""
            raise DataError(
                f"{src.path}: column {column!r} holds labels {', '.join(map(repr, unknown[:10]))} that the run does "
                f"not know; it was trained with the classes {classes}{signal}: give the test file's labels "
                f"those names, or their indices 0..{len(classes) - 1}"
            )


def refuse_changed_inputs(records: Sequence[Mapping[str, Any]], *, doing: str, why: str, fix: str) -> None:
    """Refuse to go on when a run's recorded input files (:func:`neyman.runs.source_records`) changed.

    Raises
    ------
    DataError
        ``"{doing}: the run's input changed since it started: FILE (what changed); {why}: {fix}"``.
    """
    changed = changed_sources(records)
    if changed:
        raise DataError(f"{doing}: the run's input changed since it started: {'; '.join(changed)}; {why}: {fix}")


def warn_outside_training(trained: TrainedRun, x: np.ndarray, files: Sequence[str]) -> None:
    """Warn when the features of other files (``files``; none: the run's own) lie mostly outside
    the training's ranges or in other units (:class:`neyman.runs.RangeCheck`)."""
    if files and trained.feature_ranges:
        ranges = RangeCheck(trained.feature_ranges, trained.features)
        ranges.update(x)
        message = ranges.warning(", ".join(files))
        if message:
            warnings.warn(message, NeymanWarning, stacklevel=4)


def refuse_training_files(
    trained: TrainedRun, cfg: RunConfig, given: Mapping[str, Sequence[str]], *, measured: str
) -> None:
    """Refuse a file, given to an option of ``given`` (option: files), that the run trained on.

    An external test file of the run (``test: true``) is no training file.  ``measured`` says
    what the events would have measured (for the message).

    Raises
    ------
    ConfigError
        The file (by path, or by name and size: :meth:`TrainedRun.training_sources`) is
        one of the run's training sources.
    """
    for option, files in given.items():
        for f in files:
            if any(not cfg.data.sources[i].test for i in trained.training_sources(f) if i < len(cfg.data.sources)):
                raise ConfigError(
                    f"{option}{f} is a file the run trained on: its events would measure the model's memory, not "
                    f"{measured}; give independent events (another generation, another seed)"
                )


def data_with_sources(data: DataConfig, files: Sequence[str], *, option: str = "--test-data") -> DataConfig:
    """A run's data section with its sources' files replaced by ``files`` (one per source, in order).

    ``option`` names where the files were given, for the error.

    Raises
    ------
    ConfigError
        ``files`` does not hold one file per training source.
    """
    if len(files) != len(data.sources):
        raise ConfigError(
            f"the run was trained on {len(data.sources)} source(s); give as many {option} files, in the same "
            f"order (each replaces the corresponding training file), not {len(files)}"
        )
    for given in files:
        path = Path(io.parse_source(given)[0])
        if path.is_dir():
            raise DataError(f"{option} {given}: {path} is a folder; give a data file")
        if not os.path.exists(path):
            raise DataError(f"{option} {given}: {path}{missing_file(path)}")
    sources = [s.model_copy(update={"path": p}) for s, p in zip(data.sources, files, strict=True)]
    # a bootstrap replica is of the training samples: the files a run is evaluated on keep their weights
    return data.model_copy(update={"sources": sources, "streaming": False, "bootstrap": None})


def source_column(value: float | Sequence[float], entries: np.ndarray) -> np.ndarray:
    """A column a source gives its events (``data.sources[i].columns``) at these entry numbers.

    A number is given to every event; a list is dealt out in turn, entry ``i``
    getting ``value[i mod n]``, so each value goes to an equal share of the events.
    """
    if isinstance(value, (int, float)):
        return np.full(len(entries), float(value))
    values = np.asarray(value, dtype=np.float64)
    if values.size == 0:
        raise ConfigError("a source column's list of values is empty")
    return np.asarray(values[np.asarray(entries, dtype=np.int64) % values.size])


def run_events(
    data: DataConfig,
    task: str,
    spec: RepresentationSpec | None,
    *,
    carry: Sequence[str] = (),
    features: Sequence[str] | None = None,
) -> Table:
    """The events of ``data`` as a run reads them: its features, or for particle-set and
    image runs the constituent columns the run builds its inputs from (and ``carry``).

    ``features`` are the run's own (a trained run's); without, they are resolved from
    ``data`` as the training did (:func:`resolve_features`)."""
    if spec is not None:
        return load_events(data, task=task, features=[], carry=[*spec.columns, *carry]).table
    return load_events(data, task=task, features=None if features is None else list(features), carry=list(carry)).table


def events_in_order(table: Table | None, read: Callable[[], Table] | None, event_ids: np.ndarray) -> Table:
    """The scored events, row ``i`` being the event ``event_ids[i]``: ``table`` when given (already in
    that order), else the events ``read`` returns, reordered by their event ids."""
    if table is not None:
        return table
    assert read is not None
    events = read()
    ids = np.asarray(events[EVENT_ID])
    order = np.argsort(ids, kind="stable")
    position = np.searchsorted(ids[order], event_ids)
    found = position < len(ids)
    found[found] = ids[order][position[found]] == event_ids[found]
    if not found.all():
        raise DataError(
            f"event id {event_ids[~found][0]} of the run's predictions is not among its input events: "
            "were the input files changed after training?"
        )
    return events.take(order[position])
