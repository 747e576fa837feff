"""Steps of ``neyman reweight``: the input checks, every variable's closure histograms and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.exceptions import DataError
from neyman.runs import RunDirectory
from neyman.table import EVENT_ID, LABEL, WEIGHT

__all__ = [
    "checked_weights",
    "column_matrix",
    "compare_columns",
    "default_features",
    "file_columns",
    "one_number_per_event",
    "write_closure_report",
]


def file_columns(path: str, tree: str | None, role: str) -> list[str]:
    """The columns of a file, refused by ``role`` (e.g. "source") when it does not exist."""
    if not Path(path).is_file():
        raise DataError(f"{role} file {path} does not exist")
    return io.available_columns(path, tree=tree)


def one_number_per_event(values: Any) -> bool:
    """Whether a column is one number per event (not jagged constituents, not text)."""
    return isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "biuf"


def default_features(where: tuple[str, str | None], columns: list[str], skip: set[str | None]) -> list[str]:
    """Every one-number-per-event column of a file but the event weight, label, number and ``skip``."""
    head = io.read(where[0], tree=where[1], entry_stop=5)
    skip = skip | {EVENT_ID, LABEL, WEIGHT}
    features = [c for c in columns if c not in skip and one_number_per_event(head[c])]
    if not features:
        raise DataError(f"{where[0]} has no one-number-per-event column to reweight in; give --features")
    return features


def checked_weights(path: str, tree: str | None, column: str, role: str) -> np.ndarray:
    """The event weights of one file, refused when they cannot weigh anything."""
    w = np.asarray(io.read(path, tree=tree, columns=[column])[column], dtype=np.float64)
    if not np.all(np.isfinite(w)):
        bad = int(np.flatnonzero(~np.isfinite(w))[0])
        raise DataError(f"{role} {path}: weight column {column!r} holds {w[bad]} at entry {bad}; fix the weights")
    if not np.sum(w) > 0:
        what = "is all zero" if not np.any(w) else f"sums to {np.sum(w):.4g}"
        raise DataError(f"{role} {path}: weight column {column!r} {what}; the sample needs a positive total weight")
    return w


def column_matrix(where: tuple[str, str | None], columns: list[str]) -> np.ndarray:
    """The ``columns`` of a file (``(path, tree)``) as a float64 matrix, one row per event."""
    return io.read(where[0], tree=where[1], columns=columns).to_numpy(columns, dtype=np.float64)


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
