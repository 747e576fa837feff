"""Steps of ``neyman reweight``: the input checks, every variable's closure histograms and the report."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.exceptions import DataError, NeymanWarning, missing_file
from neyman.runs import RunDirectory
from neyman.table import EVENT_ID, LABEL, WEIGHT, Table

__all__ = [
    "UNCOVERED_ERROR",
    "UNCOVERED_WARNING",
    "check_closure",
    "check_coverage",
    "checked_weights",
    "column_matrix",
    "compare_columns",
    "default_features",
    "file_columns",
    "one_number_per_event",
    "weights_table",
    "write_closure_report",
]


UNCOVERED_WARNING = 0.01
"""Share of the target's events outside the source's range in one feature that is warned about."""

UNCOVERED_ERROR = 0.5
"""Share of the target's events outside the source's range in one feature that is refused."""


def file_columns(path: str, tree: str | None, role: str) -> list[str]:
    """The columns of a file, refused by ``role`` (e.g. "source") when it does not exist."""
    if Path(path).is_dir():
        raise DataError(f"{role} file {path} is a directory, not a file; give the path of a file")
    if not os.path.exists(path):
        raise DataError(f"{role} file {path}{missing_file(path)}")
    return io.available_columns(path, tree=tree)


def check_coverage(source: tuple[str, str | None], target: tuple[str, str | None], features: list[str]) -> None:
    """Refuse a target that lies mostly outside the source's range in a feature; warn when a share of it does.

    Notes
    -----
    The weights :math:`w(x) = p_T(x)/p_S(x)` only move the source's events: where
    :math:`p_S = 0` and :math:`p_T > 0` no weight reaches the target, and the reweighted
    source lacks the share :math:`\\int_{p_S = 0} p_T` of it. That share is estimated per
    feature as the target's events outside the source's [min, max]; above
    :data:`UNCOVERED_ERROR` the weights cannot mean anything, above :data:`UNCOVERED_WARNING`
    the closure misses that much.
    """
    xs, xt = column_matrix(source, features), column_matrix(target, features)
    worst: list[tuple[float, str, float, float]] = []
    for j, name in enumerate(features):
        s, t = xs[:, j][np.isfinite(xs[:, j])], xt[:, j][np.isfinite(xt[:, j])]
        if len(s) and len(t):
            share = float(np.mean((t < s.min()) | (t > s.max())))
            worst.append((share, name, float(s.min()), float(s.max())))
    if not worst:
        return
    share, name, lo, hi = max(worst)
    where = (
        f"{share:.1%} of the target's events ({target[0]}) lie outside the source's range of {name!r}, [{lo:g}, {hi:g}]"
    )
    if share >= UNCOVERED_ERROR:
        raise DataError(
            f"{where}: weights only move the source's events, and the source has none there. Reweighting needs a "
            f"source that covers its target; check that the files hold the same kind of events in the same units, "
            f"or leave {name!r} out of --features"
        )
    if share >= UNCOVERED_WARNING:
        warnings.warn(
            f"{where}: no weight reaches them, so the reweighted source will lack them and the closure will miss "
            "by about that share",
            NeymanWarning,
            stacklevel=3,
        )


def check_closure(summary: Mapping[str, Any]) -> None:
    """Warn when the weights leave most of the separation of source and target in place.

    ``summary`` is ``reweighting.json``'s record: its two-sample AUCs, effective sample
    fraction and clipping (:func:`warn_collapsed`).

    Notes
    -----
    With the two-sample AUCs :math:`A` before and after, the weights closed the share
    :math:`1 - (A_\\text{after} - 1/2)/(A_\\text{before} - 1/2)` of the separation;
    below a quarter (and :math:`A_\\text{after} \\geq 0.55`) the weights are not usable.
    """
    warn_collapsed(summary["effective_sample_fraction"], summary["clipping"]["weight_fraction"])
    auc_before, auc_after = summary["two_sample_auc_before"], summary["two_sample_auc_after"]
    if auc_before is None or auc_after is None or not np.isfinite([auc_before, auc_after]).all():
        return
    if auc_after < 0.55:
        return
    if auc_after - 0.5 > 0.75 * (auc_before - 0.5):
        warnings.warn(
            f"the weights do not close: the two-sample AUC of the reweighted source against the target is "
            f"{auc_after:.4f} (before {auc_before:.4f}; 0.5 = closure). The source may not cover the target, or the "
            "classifier did not learn the ratio; see the report's per-feature histograms",
            NeymanWarning,
            stacklevel=3,
        )


COLLAPSED_ESS = 0.05
"""Warn below this effective sample fraction (Σw)²/(NΣw²) of the source."""

COLLAPSED_CLIP = 0.05
"""Warn when the clipped events held more than this share of the weight."""


def warn_collapsed(ess_fraction: float, clipped_fraction: float) -> None:
    """Warn when a few events carry the weights, or the clip took much of them away.

    Notes
    -----
    The effective sample fraction :math:`(\\sum_i w_i)^2 / (N \\sum_i w_i^2)` is 1 for equal
    weights and :math:`k/N` when :math:`k` events share the weight; below
    :data:`COLLAPSED_ESS` the reweighted source stands for a few per cent of its events
    (the source hardly covers the target).  Clipping lowers the largest weights to a
    quantile: when the lowered events held more than :data:`COLLAPSED_CLIP` of the
    weight, the reweighted source no longer has the target's expectation where they lie.
    """
    problems = []
    if ess_fraction < COLLAPSED_ESS:
        problems.append(
            f"the effective sample is {ess_fraction:.1%} of the source's events (a few events carry the weights)"
        )
    if clipped_fraction > COLLAPSED_CLIP:
        problems.append(
            f"the clipped events held {clipped_fraction:.1%} of the weight before the clip (the reweighted source "
            "misses the target's expectation where they lie)"
        )
    if problems:
        warnings.warn(
            "; ".join(problems) + ": the source hardly covers the target there; see the report's weight distribution "
            "and per-feature histograms, and reweight a source that covers the target",
            NeymanWarning,
            stacklevel=3,
        )


def one_number_per_event(values: Any) -> bool:
    """Whether a column is one number per event (not jagged constituents, not text)."""
    return isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "biuf"


def default_features(where: tuple[str, str | None], columns: list[str], skip: set[str | None]) -> list[str]:
    """Every one-number-per-event column of a file but the event weight, label, number and ``skip``."""
    head = io.read(where[0], tree=where[1], entry_stop=5)
    skip = skip | {EVENT_ID, LABEL, WEIGHT}
    features = [c for c in columns if c not in skip and one_number_per_event(head[c])]
    text = [c for c in columns if c not in skip and isinstance(head[c], np.ndarray) and head[c].dtype.kind in "OSUa"]
    if text and features:
        warnings.warn(
            NeymanWarning(
                f"{where[0]}: left out of the automatic features, holding text rather than numbers: "
                f"{', '.join(repr(c) for c in text)} (e.g. {head[text[0]][0]!r}); fix the column or name the "
                "features with --features"
            ),
            stacklevel=3,
        )
    if not features:
        raise DataError(f"{where[0]} has no one-number-per-event column to reweight in; give --features")
    return features


MIN_EVENTS_PER_FOLD = 10
"""Fewest events of a file per fold (each fold's training and validation splits need events of it)."""


def check_fold_events(where: tuple[str, str | None], kfold: int, name: str, what: str) -> None:
    """Refuse a file (``where``: path and tree) with fewer than :data:`MIN_EVENTS_PER_FOLD` events per fold."""
    n, need = io.num_entries(where[0], tree=where[1]), MIN_EVENTS_PER_FOLD * max(kfold, 2)
    if n < need:
        raise DataError(
            f"{name} holds {n} events; {kfold}-fold {what} needs at least {need} ({MIN_EVENTS_PER_FOLD} per fold: "
            "each fold's training and validation need them); give at least a few thousand events"
        )


def check_numeric(where: tuple[str, str | None], named: dict[str, list[str]], role: str) -> None:
    """Refuse a column of a role (``{"a --check variable": [...]}``) that is not one finite number per event.

    The whole file is read (chunk by chunk) for missing and infinite values: the
    reweighting weighs every event, and its closure histograms each variable as the
    file holds it, so no replacement value (``data.fill_value``) can stand in for them.
    """
    head = io.read(where[0], tree=where[1], entry_stop=5)
    for option, names in named.items():
        for name in names:
            if name in head.column_names and not one_number_per_event(head[name]):
                values = head[name]
                kind = values.dtype.name if isinstance(values, np.ndarray) else "per-particle"
                example = f" such as {values[0]!r}" if len(values) else ""
                raise DataError(
                    f"{role} {where[0]}: column {name!r} ({option}) holds {kind} values{example}, not one "
                    "number per event; give numeric columns"
                )
    columns = list(dict.fromkeys(n for names in named.values() for n in names if n in head.column_names))
    start = 0
    for chunk in io.iterate(where[0], tree=where[1], columns=columns):
        x = chunk.to_numpy(columns, dtype=np.float64)
        bad = ~np.isfinite(x)
        if bad.any():
            row, col = (int(i[0]) for i in np.nonzero(bad))
            option = next(o for o, names in named.items() if columns[col] in names)
            raise DataError(
                f"{role} {where[0]}: column {columns[col]!r} ({option}) holds {x[row, col]} in row "
                f"{start + row + 1} (counted from 1) and {int(bad[:, col].sum()) - 1} more missing or infinite "
                "value(s) in that stretch; the weights and their closure need every event's value: remove those "
                "events from the file, or leave the column out"
            )
        start += len(chunk)


OWNED_KEYS = {
    "data.sources": "--source, --target or --positive",
    "data.classes": "the samples",
    "data.features": "--features",
    "data.weight": "--weight",
    "data.target": "--positive with --weight",
    "task.type": "the reweighting: a classifier, or a regression of the weight with --positive",
    "task.balance_classes": "the ratio",
    "model.type": "--model",
    "split": "--kfold",
    "seed": "--seed",
    "name": "--name",
    "output_dir": "--output-dir",
}
"""The configuration keys ``neyman reweight`` sets from its options: ``--set`` may not replace them."""

MAX_WEIGHT = 1e100
"""The largest event-weight magnitude taken: the effective sample size squares the weights' sum."""


def checked_weights(path: str, tree: str | None, column: str, role: str) -> np.ndarray:
    """The event weights of one file, refused when they cannot weigh anything."""
    raw = np.asarray(io.read(path, tree=tree, columns=[column])[column])
    if not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
        raise DataError(
            f"{role} {path}: weight column {column!r} holds {raw.dtype.name} values such as {raw[0]!r}, not numbers; "
            "name the numeric event-weight column with --weight"
        )
    w = raw.astype(np.float64)
    if not np.all(np.isfinite(w)):
        bad = int(np.flatnonzero(~np.isfinite(w))[0])
        raise DataError(f"{role} {path}: weight column {column!r} holds {w[bad]} at entry {bad}; fix the weights")
    if np.max(np.abs(w), initial=0.0) > MAX_WEIGHT:
        big = int(np.argmax(np.abs(w)))
        raise DataError(
            f"{role} {path}: weight column {column!r} holds {w[big]:.4g} at entry {big}, beyond ±{MAX_WEIGHT:.0e}: "
            "sums of squares of such weights overflow; rescale the weights (only their ratios matter here)"
        )
    if not np.sum(w) > 0:
        what = "is all zero" if not np.any(w) else f"sums to {np.sum(w):.4g}"
        raise DataError(f"{role} {path}: weight column {column!r} {what}; the sample needs a positive total weight")
    return w


def column_matrix(where: tuple[str, str | None], columns: list[str]) -> np.ndarray:
    """The ``columns`` of a file (``(path, tree)``) as a float64 matrix, one row per event."""
    return io.read(where[0], tree=where[1], columns=columns).to_numpy(columns, dtype=np.float64)


def weights_table(source: tuple[str, str | None], entries: np.ndarray, weights: np.ndarray) -> Table:
    """``weights.parquet``: each source event's ``entry`` (its row in the file) and ``weight``.

    A source file with its own ``event_id`` column has it copied too, so that the weights
    can be joined on it.  The reweighting numbers the events by entry (the source is its
    training's first input, whose event numbers are the entries); written as ``event_id``,
    a join of entry numbers on the file's ids would give other events' weights without
    a word.
    """
    path, tree = source
    columns: dict[str, np.ndarray] = {"entry": entries}
    if EVENT_ID in io.available_columns(path, tree=tree):
        columns[EVENT_ID] = np.asarray(io.read(path, tree=tree, columns=[EVENT_ID])[EVENT_ID])[entries]
    return Table({**columns, "weight": weights})


def compare_columns(
    columns: list[str], samples: list[tuple[str, np.ndarray, np.ndarray | None]], before: tuple[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every variable's histograms and χ²/ndf before and after, keyed by column.

    ``samples`` are ``(name, matrix, weights)`` with one matrix column per name in
    ``columns``; ``before`` names the pair compared before, and the second-to-last
    sample against the last (the reference) is the comparison after.

    Notes
    -----
    χ² is :meth:`neyman.metrics.HistogramComparison.chi2` on the edges of
    :func:`neyman.metrics.comparison_edges` of the first and the last sample.
    """
    from neyman.metrics import compare_histograms, comparison_edges

    after = (samples[-2][0], samples[-1][0])
    comparisons, chi2 = {}, {}
    for j, name in enumerate(columns):
        edges = comparison_edges(samples[0][1][:, j], samples[-1][1][:, j])
        cmp = compare_histograms([(n, x[:, j], w) for n, x, w in samples], edges)
        comparisons[name] = cmp
        b, a = cmp.chi2(*before), cmp.chi2(*after)
        chi2[name] = {"before": b[0] / b[1], "after": a[0] / a[1], "ndf": a[1]}
    return comparisons, chi2


def write_closure_report(
    run: RunDirectory,
    rows: list[list[Any]],
    numbers: dict[str, Any],
    comparisons: dict[str, Any],
    weights: np.ndarray,
    text: tuple[str, str],
) -> Path:
    """``reweighting.html``: the weights with ``rows`` of numbers, and every variable's closure.

    ``text`` is the prose of the two sections; ``numbers`` holds ``chi2_per_ndf``,
    ``check`` and the weight map's record under ``weights``.
    """
    from neyman.plotting import plot_closure, plot_weights
    from neyman.report import Section, write_report

    chi2 = [
        [n, c["before"], c["after"], c["ndf"], "check" if n in numbers["check"] else "feature"]
        for n, c in numbers["chi2_per_ndf"].items()
    ]
    cap = numbers["weights"].get("max_weight")
    sections = [
        Section(
            title="Weights",
            figures=[plot_weights(weights, max_weight=cap)],
            tables=[("The reweighting in numbers", ["quantity", "value"], rows)],
            text=text[0],
        ),
        Section(
            title="Closure",
            figures=[plot_closure(comparisons[n], n) for n in numbers["chi2_per_ndf"]],
            tables=[("χ²/ndf against the reference", ["variable", "before", "after", "ndf", "role"], chi2)],
            text=text[1] + " Variables marked 'check' were not used by the model: their closure is the real test.",
        ),
    ]
    return write_report(run.path / "reweighting.html", sections, title=f"neyman reweighting {run.path.name}")
