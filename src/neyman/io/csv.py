"""Delimited text files: ``.csv`` (comma), ``.tsv`` (tab), ``.txt`` (runs of whitespace).

Comma and tab separated files are parsed by pyarrow (streamed with
``pyarrow.csv.open_csv``); whitespace separated ones by pandas in chunks.  Any of
them may be gzip-compressed (``.csv.gz``).  The first row holds the column names
unless a :class:`CsvLayout` says otherwise (the headerless UCI benchmark files).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from neyman.exceptions import DataError
from neyman.io.arrow import ArrowWriter, from_arrow, refuse_duplicate_names
from neyman.io.core import (
    Backend,
    StoredTable,
    TextColumns,
    check_columns,
    concat,
    entry_range,
    needs_length,
    reading,
    rechunk,
    require_flat,
    window,
)
from neyman.table import Table

__all__ = [
    "CSV",
    "CsvFormat",
    "CsvLayout",
    "CsvTable",
    "CsvWriter",
    "available_columns",
    "iterate",
    "layout_for",
    "num_entries",
    "open_writer",
    "read",
]

_BLOCK_BYTES = 4 << 20  # bytes pyarrow parses at a time when streaming
_BLOCK_ROWS = 65_536  # rows pandas parses at a time
_ERRORS = (pa.ArrowException, OSError, ValueError, EOFError)
_SEPARATORS = {",": "comma", "\t": "tab", ";": "semicolon"}
# pyarrow's message for a cell that does not fit the type it chose for the column
_CONVERSION = re.compile(
    r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to (\w+): invalid value '(.*)'\Z", re.S
)
# a field of whitespace-separated text: quoted (and holding spaces), or a run of other characters
_QUOTED_FIELD = re.compile(r'"(?:[^"]|"")*"|\S+')
# pyarrow's message for a row with another number of fields than the header
_FIELDS = re.compile(r"CSV parse error: (?:Row #\d+: )?Expected (\d+) columns, got (\d+): (.*)\Z", re.S)


@dataclass(frozen=True)
class CsvLayout:
    """How a delimited text file is laid out.

    Parameters
    ----------
    delimiter
        The field separator; ``None`` for runs of spaces and tabs.
    names
        Column names of a file without a header row; ``None`` when the first row
        holds them.
    floats
        Parse every column as ``float64`` (instead of inferring the types).
    kind
        The name of the layout in messages.
    """

    delimiter: str | None = ","
    names: tuple[str, ...] | None = None
    floats: bool = False
    kind: str = "CSV"


def layout_for(path: Path) -> CsvLayout:
    """The layout implied by the extension: ``.tsv`` tab, ``.txt`` whitespace, else comma."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".tsv"):
        return CsvLayout(delimiter="\t")
    if name.endswith(".txt"):
        return CsvLayout(delimiter=None)
    return CsvLayout(delimiter=",")


# -- the two parsers ----------------------------------------------------------------


def _arrow_options(
    layout: CsvLayout, names: Sequence[str] | None, *, text: Sequence[str] = ()
) -> tuple[pcsv.ReadOptions, pcsv.ParseOptions, pcsv.ConvertOptions]:
    """pyarrow's options for ``layout``, reading the columns ``names`` (all when None).

    The columns ``text`` are read as strings, whatever they hold.
    """
    read_opts = pcsv.ReadOptions(column_names=list(layout.names) if layout.names else None, block_size=_BLOCK_BYTES)
    parse_opts = pcsv.ParseOptions(delimiter=layout.delimiter or ",")
    types: dict[str, pa.DataType] = {n: pa.float64() for n in layout.names or ()} if layout.floats else {}
    types.update({n: pa.string() for n in text})
    convert_opts = pcsv.ConvertOptions(include_columns=list(names) if names is not None else None, column_types=types)
    return read_opts, parse_opts, convert_opts


def _text_columns(path: Path, layout: CsvLayout) -> TextColumns:
    """The checker of numbers stored as text for ``path`` (rows named by line too)."""
    return TextColumns(str(path), header_lines=0 if layout.names is not None else 1)


def _first_row_holding(path: Path, layout: CsvLayout, name: str, value: str) -> int | None:
    """The first data row (from 0) whose cell of column ``name`` is ``value``, if any."""
    row = 0
    reader = pcsv.open_csv(path, *_arrow_options(layout, [name], text=[name]))
    try:
        for batch in reader:
            cells: list[str | None] = batch.column(0).to_pylist()
            if value in cells:
                return row + cells.index(value)
            row += len(cells)
    finally:
        reader.close()
    return None


@contextlib.contextmanager
def _cells(path: Path, layout: CsvLayout) -> Iterator[None]:
    """Turn pyarrow's "CSV conversion error" into a :class:`DataError` naming the cell.

    pyarrow types a column from the first block it parses (and a benchmark layout
    types every column as ``float64``); a later cell that does not fit fails the
    read.  The message names the column, the value and, after a scan of that
    column, its row.
    """
    try:
        with _rows(path):
            yield
    except pa.ArrowInvalid as exc:
        match = _CONVERSION.match(str(exc).strip())
        if match is None:
            raise
        index, kind, value = int(match.group(1)), match.group(2), match.group(3)
        columns = header(path, layout)
        name = columns[index] if index < len(columns) else f"#{index}"
        row = _first_row_holding(path, layout, name, value) if index < len(columns) else None
        where = "" if row is None else f" in {_text_columns(path, layout).where(row)}"
        numeric = TextColumns.is_number(value)
        if numeric:
            why = (
                f"which is not an integer, while the rows before it hold integers; {path.name} is read "
                f"in blocks and the type of a column comes from its first block. Write the integers "
                f"of that column with a decimal point (1.0), or convert the file to Parquet"
            )
        else:
            others = "integers" if "int" in kind else "numbers"
            why = (
                f"which is not a number, while other cells of the column are {others}. "
                "Clean the cell (leave it empty or write nan for a missing value) or leave the column out "
                "of the features (--features, data.features)"
            )
        raise DataError(f"{path}: column {name!r} holds {value!r}{where}, {why}") from exc


@contextlib.contextmanager
def _rows(path: Path) -> Iterator[None]:
    """Turn pyarrow's "Expected n columns, got m" into a :class:`DataError` naming the line."""
    try:
        yield
    except pa.ArrowInvalid as exc:
        shape = _FIELDS.match(str(exc).strip())
        if shape is None:
            raise
        raise _ragged_row(path, int(shape.group(1)), int(shape.group(2)), shape.group(3)) from exc


def _ragged_row(path: Path, expected: int, got: int, row: str) -> DataError:
    """The error for a line of ``got`` fields where the header has ``expected``, with its line number."""
    where = "a line"
    start = row.removesuffix(" ...")  # pyarrow cuts a long row short
    with pa.input_stream(str(path), compression="detect") as stream:
        for number, line in enumerate(io.TextIOWrapper(stream, encoding="utf-8", errors="replace"), start=1):
            text = line.rstrip("\r\n").lstrip("\ufeff")
            if text == row or (start != row and text.startswith(start)):
                where = f"line {number}"
                break
    if "\x00" in row:
        fix = (
            "the file holds NUL bytes: it is written in UTF-16 (a spreadsheet's 'Unicode text') or is no text "
            "file; save it as UTF-8 text (e.g. iconv -f UTF-16 -t UTF-8), or write it as Parquet"
        )
    elif row.lstrip().startswith("#"):
        fix = (
            "it is a comment line, which the file's rows cannot hold: delete the lines "
            f"starting with '#' (e.g. grep -v '^#' {path.name} > clean{''.join(path.suffixes)}), or write the file "
            "as Parquet"
        )
    elif not row.strip():
        fix = "remove the blank line (or write the file as Parquet)"
    else:
        fix = (
            "a field holding the separator must be quoted; two files joined without their newline or a cut-off "
            "line give the same: check that line, or write the file again"
        )
    return DataError(
        f"{path}: {where} holds {got} field{'s' * (got != 1)} where the header has {expected} ({start[:80]!r}); {fix}"
    )


def _whitespace_rows(path: Path, layout: CsvLayout) -> Iterator[None]:
    """Check the whitespace-separated rows one by one: a step per data row, refusing one whose number of
    fields is not the header's.

    pandas reads such a file without a word but wrongly: one field more on every row
    (its row index, as ``to_csv(sep=' ')`` writes it) turns the first column into an
    index and shifts every name by one; an empty cell between two tabs vanishes and
    shifts the rest of its row.  Advanced in step with the rows pandas parses, the scan
    reads no further than the read does.  Blank lines, which pandas skips, are skipped.
    """
    expected = None if layout.names is None else len(layout.names)
    with pa.input_stream(str(path), compression="detect") as stream:
        for number, raw in enumerate(io.TextIOWrapper(stream, encoding="utf-8", errors="replace"), start=1):
            got = len(_QUOTED_FIELD.findall(raw)) if '"' in raw else len(raw.split())
            if not got:
                continue
            if expected is None:
                expected = got
                continue
            if got != expected:
                raise _uneven_row(path, number, got, expected, raw.rstrip("\r\n"))
            yield None


def _uneven_row(path: Path, number: int, got: int, expected: int, line: str) -> DataError:
    """The error for a whitespace-separated line of ``got`` fields under a header of ``expected``."""
    if got == expected + 1:
        fix = (
            "one field more than the header is most often a row index (pandas writes one with "
            "to_csv(path, sep=' ') unless index=False): write the file again with index=False, or as Parquet"
        )
    elif "\t" in line:
        fix = (
            f"the line is tab-separated and an empty cell between two tabs is lost in whitespace-separated text: "
            f"rename the file to {path.stem}.tsv (an empty cell is then a missing value), or write it as Parquet"
        )
    else:
        fix = "check that line (a missing or extra value, a name holding a space), or write it as Parquet"
    return DataError(f"{path}: line {number} holds {got} fields where the header has {expected} ({line[:80]!r}); {fix}")


def _checked_frames(frames: Iterator[Any], path: Path, layout: CsvLayout) -> Iterator[Any]:
    """pandas' frames, each after its rows' numbers of fields are checked (:func:`_whitespace_rows`)."""
    rows = _whitespace_rows(path, layout)
    for frame in frames:
        for _ in range(len(frame)):
            next(rows, None)
        yield frame


def _pandas_chunks(path: Path, layout: CsvLayout, names: Sequence[str]) -> Any:
    """A pandas reader of whitespace separated text, ``_BLOCK_ROWS`` rows at a time."""
    import pandas as pd

    return pd.read_csv(
        path,
        sep=r"\s+",
        header=0 if layout.names is None else None,
        names=list(layout.names) if layout.names is not None else None,
        usecols=list(names),
        dtype=np.float64 if layout.floats else None,
        chunksize=_BLOCK_ROWS,
    )


def header(path: Path, layout: CsvLayout) -> list[str]:
    """The column names: from the layout, else the first row of the file."""
    if layout.names is not None:
        return list(layout.names)
    with reading(path, layout.kind, _ERRORS), _rows(path):
        _check_separator(path, layout)
        if layout.delimiter is None:
            import pandas as pd

            frame = pd.read_csv(path, sep=r"\s+", nrows=0)
            return [str(c) for c in frame.columns]
        reader = pcsv.open_csv(path, *_arrow_options(layout, None))
        try:
            names = list(reader.schema.names)
        finally:
            reader.close()
    refuse_duplicate_names(names, path)  # whichever columns are read: a selection would take one silently
    return names


def _check_separator(path: Path, layout: CsvLayout) -> None:
    """Refuse a header line without the layout's separator but with another (a ``;``-separated ``.csv``),
    and comment lines before it (numpy.savetxt's ``# a,b,c`` header is kept: its first column is ``# a``;
    in whitespace-separated text the ``#`` would shift every name, so there it is refused)."""
    with pa.input_stream(str(path), compression="detect") as stream:
        start = stream.read(1 << 16)
    lines = start.decode("utf-8", "replace").lstrip("\ufeff").split("\n", 2)
    line = lines[0].rstrip("\r")
    names_after_hash = len(lines) > 1 and _fields(line.lstrip("# "), layout) == _fields(lines[1], layout) > 1
    if line.startswith("#") and names_after_hash and layout.delimiter is not None:
        return  # numpy.savetxt's header, '# a,b,c': the first column is named '# a'
    if line.startswith("#") and names_after_hash:
        raise DataError(
            f"{path}: its first line {line[:80]!r} holds the column names after a '#', as numpy.savetxt writes "
            "them: write the file with np.savetxt(..., comments=''), or remove the '#' (e.g. sed -i '1s/^# *//' "
            f"{path.name}), or write it as Parquet"
        )
    if line.startswith("#"):
        raise DataError(
            f"{path}: its first line {line[:80]!r} is a comment, and a {layout.kind} file has none: its first "
            "line must hold the column names (or the first event); delete the lines starting with '#' (e.g. "
            f"grep -v '^#' {path.name} > clean{''.join(path.suffixes)}), or write the file as Parquet"
        )
    if layout.names is not None:
        return
    _refuse_numbers_as_names(path, line, layout)
    if layout.delimiter is None:  # whitespace-separated text: one field holding commas is a CSV file named .txt
        other = next((sep for sep in (",", ";") if sep in line), None) if _fields(line, layout) == 1 else None
        if other is not None:
            raise DataError(
                f"{path}: its header {line[:80]!r} is one column holding {_SEPARATORS[other]}s: the file looks "
                f"{_SEPARATORS[other]}-separated, and {path.name} is read as whitespace-separated text; rename it "
                f"to {path.stem}.csv, or write it as Parquet"
            )
        return
    if layout.delimiter in line:
        return
    other = next((sep for sep in _SEPARATORS if sep in line), None)
    if other is None:
        return
    found, expected = _SEPARATORS[other], _SEPARATORS.get(layout.delimiter, repr(layout.delimiter))
    raise DataError(
        f"{path}: its header {line[:80]!r} is one column holding {found}s: the file looks {found}-separated, "
        f"and {path.name} is read as {expected}-separated (.csv: comma, .tsv: tab); write it again with the "
        "separator of its extension (pandas: to_csv(path, index=False)), or as Parquet"
    )


def _refuse_numbers_as_names(path: Path, line: str, layout: CsvLayout) -> None:
    """Refuse a first line of numbers such as ``1.000000e+00,0.8692,...``: the file has no header row.

    Its first event would become the column names (and be lost). Plain counts (``0,1,2``, as pandas
    writes the names of an unnamed frame) are taken for names.
    """
    fields = [f.strip().strip('"') for f in (line.split(layout.delimiter) if layout.delimiter else line.split())]
    if not fields or all(re.fullmatch(r"\d+", f) for f in fields):
        return
    try:
        [float(f) for f in fields]
    except ValueError:
        return
    n = len(fields)
    names = (layout.delimiter or " ").join(f"x{i}" for i in range(n))
    example = f" (e.g. sed -i '1i {names}' {path.name})" if n <= 30 and not path.name.endswith(".gz") else ""
    raise DataError(
        f"{path}: its first line {line[:60]!r} holds {n} numbers, not column names: the file has no header row, "
        f"and its first event would be read as the names. Add a header line with one name per column{example}, "
        "or write the file as Parquet; the headerless UCI files are read with --format uci-higgs or --format uci-susy"
    )


def _fields(line: str, layout: CsvLayout) -> int:
    """The number of fields of a line (quotes ignored: enough to compare a header with a row)."""
    line = line.strip()
    return len(line.split(layout.delimiter) if layout.delimiter else line.split())


def blocks(path: Path, layout: CsvLayout, names: Sequence[str], *, check: bool = True) -> Iterator[Table]:
    """Stream the file as consecutive tables of the columns ``names`` (in that order).

    Parameters
    ----------
    path, layout
        The file and how it is laid out.
    names
        The columns to read.
    check
        Read numbers stored as text strictly (:class:`~neyman.io.core.TextColumns`):
        a column of numbers becomes ``float64`` and a column mixing numbers and text
        is an error.  Without it the cells are read as parsed (counting rows).
    """
    source = str(path)
    checker = _text_columns(path, layout) if check else None
    with reading(path, layout.kind, _ERRORS), _cells(path, layout):
        if layout.delimiter is None:
            pieces: Iterator[Table]
            with _pandas_chunks(path, layout, names) as chunks:
                frames = _checked_frames(chunks, path, layout) if check else chunks
                pieces = (Table.from_pandas(frame[list(names)], source=source) for frame in frames)
                yield from pieces if checker is None else checker.checked(pieces, 0)
            return
        text = () if check else names
        reader = pcsv.open_csv(path, *_arrow_options(layout, names, text=text))
        try:
            pieces = (from_arrow(batch, source=source).select(names) for batch in reader)
            yield from pieces if checker is None else checker.checked(pieces, 0)
        finally:
            reader.close()


def _collect(pieces: Iterator[Table], names: Sequence[str], path: Path) -> Table:
    """Concatenate the pieces; a file without data rows gives empty ``float64`` columns."""
    parts = list(pieces)
    if not parts:
        return Table({n: np.empty(0) for n in names}, source=str(path))
    return concat(parts)


def _whole(path: Path, layout: CsvLayout, names: Sequence[str]) -> Table:
    """Read every row at once (multi-threaded where pyarrow parses)."""
    with reading(path, layout.kind, _ERRORS), _cells(path, layout):
        if layout.delimiter is None:
            return _collect(blocks(path, layout, names), names, path)
        data = pcsv.read_csv(path, *_arrow_options(layout, names))
        return _text_columns(path, layout).check(from_arrow(data, source=str(path)).select(names), 0)


def _range(path: Path, layout: CsvLayout, entry_start: int | None, entry_stop: int | None) -> tuple[int, int | None]:
    """Resolve the entry range; only negative bounds force a pass to count rows."""
    if needs_length(entry_start, entry_stop):
        return entry_range(entry_start, entry_stop, count(path, layout))
    start = entry_start or 0
    stop = entry_stop
    return start, (None if stop is None else max(start, stop))


def count(path: Path, layout: CsvLayout) -> int:
    """The number of data rows (a scan of the first column)."""
    first = header(path, layout)[:1]
    if not first:
        return 0
    return sum(len(b) for b in blocks(path, layout, first, check=False))


class CsvTable(StoredTable):
    """A delimited text file with a given layout (used by :mod:`neyman.io.datasets` too).

    Text has no index: the rows are counted by a scan of the file, which reading a
    range does only for a negative bound.

    Parameters
    ----------
    path
        The file.
    layout
        How it is laid out.
    finish
        Applied to every table read, e.g. to check and convert a label column.
    """

    def __init__(self, path: Path, layout: CsvLayout, *, finish: Callable[[Table], Table] | None = None) -> None:
        super().__init__(path)
        self.layout = layout
        self.finish = finish

    @property
    def columns(self) -> list[str]:
        """The column names: from the layout, else the header row."""
        return header(self.path, self.layout)

    def num_entries(self) -> int:
        """The number of data rows (the file is scanned)."""
        return count(self.path, self.layout)

    def read(self, columns: Sequence[str] | None, entry_start: int | None, entry_stop: int | None) -> Table:
        """The selected columns and rows; the whole file at once when no range is given."""
        names = check_columns(columns, self.columns, source=self.source)
        if entry_start is None and entry_stop is None:
            table = _whole(self.path, self.layout, names)
        else:
            table = self.rows(names, *_range(self.path, self.layout, entry_start, entry_stop))
        return table if self.finish is None else self.finish(table)

    def chunks(
        self, columns: Sequence[str] | None, step_size: int, entry_start: int | None, entry_stop: int | None
    ) -> Iterator[Table]:
        """The selected columns and rows in chunks of ``step_size`` rows."""
        names = check_columns(columns, self.columns, source=self.source)
        start, stop = _range(self.path, self.layout, entry_start, entry_stop)
        pieces = self.stream(names, start, stop, step_size)
        return pieces if self.finish is None else (self.finish(t) for t in pieces)

    def rows(self, names: list[str], start: int, stop: int | None) -> Table:
        """Rows ``start:stop`` (to the end when ``stop`` is None), streamed from the file."""
        return _collect(window(blocks(self.path, self.layout, names), start=start, stop=stop), names, self.path)

    def stream(self, names: list[str], start: int, stop: int | None, step_size: int) -> Iterator[Table]:
        """Rows ``start:stop`` (to the end when ``stop`` is None) in chunks of ``step_size``."""
        pieces = window(blocks(self.path, self.layout, names), start=start, stop=stop)
        return rechunk(pieces, step_size=step_size)


class CsvFormat(Backend):
    """Reads and writes delimited text files with a header row."""

    def open(self, path: Path, tree: str | None) -> contextlib.AbstractContextManager[StoredTable]:
        """The file ``path`` in the layout its extension implies (``tree`` is ignored)."""
        return contextlib.nullcontext(CsvTable(path, layout_for(path)))

    def open_writer(self, tmp: Path, *, final: Path, tree: str) -> CsvWriter:
        """A :class:`CsvWriter` on ``tmp`` (see :func:`neyman.io.open_writer`)."""
        return CsvWriter(tmp, final=final, tree=tree)


class CsvWriter(ArrowWriter):
    """Writes flat columns as delimited text, gzip-compressed when the name ends in ``.gz``.

    Parameters
    ----------
    path, final, tree
        As for :class:`~neyman.io.core.TableWriter`.
    layout
        The layout to write; by default the one implied by the extension of ``final``.
    check
        Called as ``check(table, path=final)`` on each chunk to validate and order
        its columns (the benchmark layouts need exactly their own columns).
    """

    def __init__(
        self,
        path: Path,
        *,
        final: Path,
        tree: str,
        layout: CsvLayout | None = None,
        check: Callable[..., Table] | None = None,
    ) -> None:
        super().__init__(path, final=final, tree=tree)
        self.layout = layout or layout_for(final)
        self.kind = self.layout.kind
        self._check = check
        self._sink = pa.OSFile(str(path), "wb")
        self._stream: pa.NativeFile = self._sink
        if final.name.lower().endswith(".gz"):
            self._stream = pa.CompressedOutputStream(self._sink, "gzip")
        self._writer: pcsv.CSVWriter | None = None

    def _prepare(self, table: Table) -> Table:
        fix = "write Parquet or ROOT for jagged columns"
        require_flat(table, path=self.final, kind=self.kind, fix=fix)
        for name, values in table.columns.items():
            if values.ndim != 1:
                raise DataError(
                    f"cannot write {self.final}: column {name!r} has shape {values.shape} and "
                    f"{self.kind} files hold one value per column and row; {fix}"
                )
        return table if self._check is None else self._check(table, path=self.final)

    def _open(self, schema: pa.Schema) -> None:
        options = pcsv.WriteOptions(include_header=self.layout.names is None, delimiter=self.layout.delimiter or " ")
        self._writer = pcsv.CSVWriter(self._stream, schema, write_options=options)

    def _write_arrow(self, data: pa.Table) -> None:
        assert self._writer is not None
        self._writer.write_table(data)

    def close(self) -> None:
        """Flush and close the file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._stream.close()
        if not self._sink.closed:
            self._sink.close()

    def abort(self) -> None:
        """Close the file without caring whether it is complete."""
        for closer in (self._writer, self._stream, self._sink):
            if closer is not None:
                with contextlib.suppress(pa.ArrowException, OSError, ValueError):
                    closer.close()
        self._writer = None


CSV = CsvFormat()
"""The delimited-text backend; the functions of this module are its methods."""

read = CSV.read
iterate = CSV.iterate
num_entries = CSV.num_entries
available_columns = CSV.available_columns
open_writer = CSV.open_writer
