"""The in-memory exchange type of neyman: named columns of equal length.

A :class:`Table` holds flat columns as one-dimensional NumPy arrays and, for
constituents, jagged columns as Awkward arrays.  Labels, weights, event ids, folds
and splits are ordinary columns with the reserved names below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError, close_matches

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EVENT_ID",
    "FOLD",
    "LABEL",
    "RESERVED",
    "SOURCE_ID_STRIDE",
    "SPLIT",
    "TARGET",
    "TRUE_LOG_LR",
    "WEIGHT",
    "Table",
    "entry_event_ids",
    "is_output_column",
    "is_truth_column",
    "number_hint",
]

LABEL = "label"
"""Integer class index (0 = background for binary tasks)."""
WEIGHT = "weight"
"""Per-event weight, may be negative."""
EVENT_ID = "event_id"
"""Integer event number; drives parity splits and k-fold assignment."""
FOLD = "fold"
"""k-fold index of the model that did not see the event."""
SPLIT = "split"
"""0 = train, 1 = validation, 2 = test."""
TARGET = "target"
"""Regression target."""
RESERVED = (LABEL, WEIGHT, EVENT_ID, FOLD, SPLIT, TARGET)
TRUE_LOG_LR = "true_log_lr"
"""The known log-likelihood ratio of synthetic events (evaluation checks a classifier against it)."""
SOURCE_ID_STRIDE = 10**12
"""Without an event-id column, events are numbered ``source * stride + entry`` (:func:`entry_event_ids`)."""

# the columns neyman writes next to the events: the scores `neyman predict` adds (``score``, ``score_<class>``,
# ``score_std``, ``logit_std``, ``prediction``, ``sigma``, ``sigma_model``, ``anomaly_score``, a hunt's
# ``anomaly_score_<lo>_<hi>``, ``log_density``, their ``_std``) and the split and fold of ``predictions.parquet``
_OUTPUT_COLUMN = re.compile(
    r"score(?:_.+)?|logit_std|prediction(?:_std)?|sigma|sigma_model|anomaly_score(?:_.+)?|log_density(?:_std)?"
    r"|" + FOLD + "|" + SPLIT
)


def is_output_column(name: str) -> bool:
    """Whether ``name`` is a column neyman writes next to the events (a score, not a measurement).

    These are the score columns ``neyman predict`` adds to a file (of every task, a hunt's
    windows included), their uncertainties, and the ``split`` and ``fold`` of a run's
    ``predictions.parquet``.  The ``weight`` of a reweighting run's predictions is the
    reserved :data:`WEIGHT`.  A file scored earlier and used to train again would give
    the new model the old one's output as a feature.

    Parameters
    ----------
    name
        A column name.

    Examples
    --------
    >>> is_output_column("score"), is_output_column("score_top"), is_output_column("anomaly_score_3000_3500")
    (True, True, True)
    >>> is_output_column("jet_pt"), is_output_column("sigma_ietaieta")
    (False, False)
    """
    return _OUTPUT_COLUMN.fullmatch(name) is not None


# generator truth by its name: truth_pt, truthE (the top-tagging data set's), pt_truth, true_mass, mc_truth_id,
# parton_id, Jet_hadronFlavour, ...
_TRUTH_COLUMN = re.compile(
    r"(?i)(mc_?)?(truth|true)(_.+|(?-i:[A-Z]).*)|.+_(truth|true)|.*(parton|hadron)_?flavou?r|parton_?(id|pdg(_?id)?)"
)


def is_truth_column(name: str) -> bool:
    """Whether ``name`` reads as generator truth (a quantity no detector measures).

    Truth-level columns (``truth_pt``, ``truthE``, ``pt_truth``, ``true_mass``), the flavour of the
    parton or hadron a jet was matched to (``parton_id``, ``Jet_hadronFlavour``) tell a
    classifier the answer: they are never chosen as features automatically (listing them
    with ``--features`` still works, e.g. to study the truth itself).

    Parameters
    ----------
    name
        A column name.

    Examples
    --------
    >>> is_truth_column("truth_pt"), is_truth_column("truthE"), is_truth_column("parton_id")
    (True, True, True)
    >>> is_truth_column("jet_pt"), is_truth_column("n_constituents"), is_truth_column("truthiness")
    (False, False, False)
    """
    return _TRUTH_COLUMN.fullmatch(name) is not None


_COMMA_NUMBER = re.compile(r"\s*[+-]?\d*,\d+(?:,\d+)*(?:[eE][+-]?\d+)?\s*")


def number_hint(value: object) -> str:
    """Why a text cell meant as a number is not one, for a message (``""`` when no reason is known).

    A cell such as ``0,25`` or ``1,500`` is a number written with a decimal comma or a
    thousands separator, which neither Python nor the readers take as a number.

    Parameters
    ----------
    value
        The cell, as read from the file.

    Examples
    --------
    >>> "decimal comma" in number_hint("0,25")
    True
    >>> number_hint("high")
    ''
    """
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if not isinstance(text, str) or not _COMMA_NUMBER.fullmatch(text):
        return ""
    return (
        f"; {text!r} looks like a number written with a comma (a decimal comma or a thousands separator): "
        "write numbers with a decimal point and no separators (0.25, 1500)"
    )


def entry_event_ids(source_index: int, entries: npt.ArrayLike) -> np.ndarray:
    """Event numbers of entries of an input that has no event-id column.

    Parameters
    ----------
    source_index
        Position of the input among the run's ``data.sources``.
    entries
        Entry numbers in the file (before any selection).

    Notes
    -----
    ``id = source_index * 10^12 + entry``: stable under selections and chunking, so
    a k-fold run finds the fold of each event of one of its training files again
    when it scores that file (``fold = id mod k``) and no event is scored by a model
    that trained on it.
    """
    return int(source_index) * SOURCE_ID_STRIDE + np.asarray(entries, dtype=np.int64)


def _length(values: Any) -> int:
    return len(values)


class Table:
    """Named columns of equal length.

    Parameters
    ----------
    columns
        Mapping of column name to a one-dimensional array (NumPy) or a jagged
        Awkward array, all of the same length.

    Examples
    --------
    >>> import numpy as np
    >>> t = Table({"pt": np.array([30.0, 45.0]), "eta": np.array([0.1, -1.2])})
    >>> len(t), t.column_names
    (2, ['pt', 'eta'])
    """

    __slots__ = ("_columns", "_length", "source")

    def __init__(self, columns: Mapping[str, Any], *, source: str = "") -> None:
        self._columns: dict[str, Any] = {}
        self._length = -1
        self.source = source
        for name, values in columns.items():
            self._set(name, values)
        if self._length < 0:
            self._length = 0

    def _set(self, name: str, values: Any) -> None:
        if not isinstance(values, np.ndarray) and not _is_awkward(values):
            values = np.asarray(values)
        if isinstance(values, np.ndarray) and values.ndim == 0:
            raise DataError(f"column {name!r}{self._where()} is a scalar, not a column")
        n = _length(values)
        if self._length >= 0 and n != self._length:
            raise DataError(
                f"column {name!r}{self._where()} has {n} entries but the other columns have "
                f"{self._length}; all columns of a table must have the same length"
            )
        self._length = n
        self._columns[name] = values

    def _where(self) -> str:
        return f" in {self.source}" if self.source else ""

    # -- basic protocol -------------------------------------------------------------
    def __len__(self) -> int:
        return self._length

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __getitem__(self, name: str) -> Any:
        try:
            return self._columns[name]
        except KeyError:
            raise DataError(
                f"no column {name!r}{self._where()}{close_matches(name, self._columns)}; "
                f"available: {', '.join(self._columns) or '(none)'}"
            ) from None

    def __repr__(self) -> str:
        cols = ", ".join(self._columns)
        return f"Table({self._length} rows: {cols})"

    @property
    def column_names(self) -> list[str]:
        """The column names in order."""
        return list(self._columns)

    @property
    def columns(self) -> Mapping[str, Any]:
        """Read-only view of the columns."""
        return dict(self._columns)

    def get(self, name: str, default: Any = None) -> Any:
        """Return column ``name`` or ``default`` when absent."""
        return self._columns.get(name, default)

    # -- construction of new tables -------------------------------------------------
    def with_columns(self, **columns: Any) -> Table:
        """Return a new table with columns added or replaced."""
        out = Table(self._columns, source=self.source)
        for name, values in columns.items():
            out._set(name, values)
        return out

    def with_column(self, name: str, values: Any) -> Table:
        """Return a new table with column ``name`` added or replaced."""
        return self.with_columns(**{name: values})

    def drop(self, names: Iterable[str]) -> Table:
        """Return a new table without the named columns (absent names are ignored)."""
        skip = set(names)
        return Table({k: v for k, v in self._columns.items() if k not in skip}, source=self.source)

    def select(self, names: Sequence[str]) -> Table:
        """Return a new table holding only ``names``, in that order."""
        return Table({n: self[n] for n in names}, source=self.source)

    def take(self, index: npt.ArrayLike) -> Table:
        """Return the rows picked by an integer index array or a boolean mask."""
        idx = np.asarray(index)
        if idx.dtype == bool and len(idx) != self._length:
            raise DataError(f"mask of length {len(idx)} for a table of {self._length} rows")
        out = Table({name: values[idx] for name, values in self._columns.items()}, source=self.source)
        if not self._columns:
            out._length = int(idx.sum()) if idx.dtype == bool else len(idx)
        return out

    def head(self, n: int) -> Table:
        """Return the first ``n`` rows."""
        return self.take(np.arange(min(n, self._length)))

    @staticmethod
    def concat(tables: Sequence[Table]) -> Table:
        """Concatenate tables with the same columns, row-wise."""
        if not tables:
            return Table({})
        names = tables[0].column_names
        for t in tables[1:]:
            if set(t.column_names) != set(names):
                missing = sorted(set(names) ^ set(t.column_names))
                raise DataError(
                    f"cannot concatenate {t.source or 'a table'} with {tables[0].source or 'a table'}: "
                    f"columns differ ({', '.join(missing)})"
                )
        out: dict[str, Any] = {}
        for n in names:
            parts = [t[n] for t in tables]
            if any(_is_awkward(p) for p in parts):
                import awkward as ak

                out[n] = ak.concatenate(parts)
            else:
                out[n] = np.concatenate(parts)
        return Table(out, source=tables[0].source if len(tables) == 1 else "")

    # -- conversion -----------------------------------------------------------------
    def to_numpy(self, names: Sequence[str], *, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
        """Stack flat columns into an array of shape ``(n_events, n_features)``.

        Parameters
        ----------
        names
            The columns, in the order of the features.
        dtype
            The type of the array.

        Raises
        ------
        DataError
            When a column is jagged or multi-dimensional, or holds values that are
            not numbers: the message names the column, the first such value and
            its row (counted from 1 in this table).

        Notes
        -----
        Boolean, integer and floating columns are used as they are.  A column of
        text or Python objects is used only when every cell converts to a number
        (``"1.5"``, ``"inf"``; ``None`` is NaN); the readers of
        :mod:`neyman.io` already turn text columns of numbers into ``float64``, so
        what reaches here as text is text.
        """
        out = np.empty((self._length, len(names)), dtype=dtype)
        for j, name in enumerate(names):
            col = self[name]
            if _is_awkward(col) or (isinstance(col, np.ndarray) and col.ndim != 1):
                raise DataError(
                    f"column {name!r}{self._where()} is not a flat numeric column and cannot be "
                    "used as a tabular feature"
                )
            out[:, j] = self._numbers(name, col)
        return out

    def _numbers(self, name: str, col: np.ndarray) -> np.ndarray:
        """``col`` as numbers, or a :class:`DataError` naming its first value that is not one."""
        if col.dtype.kind in "biuf":
            return col
        fix = (
            "a feature must be a numeric column: clean the column (an empty cell or nan marks a "
            "missing value) or leave it out of the features (--features, data.features)"
        )
        if col.dtype.kind not in "USO":
            raise DataError(f"column {name!r}{self._where()} has type {col.dtype}, not numbers; {fix}")
        try:
            return np.asarray(col, dtype=np.float64)
        except (TypeError, ValueError):
            pass
        i, value = 0, None
        for i, value in enumerate(col.tolist()):  # noqa: B007 - the loop finds the first bad cell
            try:
                float(value)
            except (TypeError, ValueError):
                break
        if isinstance(value, (list, tuple, np.ndarray)):
            raise DataError(
                f"column {name!r}{self._where()} holds a list of values per event (row {i + 1}: {len(value)} "
                "values), and a feature takes one number per event: leave it out of the features (--features, "
                "data.features), or write the value you need (e.g. the leading one) as a column of its own"
            )
        shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        raise DataError(
            f"column {name!r}{self._where()} holds text, not numbers: {shown!r} in row {i + 1} "
            f"(of the {self._length} rows read) is not a number{number_hint(shown)}; {fix}"
        )

    def flat_columns(self) -> list[str]:
        """Names of the one-dimensional NumPy columns."""
        return [n for n, v in self._columns.items() if isinstance(v, np.ndarray) and v.ndim == 1]

    def to_pandas(self) -> pd.DataFrame:
        """Return the flat columns as a :class:`pandas.DataFrame`."""
        import pandas as pd

        return pd.DataFrame({n: self._columns[n] for n in self.flat_columns()})

    @classmethod
    def from_pandas(cls, frame: pd.DataFrame, *, source: str = "") -> Table:
        """Build a table from a :class:`pandas.DataFrame`."""
        return cls({str(c): frame[c].to_numpy() for c in frame.columns}, source=source)


def _is_awkward(values: Any) -> bool:
    return type(values).__module__.startswith("awkward")
