"""Parquet files via pyarrow: flat columns to NumPy, list columns to Awkward."""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from neyman.exceptions import DataError
from neyman.io.arrow import ArrowWriter, from_arrow
from neyman.io.core import Backend, StoredTable, reading, rechunk, window
from neyman.table import Table

__all__ = [
    "PARQUET",
    "ROW_GROUP_SIZE",
    "ParquetFormat",
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
        pf = pq.ParquetFile(str(path))
        md = pf.metadata
        in_groups = sum(md.row_group(i).num_rows for i in range(md.num_row_groups))
    if in_groups != md.num_rows:
        raise DataError(
            f"{path} is damaged: its footer says {md.num_rows} rows but its row groups hold {in_groups}; "
            "write the file again"
        )
    return pf


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


class _ParquetTable(StoredTable):
    """The table of an open Parquet file."""

    def __init__(self, path: Path, pf: pq.ParquetFile) -> None:
        super().__init__(path)
        self.pf = pf

    @property
    def columns(self) -> list[str]:
        """The top-level column names, from the file footer."""
        return list(self.pf.schema_arrow.names)

    def num_entries(self) -> int:
        """The number of rows, from the file footer."""
        return int(self.pf.metadata.num_rows)

    @property
    def index_columns(self) -> list[str]:
        """The index of the frame ``pandas.to_parquet`` wrote: the ``index_columns`` of its metadata.

        A named index (``df.set_index("evt")``) is stored as an ordinary column of its
        name; an unnamed one as ``__index_level_0__``; a range index only in the metadata.
        """
        meta = self.pf.schema_arrow.pandas_metadata or {}
        index = meta.get("index_columns") if isinstance(meta, dict) else None
        names = self.columns
        return [c for c in index if isinstance(c, str) and c in names] if isinstance(index, list) else []

    def rows(self, names: list[str], start: int, stop: int) -> Table:
        """Only the row groups that hold the rows are read."""
        groups, offset = _plan(self.pf, start, stop)
        if groups:
            data = self.pf.read_row_groups(groups, columns=names, use_threads=True)
            declared = sum(self.pf.metadata.row_group(i).num_rows for i in groups)
            if data.num_rows != declared:
                raise DataError(
                    f"{self.path} is damaged: its row groups declare {declared} rows but hold {data.num_rows}; "
                    "write the file again"
                )
        else:
            data = self.pf.schema_arrow.empty_table().select(names)
        data = data.slice(start - offset, stop - start)
        return from_arrow(data, source=self.source)

    def stream(self, names: list[str], start: int, stop: int, step_size: int) -> Iterator[Table]:
        """Record batches of the row groups in range, regrouped to ``step_size``."""
        return _chunks(self.path, names, start, stop, step_size)


def _chunks(path: Path, names: list[str], start: int, stop: int, step: int) -> Iterator[Table]:
    source = str(path)
    with _open(path) as pf, reading(path, "Parquet", _ERRORS):
        groups, offset = _plan(pf, start, stop)
        if not groups:
            return
        batches = pf.iter_batches(batch_size=step, row_groups=groups, columns=names)
        blocks = (from_arrow(b, source=source) for b in batches)
        yield from rechunk(window(blocks, start=start, stop=stop, offset=offset), step_size=step)


class ParquetFormat(Backend):
    """Reads and writes Parquet files."""

    @contextlib.contextmanager
    def open(self, path: Path, tree: str | None) -> Iterator[StoredTable]:
        """The table of ``path`` (``tree`` is ignored)."""
        with _open(path) as pf, reading(path, "Parquet", _ERRORS):
            yield _ParquetTable(path, pf)

    def open_writer(self, tmp: Path, *, final: Path, tree: str) -> ParquetWriter:
        """A :class:`ParquetWriter` on ``tmp`` (see :func:`neyman.io.open_writer`)."""
        return ParquetWriter(tmp, final=final, tree=tree)


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


PARQUET = ParquetFormat()
"""The Parquet backend; the functions of this module are its methods."""

read = PARQUET.read
iterate = PARQUET.iterate
num_entries = PARQUET.num_entries
available_columns = PARQUET.available_columns
open_writer = PARQUET.open_writer
