"""The range of each feature a model trained on, and new events judged against it.

A model scores events outside its training range by extrapolation, and nothing in
the scores says so: a file in MeV given to a model trained in GeV is scored without
a complaint.  A training records the smallest value, the median and the largest
value of every tabular feature (:func:`feature_ranges`, ``model/metadata.json``);
``neyman predict`` counts the events outside that range (:class:`RangeCheck`) and
names the features where many lie outside (a sample like the training's puts about
``2/n`` there) or whose median moved by a factor of a hundred.  A file of fewer
than 20 events is not judged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from neyman.exceptions import DataError
from neyman.preprocessing import check_finite
from neyman.table import Table

__all__ = [
    "MARGIN",
    "OUTSIDE_SHARE",
    "QUANTILES",
    "UNIT_RATIO",
    "RangeCheck",
    "feature_matrix",
    "feature_ranges",
    "outside_counts",
]

QUANTILES = (0.0, 0.5, 1.0)
"""The quantiles of each training feature recorded: the range's ends and the median."""

OUTSIDE_SHARE = 0.05
"""A feature is named when more than this share of the new events lies outside its training range."""

MARGIN = 0.01
"""The training range is widened by this share of its width on each side (a parameter's end value is inside)."""

UNIT_RATIO = 100.0
"""A feature is named when its median differs from the training's by this factor or more (same sign)."""

_MIN_EVENTS = 20
"""Fewer new events are not judged: one event outside the range would be a share of 5% or more."""
_MEDIAN_SAMPLE = 20_000


def feature_ranges(x: np.ndarray, names: Sequence[str], *, max_events: int = 500_000) -> dict[str, list[float]]:
    """The :data:`QUANTILES` of each column of ``x`` (at most ``max_events`` events, evenly spaced).

    Parameters
    ----------
    x
        The training events' features, ``(n_events, n_features)``; non-finite values are ignored.
    names
        The features' names.

    Returns
    -------
    dict
        ``{name: [smallest, median, largest]}``; features without a finite value are left out.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        return {}
    take = np.unique(np.linspace(0, len(x) - 1, min(len(x), max_events)).astype(np.int64))
    out: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        column = x[take, j]
        column = column[np.isfinite(column)]
        if column.size:
            out[str(name)] = [float(v) for v in np.quantile(column, QUANTILES)]
    return out


def outside_counts(ranges: Mapping[str, Sequence[float]], features: Sequence[str], x: np.ndarray) -> np.ndarray:
    """Per feature, the rows of ``x`` beyond its training range widened by :data:`MARGIN` (0 without a range).

    ``ranges`` are ``{name: [smallest, median, largest]}`` (:func:`feature_ranges`), ``x`` is
    ``(n_events, len(features))``.
    """
    counts = np.zeros(len(features), dtype=np.int64)
    for j, name in enumerate(features):
        if name in ranges:
            low, _, high = ranges[name]
            low, high = low - MARGIN * (high - low), high + MARGIN * (high - low)
            counts[j] = np.count_nonzero((x[:, j] < low) | (x[:, j] > high))
    return counts


@dataclass
class RangeCheck:
    """Counts, chunk by chunk, the events whose features lie outside the training range.

    Parameters
    ----------
    ranges
        ``{name: [smallest, median, largest]}`` of the training (:func:`feature_ranges`).
    features
        The columns of the matrices given to :meth:`update`, in order.

    Notes
    -----
    An event is outside when :math:`x < \\min x_0 - m w` or :math:`x > \\max x_0 + m w`,
    with :math:`w = \\max x_0 - \\min x_0` over the training events and :math:`m` =
    :data:`MARGIN`; for :math:`n` events drawn like them the expected share is below
    :math:`2/(n + 1)`.  Over at least 20 events a feature is named when its share
    exceeds :data:`OUTSIDE_SHARE`, or when the new median :math:`\\tilde x` (of the
    first 20,000 events) and the training's :math:`\\tilde x_0` have the same sign and
    :math:`\\tilde x / \\tilde x_0` lies beyond :data:`UNIT_RATIO` either way: then the
    message asks whether the unit differs.
    """

    ranges: Mapping[str, Sequence[float]]
    features: Sequence[str]
    n_events: int = 0
    outside: np.ndarray = field(init=False)
    _sample: list[np.ndarray] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.outside = np.zeros(len(self.features), dtype=np.int64)

    def update(self, x: np.ndarray) -> None:
        """Count the events of one chunk ``(n_events, n_features)`` outside the ranges."""
        x = np.asarray(x, dtype=np.float64)
        self.outside += outside_counts(self.ranges, self.features, x)
        kept = sum(len(s) for s in self._sample)
        if kept < _MEDIAN_SAMPLE:
            self._sample.append(x[: _MEDIAN_SAMPLE - kept])
        self.n_events += len(x)

    def warning(self, source: str) -> str | None:
        """The message naming the features mostly outside their range, or ``None`` when there are none."""
        if self.n_events < _MIN_EVENTS:
            return None
        share = self.outside / self.n_events
        sample = np.concatenate(self._sample)
        parts = []
        for j in np.argsort(-share, kind="stable"):
            name = self.features[j]
            if name not in self.ranges:
                continue
            low, median0, high = self.ranges[name]
            median = float(np.nanmedian(sample[:, j]))
            unit = median * median0 > 0 and not 1 / UNIT_RATIO < median / median0 < UNIT_RATIO
            said = []
            if share[j] > OUTSIDE_SHARE:
                said.append(f"{share[j]:.0%} outside [{low:.4g}, {high:.4g}]")
            if unit:
                said.append(f"median {median:.4g} against {median0:.4g} in training (another unit?)")
            if said:
                parts.append(f"{name!r}: {', '.join(said)}")
        if not parts:
            return None
        more = f"; and {len(parts) - 5} more" if len(parts) > 5 else ""
        return (
            f"{source}: features unlike those the model trained on ({self.n_events} events): "
            f"{'; '.join(parts[:5])}{more}. The model extrapolates there, and its scores are not those it was "
            "validated on: check the units, the selection and the sample"
        )


def feature_matrix(
    table: Table,
    features: Sequence[str],
    *,
    fill_value: float | None,
    ranges: Mapping[str, Sequence[float]],
    model: str,
) -> np.ndarray:
    """The raw feature matrix ``(n_events, n_features)`` of ``table`` for a trained model.

    Parameters
    ----------
    table
        The events.
    features
        The model's features, in its order.
    fill_value
        The training's replacement of NaN and infinities (None: they are refused).
    ranges
        The training's ranges (:func:`feature_ranges`; may be empty).
    model
        The model, as messages name it.

    Raises
    ------
    DataError
        A feature column is missing; or holds true/false values where the training saw
        numbers outside [0, 1] (a column that changed type: its 0 and 1 lie inside the
        training range and would be scored unremarked); or non-finite values the
        training did not replace.
    """
    missing = [f for f in features if f not in table]
    if missing:
        raise DataError(f"{table.source or 'the input'} lacks the feature column(s) {missing} that {model} needs")
    for name in features:
        low, _, high = ranges.get(name, (0.0, 0.0, 1.0))
        column = table[name]
        if isinstance(column, np.ndarray) and column.dtype == np.bool_ and (low < 0 or high > 1):
            raise DataError(
                f"column {name!r} of {table.source or 'the input'} holds true/false values, but {model} was "
                f"trained on numbers from {low:.4g} to {high:.4g} in it: the column is of another kind than the "
                "training's; give it its numbers"
            )
    x = table.to_numpy(list(features), dtype=np.float64)
    return check_finite(x, list(features), fill_value=fill_value, source=table.source, trained=True)
