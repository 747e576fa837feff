"""Parquet files via pyarrow: flat columns to NumPy, list columns to Awkward."""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Iterator, Sequence
from itertools import accumulate
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from neyman.io._arrow import ArrowWriter, from_arrow
from neyman.io.core import check_columns, entry_range, reading, rechunk, window
from neyman.table import Table

__all__ = [
    "ROW_GROUP_SIZE",
    "ParquetWriter",
    "available_columns",
    "iterate",
    "num_entries",
    "open_writer",
    "read",
]

ROW_GROUP_SIZE = 100_000
"""Rows per row group when writing: the unit :func:`iterate` decompresses at a time."""

_ERRORS = (pa.ArrowException, OSError, ValueError)


def _open(path: Path) -> pq.ParquetFile:
    with reading(path, "Parquet", _ERRORS):
        return pq.ParquetFile(str(path))


def _plan(pf: pq.ParquetFile, start: int, stop: int) -> tuple[list[int], int]:
    """The row groups overlapping ``[start, stop)`` and the first entry of the first."""
    md = pf.metadata
    ends = list(accumulate(md.row_group(i).num_rows for i in range(md.num_row_groups)))
    first = bisect.bisect_right(ends, start)
    groups = []
    for i in range(first, len(ends)):
        begin = ends[i - 1] if i else 0
        if begin >= stop:
            break
        groups.append(i)
    return groups, (ends[first - 1] if first else 0)


def read(
    path: Path,
    *,
    tree: str | None,
    columns: Sequence[str] | None,
    entry_start: int | None,
    entry_stop: int | None,
) -> Table:
    """Read the selected columns and entries (only the row groups that hold them)."""
    source = str(path)
    with _open(path) as pf, reading(path, "Parquet", _ERRORS):
        names = check_columns(columns, pf.schema_arrow.names, source=source)
        start, stop = entry_range(entry_start, entry_stop, pf.metadata.num_rows)
        groups, offset = _plan(pf, start, stop)
        if groups:
            data = pf.read_row_groups(groups, columns=names, use_threads=True)
        else:
            data = pf.schema_arrow.empty_table().select(names)
        data = data.slice(start - offset, stop - start)
        return from_arrow(data, source=source)


def iterate(
    path: Path,
    *,
    tree: str | None,
    columns: Sequence[str] | None,
    step_size: int,
    entry_start: int | None,
    entry_stop: int | None,
) -> Iterator[Table]:
    """Stream record batches of the row groups in range, regrouped to ``step_size``."""
    with _open(path) as pf, reading(path, "Parquet", _ERRORS):
        names = check_columns(columns, pf.schema_arrow.names, source=str(path))
        start, stop = entry_range(entry_start, entry_stop, pf.metadata.num_rows)
    return _chunks(path, names, start, stop, step_size)


def _chunks(path: Path, names: list[str], start: int, stop: int, step: int) -> Iterator[Table]:
    source = str(path)
    with _open(path) as pf, reading(path, "Parquet", _ERRORS):
        groups, offset = _plan(pf, start, stop)
        if not groups:
            return
        batches = pf.iter_batches(batch_size=step, row_groups=groups, columns=names)
        blocks = (from_arrow(b, source=source) for b in batches)
        yield from rechunk(window(blocks, start=start, stop=stop, offset=offset), step_size=step)


def num_entries(path: Path, *, tree: str | None) -> int:
    """The number of rows, from the file footer."""
    with _open(path) as pf:
        return int(pf.metadata.num_rows)


def available_columns(path: Path, *, tree: str | None) -> list[str]:
    """The top-level column names, from the file footer."""
    with _open(path) as pf:
        return list(pf.schema_arrow.names)


class ParquetWriter(ArrowWriter):
    """Appends chunks as row groups of at most :data:`ROW_GROUP_SIZE` rows."""

    kind = "Parquet"

    def __init__(self, path: Path, *, final: Path, tree: str) -> None:
        super().__init__(path, final=final, tree=tree)
        self._writer: pq.ParquetWriter | None = None

    def _open(self, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(str(self.path), schema)

    def _write_arrow(self, data: pa.Table) -> None:
        assert self._writer is not None
        self._writer.write_table(data, row_group_size=ROW_GROUP_SIZE)

    def close(self) -> None:
        """Write the footer; an empty file gets an empty schema."""
        if self._writer is None:
            pq.write_table(pa.table({}), str(self.path))
        else:
            self._writer.close()
            self._writer = None

    def abort(self) -> None:
        """Close the file without caring whether it is valid."""
        if self._writer is not None:
            with contextlib.suppress(pa.ArrowException, OSError):
                self._writer.close()
            self._writer = None


def open_writer(tmp: Path, *, final: Path, tree: str) -> ParquetWriter:
    """A :class:`ParquetWriter` on ``tmp`` (see :func:`neyman.io.open_writer`)."""
    return ParquetWriter(tmp, final=final, tree=tree)
