"""Conversion between Arrow data and :class:`~neyman.table.Table`, shared by Parquet and CSV."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from neyman.exceptions import DataError, MissingDependencyError
from neyman.io.core import EXACT_INTEGERS, TableWriter, is_jagged, missing_dependency, numpy_or_awkward
from neyman.optional import require
from neyman.table import Table

__all__ = ["ArrowWriter", "from_arrow", "refuse_duplicate_names", "to_arrow"]


def refuse_duplicate_names(names: list[str], source: str | Path) -> None:
    """Refuse a file whose columns repeat a name: which of them a read takes would be a guess.

    Raises
    ------
    DataError
        Naming the file and the repeated names.
    """
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"{source} has duplicate column names {dupes}; rename them")


def from_arrow(data: pa.Table | pa.RecordBatch, *, source: str) -> Table:
    """Convert Arrow data to a table: flat columns to NumPy, nested ones to Awkward.

    Parameters
    ----------
    data
        An Arrow table or record batch.
    source
        The file it came from, for :attr:`Table.source` and messages.
    """
    names = list(data.column_names)
    refuse_duplicate_names(names, source)
    return Table(
        {name: _column(data.column(i), name, source) for i, name in enumerate(names)},
        source=source,
    )


def _column(col: pa.Array | pa.ChunkedArray, name: str, source: str) -> Any:
    kind = col.type
    if pa.types.is_dictionary(kind):
        col = col.cast(kind.value_type)
        kind = col.type
    if pa.types.is_null(kind):
        return np.full(len(col), np.nan)
    if pa.types.is_decimal(kind):
        # a number (SQL's NUMERIC, a price): Python Decimal objects would pass for text
        return col.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_fixed_size_list(kind) and col.null_count == 0:
        fixed = _fixed_to_numpy(col)
        if fixed is not None:
            return fixed
    if pa.types.is_nested(kind):
        try:
            ak = require("awkward", purpose="read list columns")
        except MissingDependencyError as exc:
            raise missing_dependency(exc, f"column {name!r} of {source} is a list column") from exc
        return numpy_or_awkward(ak.from_arrow(col))
    if pa.types.is_integer(kind) and col.null_count and _beyond_float64(col):
        # missing cells make NumPy store the column as float64, which would round these integers (event
        # or run identifiers): kept exact as text, with "" for the missing cells, as text files keep them
        return np.array(["" if v is None else str(v) for v in col.to_pylist()], dtype=object)
    return col.to_numpy(zero_copy_only=False)


def _beyond_float64(col: pa.Array | pa.ChunkedArray) -> bool:
    """Whether an integer column holds a value that float64 cannot hold exactly (beyond :data:`EXACT_INTEGERS`)."""
    import pyarrow.compute as pc

    extremes = pc.min_max(col)
    low, high = extremes["min"].as_py(), extremes["max"].as_py()
    return low is not None and max(abs(low), abs(high)) > EXACT_INTEGERS


def _fixed_to_numpy(col: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """A fixed-size list column of numbers as an array of shape ``(n, size, ...)``."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    shape: list[int] = []
    while pa.types.is_fixed_size_list(arr.type):
        if arr.null_count:
            return None
        shape.append(arr.type.list_size)
        arr = arr.flatten()
    if not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)) or arr.null_count:
        return None
    return np.asarray(arr.to_numpy(zero_copy_only=False)).reshape(-1, *shape)


def to_arrow(table: Table, *, path: Path) -> pa.Table:
    """Convert a table to Arrow: NumPy columns directly, Awkward ones via ``ak.to_arrow``.

    Parameters
    ----------
    table
        The table to convert.
    path
        The destination file, named in messages.
    """
    arrays: list[pa.Array | pa.ChunkedArray] = []
    for name, values in table.columns.items():
        try:
            if is_jagged(values):
                import awkward as ak

                arrays.append(ak.to_arrow(values, extensionarray=False))
            else:
                arrays.append(_numpy_to_arrow(values))
        except (pa.ArrowException, TypeError, ValueError) as exc:
            dtype = getattr(values, "dtype", getattr(values, "type", "?"))
            raise DataError(f"cannot write column {name!r} (type {dtype}) to {path}: {exc}") from exc
    return pa.Table.from_arrays(arrays, names=table.column_names)


def _numpy_to_arrow(values: np.ndarray) -> pa.Array:
    if values.ndim == 1:
        return pa.array(values)
    inner = _numpy_to_arrow(values.reshape(-1, *values.shape[2:]))
    return pa.FixedSizeListArray.from_arrays(inner, values.shape[1])


class ArrowWriter(TableWriter):
    """A writer that converts each chunk to Arrow with the schema of the first chunk."""

    kind = "Arrow"

    def __init__(self, path: Path, *, final: Path, tree: str) -> None:
        super().__init__(path, final=final, tree=tree)
        self._schema: pa.Schema | None = None

    def _write(self, table: Table) -> None:
        data = to_arrow(table, path=self.final)
        if self._schema is None:
            self._schema = data.schema
            self._open(data.schema)
        elif data.schema != self._schema:
            try:
                data = data.cast(self._schema)
            except (pa.ArrowException, ValueError) as exc:
                raise DataError(
                    f"cannot append to {self.final}: the column types differ from the first "
                    f"chunk ({data.schema} vs {self._schema}): {exc}"
                ) from exc
        self._write_arrow(data)

    @abc.abstractmethod
    def _open(self, schema: pa.Schema) -> None:
        """Create the underlying file writer for ``schema``."""

    @abc.abstractmethod
    def _write_arrow(self, data: pa.Table) -> None:
        """Append ``data`` (already in the file's schema)."""
