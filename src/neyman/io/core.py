"""Helpers shared by every reader and writer of :mod:`neyman.io`.

Each format module turns bytes into a :class:`~neyman.table.Table` and back; what
all of them need — checking that a file can be read, checking requested columns,
resolving an entry range, cutting a stream of blocks into chunks, translating a
library's exception into a :class:`~neyman.exceptions.DataError`, reading and
streaming a table (:class:`Backend`, :class:`StoredTable`) and the common writer
protocol — lives here once.  A format subclasses :class:`Backend`: it opens the
table of a file and says how to read its rows; its module's ``read``,
``iterate``, ``num_entries``, ``available_columns`` and ``open_writer`` are the
methods of its backend object.
"""

from __future__ import annotations

import abc
import contextlib
import math
import operator
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neyman.exceptions import DataError, MissingDependencyError, NeymanError, close_matches, missing_file
from neyman.table import Table

__all__ = [
    "EXACT_INTEGERS",
    "MISSING_TEXT",
    "Backend",
    "StoredTable",
    "TableWriter",
    "TextColumns",
    "check_columns",
    "check_file",
    "concat",
    "entry_range",
    "is_jagged",
    "list_names",
    "missing_dependency",
    "needs_length",
    "numpy_or_awkward",
    "ranges",
    "reading",
    "rechunk",
    "require_flat",
    "slice_table",
    "window",
]

PathLike = str | os.PathLike[str]


class StoredTable(abc.ABC):
    """One table of a file opened by a :class:`Backend`: its columns, its length, its rows.

    Resolving a request is the same for every format: the requested columns are
    checked against :attr:`columns` and the entry range is clipped to
    :meth:`num_entries` (:meth:`select`).  A format says how to read the rows
    ``[start, stop)`` at once (:meth:`rows`) and in chunks (:meth:`stream`).

    Parameters
    ----------
    path
        The file.
    source
        The name of the table in messages and in :attr:`Table.source`; the path
        when None.
    """

    def __init__(self, path: Path, *, source: str | None = None) -> None:
        self.path = path
        self.source = str(path) if source is None else source

    @property
    @abc.abstractmethod
    def columns(self) -> list[str]:
        """The names of the columns, in file order."""

    @abc.abstractmethod
    def num_entries(self) -> int:
        """The number of entries (rows)."""

    @property
    def index_columns(self) -> list[str]:
        """The columns that hold the row index pandas wrote along with its frame (none unless a format says)."""
        return []

    def select(
        self, columns: Sequence[str] | None, entry_start: int | None, entry_stop: int | None
    ) -> tuple[list[str], int, int]:
        """The columns to read (:func:`check_columns`) and the entry range (:func:`entry_range`)."""
        names = check_columns(columns, self.columns, source=self.source)
        start, stop = entry_range(entry_start, entry_stop, self.num_entries())
        return names, start, stop

    def read(self, columns: Sequence[str] | None, entry_start: int | None, entry_stop: int | None) -> Table:
        """The selected columns and rows, as one table; numbers stored as text are read strictly.

        See :class:`TextColumns` for how a text column becomes numbers or an error.
        """
        names, start, stop = self.select(columns, entry_start, entry_stop)
        return TextColumns(self.source).check(self.rows(names, start, stop), start)

    def chunks(
        self, columns: Sequence[str] | None, step_size: int, entry_start: int | None, entry_stop: int | None
    ) -> Iterator[Table]:
        """The selected columns and rows in chunks of ``step_size`` rows.

        The columns and the range are checked now; the chunks are read lazily.
        Text columns are checked over all chunks together (:class:`TextColumns`).
        """
        names, start, stop = self.select(columns, entry_start, entry_stop)
        return TextColumns(self.source).checked(self.stream(names, start, stop, step_size), start)

    @abc.abstractmethod
    def rows(self, names: list[str], start: int, stop: int) -> Table:
        """Rows ``start:stop`` of the columns ``names``."""

    @abc.abstractmethod
    def stream(self, names: list[str], start: int, stop: int, step_size: int) -> Iterator[Table]:
        """Rows ``start:stop`` of the columns ``names`` in chunks of ``step_size``.

        Called when the file that :meth:`Backend.open` opened may be closed
        already: a format that needs it open again reopens it when the first chunk
        is requested.
        """


class Backend(abc.ABC):
    """A file format as the dispatcher uses it: read, stream, inspect and write.

    A format says how to open the table of a file (:meth:`open`) and how to write
    one (:meth:`open_writer`); reading, streaming and inspecting are the same for
    every format.  ``path`` is an existing, non-empty file; ``entry_start`` and
    ``entry_stop`` are the raw slice bounds given by the user (clipped by
    :meth:`StoredTable.select`).
    """

    @abc.abstractmethod
    def open(self, path: Path, tree: str | None) -> contextlib.AbstractContextManager[StoredTable]:
        """The table ``tree`` of ``path`` (the only one when None), usable inside the ``with`` block."""

    @abc.abstractmethod
    def open_writer(self, tmp: Path, *, final: Path, tree: str) -> TableWriter:
        """A writer on the temporary file ``tmp`` that becomes ``final``."""

    def read(
        self,
        path: Path,
        *,
        tree: str | None,
        columns: Sequence[str] | None,
        entry_start: int | None,
        entry_stop: int | None,
    ) -> Table:
        """Read the selected columns and rows."""
        with self.open(path, tree) as table:
            return table.read(columns, entry_start, entry_stop)

    def iterate(
        self,
        path: Path,
        *,
        tree: str | None,
        columns: Sequence[str] | None,
        step_size: int,
        entry_start: int | None,
        entry_stop: int | None,
    ) -> Iterator[Table]:
        """Stream the selected columns and rows in chunks of ``step_size`` rows.

        The file, the table and the columns are checked before this returns.
        """
        with self.open(path, tree) as table:
            return table.chunks(columns, step_size, entry_start, entry_stop)

    def num_entries(self, path: Path, *, tree: str | None) -> int:
        """The number of entries of the table."""
        with self.open(path, tree) as table:
            return table.num_entries()

    def available_columns(self, path: Path, *, tree: str | None) -> list[str]:
        """The column names of the table."""
        with self.open(path, tree) as table:
            return list(table.columns)

    def index_columns(self, path: Path, *, tree: str | None) -> list[str]:
        """The columns of the table that hold the row index pandas wrote along with its frame."""
        with self.open(path, tree) as table:
            return list(table.index_columns)


# -- files --------------------------------------------------------------------------


def check_file(path: Path) -> None:
    """Raise :class:`DataError` unless ``path`` is an existing, non-empty file."""
    if not os.path.exists(path):  # os.path, unlike Path, says False for a name the system refuses
        raise DataError(f"input file {path}{missing_file(path)}")
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.is_file())
        shown = f"; it contains {list_names(inside, limit=8)}" if inside else ""
        raise DataError(f"{path} is a directory, not a file{shown}; give the path of a file")
    if not stat.S_ISREG(path.stat().st_mode):
        raise DataError(
            f"input file {path} is not a regular file (a pipe, a device or a socket), which neyman cannot read "
            "more than once; write the data to a file and give its path"
        )
    if path.stat().st_size == 0:
        raise DataError(f"input file {path} is empty (0 bytes); it was probably not written completely, write it again")


@contextlib.contextmanager
def reading(path: Path, kind: str, errors: tuple[type[BaseException], ...]) -> Iterator[None]:
    """Turn any failure while reading ``path`` into a :class:`DataError` naming the file.

    Every exception but neyman's own and ``MemoryError`` is taken: a damaged file can
    make a reading library fail in ways it does not document (a tokenizer error in a
    ``.npy`` header, ``zlib.error`` in a gzip stream, an assertion in an RNTuple), and
    a traceback is never the answer.  The original exception stays attached.

    Parameters
    ----------
    path
        The file being read, named in the message.
    kind
        The format, e.g. ``"ROOT"``.
    errors
        The exception types the reading library documents for unreadable input; the
        others are named by type in the message.
    """
    try:
        yield
    except NeymanError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # any failure inside a reading library means an unreadable file
        # every line (uproot: 'expected Chunk of length 153926,' / 'received 68980 bytes ...'), cut short
        detail = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())[:300].rstrip(" ,.;:")
        if not detail or not isinstance(exc, errors) or not isinstance(exc, (OSError, ValueError, EOFError)):
            # an assertion or a KeyError says little without its type ("env_type_id=254")
            detail = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        raise DataError(
            f"cannot read {path} as a {kind} file: {detail}. The file may be truncated, "
            f"corrupt or not a {kind} file; check it or write it again"
        ) from exc


def missing_dependency(exc: MissingDependencyError, what: str) -> DataError:
    """A :class:`DataError` saying that ``what`` needs an optional package (with its hint)."""
    return DataError(f"{what}: {exc}")


# -- columns ------------------------------------------------------------------------


def list_names(names: Sequence[str], *, limit: int = 30) -> str:
    """``'a', 'b', ... (12 more)`` — a readable list of names, cut after ``limit``."""
    if not names:
        return "(none)"
    shown = ", ".join(repr(n) for n in names[:limit])
    more = len(names) - limit
    return shown + (f", ... ({more} more)" if more > 0 else "")


def check_columns(requested: Sequence[str] | None, available: Sequence[str], *, source: str) -> list[str]:
    """Return the columns to read: ``requested`` (de-duplicated, in order) or all.

    Raises
    ------
    DataError
        When a requested column is not available; the message names the file, the
        column, close matches and the available columns.
    """
    if requested is None:
        return list(available)
    if isinstance(requested, str):
        requested = [requested]
    wanted = list(dict.fromkeys(requested))
    present = set(available)
    missing = [c for c in wanted if c not in present]
    if missing:
        parts = [f"{c!r}{close_matches(c, available)}" for c in missing]
        noun = "column" if len(missing) == 1 else "columns"
        raise DataError(
            f"{noun} {', '.join(parts)} not found in {source}; available columns: {list_names(list(available))}"
        )
    return wanted


def is_jagged(values: Any) -> bool:
    """Whether ``values`` is an Awkward array rather than a NumPy array."""
    return not isinstance(values, np.ndarray) and type(values).__module__.startswith("awkward")


def require_flat(table: Table, *, path: Path, kind: str, fix: str) -> None:
    """Raise :class:`DataError` naming the first jagged column of ``table``.

    Parameters
    ----------
    table
        The table about to be written.
    path
        The destination, named in the message.
    kind
        The format, e.g. ``"HDF5"``.
    fix
        What the user can do instead.
    """
    for name, values in table.columns.items():
        if is_jagged(values):
            raise DataError(
                f"cannot write {path}: column {name!r} is jagged (an Awkward array) and "
                f"{kind} files written by neyman hold flat columns only; {fix}"
            )


def numpy_or_awkward(values: Any) -> Any:
    """Return a regular numeric Awkward array as NumPy, anything else unchanged.

    Flat branches become one-dimensional NumPy arrays and fixed-size ones
    multi-dimensional arrays; jagged, string, record and option types stay Awkward.
    """
    import awkward as ak

    layout = values.layout
    while isinstance(layout, ak.contents.RegularArray):
        layout = layout.content
    if isinstance(layout, ak.contents.NumpyArray) and not layout.parameters:
        return ak.to_numpy(values)
    return values


# -- numbers stored as text ---------------------------------------------------------

MISSING_TEXT = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
"""Text cells that mean a missing value (read as NaN): the null markers of pyarrow and pandas."""

_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)", re.IGNORECASE)
_INTEGER = re.compile(r"[+-]?\d+")
EXACT_INTEGERS = 2**53
"""float64 holds every integer up to this magnitude exactly (identifiers beyond it are kept as text)."""
_MISSING, _NUMERIC, _TEXT = 0, 1, 2
_PROBE = 1024  # leading values looked at before a whole float column is scanned for a number


def _cell_kind(value: Any) -> int | None:
    """Whether one cell is missing, a number or text; None for an object that is none of these."""
    if value is None:
        return _MISSING
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        cell = value.strip()
        if cell in MISSING_TEXT:
            return _MISSING
        return _NUMERIC if _NUMBER.fullmatch(cell) else _TEXT
    if isinstance(value, (bool, int, float, np.number)):
        return _MISSING if isinstance(value, (float, np.floating)) and math.isnan(value) else _NUMERIC
    return None


def _cell_number(value: Any, kind: int) -> float:
    if kind == _MISSING:
        return math.nan
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return float(value.strip() if isinstance(value, str) else value)


def _beyond_float(cell: Any) -> bool:
    """Whether a cell that reads as a number is an integer that ``float64`` would round (beyond 2**53)."""
    text = (cell.decode("utf-8", "replace") if isinstance(cell, bytes) else str(cell)).strip()
    return _INTEGER.fullmatch(text) is not None and abs(int(text)) > EXACT_INTEGERS


def _first_number(values: np.ndarray) -> int | None:
    """The index of the first value of a numeric column that is not NaN (None if all are)."""
    if values.dtype.kind != "f":
        return 0 if len(values) else None
    for part in (values[:_PROBE], values):
        found = np.flatnonzero(~np.isnan(part))
        if len(found):
            return int(found[0])
    return None


class TextColumns:
    """Strict reading of numbers stored as text, over the consecutive tables of one file.

    Text formats (CSV) and string columns of the other formats may hold numbers as
    text.  Every cell of a column of strings, bytes or Python objects is one of

    * *missing*: empty, or one of :data:`MISSING_TEXT` (``nan``, ``NaN``, ``NA``,
      ``null``, ...), read as NaN;
    * a *number*: an integer or decimal with an optional exponent, ``inf``,
      ``-inf`` or ``infinity`` (surrounding spaces are ignored);
    * *text*: anything else, such as ``abc`` or ``1,5``.

    The rule for a column, over every table passed to one instance:

    * numbers (and missing cells) only: the column is converted to ``float64``,
      unless it holds an integer beyond 2**53 (an event or run identifier), which
      ``float64`` would round: such a column stays text, read exactly;
    * text (and missing cells) only: the column stays text, e.g. an identifier or
      a class name, which automatic feature selection leaves out;
    * numbers *and* text: :class:`~neyman.exceptions.DataError` naming the file,
      the row, the column and the first text cell.  A column of numbers with a few
      bad cells is an error, never silently turned into text or dropped.

    A numeric column of one table followed by a text column of the same name in
    a later table (a parser that guesses types per block) counts as mixed too.

    Parameters
    ----------
    source
        The file (and table) named in messages.
    header_lines
        For a text file, the lines before the first data row (1 for a header
        row, 0 without), so messages also give the line; None for other formats.

    Examples
    --------
    >>> check = TextColumns("events.csv", header_lines=1)
    >>> check.check(Table({"pt": np.array(["1.5", "", "inf"], dtype=object)}), 0)["pt"]
    array([1.5, nan, inf])
    """

    def __init__(self, source: str, *, header_lines: int | None = None) -> None:
        self.source = source
        self.header_lines = header_lines
        # the first number and the first text cell seen in each column, with their rows
        self._numbers: dict[str, tuple[int, Any]] = {}
        self._text: dict[str, tuple[int, Any]] = {}
        # columns of integers that float64 cannot hold exactly, kept as text
        self._exact: set[str] = set()

    def check(self, table: Table, first_row: int) -> Table:
        """Check the text columns of ``table`` and convert those of numbers to ``float64``.

        Parameters
        ----------
        table
            The next table read from the file.
        first_row
            The row number (from 0) in the file of the first row of ``table``.

        Returns
        -------
        Table
            ``table`` with its columns of numbers stored as text converted.

        Raises
        ------
        DataError
            When a column holds numbers and text (see the class notes).
        """
        converted: dict[str, np.ndarray] = {}
        for name, values in table.columns.items():
            if not isinstance(values, np.ndarray) or values.ndim != 1 or not len(values):
                continue
            if values.dtype.kind in "biuf":
                i = None if name in self._numbers else _first_number(values)
                if i is not None:
                    self._numbers[name] = (first_row + i, values[i].item())
                    self._raise_if_mixed(name)
                continue
            if values.dtype.kind not in "USO":
                continue
            numbers = self._column(name, values, first_row)
            if numbers is not None:
                converted[name] = numbers
        return table.with_columns(**converted) if converted else table

    def checked(self, tables: Iterable[Table], first_row: int) -> Iterator[Table]:
        """Apply :meth:`check` to consecutive tables whose first row is ``first_row``."""
        row = first_row
        for table in tables:
            yield self.check(table, row)
            row += len(table)

    def _column(self, name: str, values: np.ndarray, first_row: int) -> np.ndarray | None:
        """The column as ``float64`` when it holds numbers only; None when it stays as it is."""
        cells = values.tolist()
        kinds: dict[Any, int] = {}
        for cell in cells:
            try:
                if cell in kinds:
                    continue
                kind = _cell_kind(cell)
            except TypeError:  # unhashable (an array per event) or odd objects: not a column of cells
                return None
            if kind is None:
                return None
            kinds[cell] = kind
        found = set(kinds.values())
        for kind, seen in ((_NUMERIC, self._numbers), (_TEXT, self._text)):
            if kind in found and name not in seen:
                i = next(i for i, c in enumerate(cells) if kinds[c] == kind)
                cell = cells[i]
                seen[name] = (first_row + i, cell.decode("utf-8", "replace") if isinstance(cell, bytes) else cell)
        self._raise_if_mixed(name)
        if name in self._text or name not in self._numbers or name in self._exact:
            return None
        if any(kind == _NUMERIC and _beyond_float(cell) for cell, kind in kinds.items()):
            self._exact.add(name)  # identifiers such as 4611686018427387905: float64 would round them
            return None
        lookup = {cell: _cell_number(cell, kind) for cell, kind in kinds.items()}
        return np.fromiter((lookup[c] for c in cells), dtype=np.float64, count=len(cells))

    @staticmethod
    def is_number(cell: str) -> bool:
        """Whether the text ``cell`` reads as a number (``1``, ``-2.5e3``, ``inf``), spaces aside."""
        return _cell_kind(cell) == _NUMERIC

    def where(self, row: int) -> str:
        """``data row 3 (line 4)``: the row numbered from 0 as a message names it (from 1)."""
        where = f"data row {row + 1}"
        if self.header_lines is not None:
            where += f" (line {row + 1 + self.header_lines})"
        return where

    def _raise_if_mixed(self, name: str) -> None:
        if name not in self._text or name not in self._numbers:
            return
        row, value = self._text[name]
        number_row, number = self._numbers[name]
        raise DataError(
            f"{self.source}: column {name!r} holds {value!r} in {self.where(row)}, which is not a "
            f"number, while other cells of the column are numbers (e.g. {number!r} in data row "
            f"{number_row + 1}). Clean the cell "
            "(leave it empty or write nan for a missing value) or leave the column out of the "
            "features (--features, data.features)"
        )


# -- entry ranges and chunks --------------------------------------------------------


def entry_range(entry_start: int | None, entry_stop: int | None, n: int) -> tuple[int, int]:
    """Clip ``[entry_start, entry_stop)`` to ``[0, n]`` like a Python slice.

    Negative values count from the end; ``None`` means the start or the end.
    The result always has ``start <= stop``.
    """
    start, stop, _ = slice(
        None if entry_start is None else operator.index(entry_start),
        None if entry_stop is None else operator.index(entry_stop),
    ).indices(n)
    return start, max(start, stop)


def needs_length(entry_start: int | None, entry_stop: int | None) -> bool:
    """Whether resolving the range needs the number of entries (a negative bound)."""
    return (entry_start is not None and entry_start < 0) or (entry_stop is not None and entry_stop < 0)


def slice_table(table: Table, start: int, stop: int) -> Table:
    """Rows ``start:stop`` of ``table`` as views where the arrays allow it."""
    if start == 0 and stop >= len(table):
        return table
    return Table({n: v[start:stop] for n, v in table.columns.items()}, source=table.source)


def concat(tables: Sequence[Table]) -> Table:
    """Concatenate ``tables`` row-wise, keeping the source of the first."""
    if not tables:
        return Table({})
    if len(tables) == 1:
        return tables[0]
    out = Table.concat(tables)
    out.source = tables[0].source
    return out


def window(blocks: Iterable[Table], *, start: int = 0, stop: int | None = None, offset: int = 0) -> Iterator[Table]:
    """Yield the parts of a stream of consecutive blocks that fall in ``[start, stop)``.

    ``offset`` is the entry number of the first row of the first block.  Reading
    stops after the block that reaches ``stop``.  If no row is selected, one empty
    table with the columns of the first block is yielded so callers keep the schema.
    """
    pos = offset
    produced = False
    first: Table | None = None
    for block in blocks:
        if first is None:
            first = block
        lo, hi = pos, pos + len(block)
        pos = hi
        a = max(start, lo)
        b = hi if stop is None else min(stop, hi)
        if b > a:
            produced = True
            yield slice_table(block, a - lo, b - lo)
        if stop is not None and pos >= stop:
            break
    if not produced and first is not None:
        yield slice_table(first, 0, 0)


def rechunk(pieces: Iterable[Table], *, step_size: int) -> Iterator[Table]:
    """Regroup a stream of tables into tables of exactly ``step_size`` rows.

    The last table may be shorter; empty input tables are skipped.
    """
    pending: list[Table] = []
    n_pending = 0
    for piece in pieces:
        while len(piece):
            take = min(step_size - n_pending, len(piece))
            pending.append(slice_table(piece, 0, take))
            n_pending += take
            piece = slice_table(piece, take, len(piece))
            if n_pending == step_size:
                yield concat(pending)
                pending, n_pending = [], 0
    if n_pending:
        yield concat(pending)


def ranges(start: int, stop: int, step_size: int) -> Iterator[tuple[int, int]]:
    """Consecutive ``(a, b)`` bounds covering ``[start, stop)`` in steps of ``step_size``."""
    for a in range(start, stop, step_size):
        yield a, min(a + step_size, stop)


# -- writers ------------------------------------------------------------------------


class TableWriter(abc.ABC):
    """Appends tables with the same columns to one file.

    Obtain one from :func:`neyman.io.open_writer`, which writes to a temporary file
    and renames it into place only when the ``with`` block ends without error.

    Parameters
    ----------
    path
        The temporary file to write.
    final
        The destination, named in error messages.
    tree
        The tree (ROOT) or group (HDF5) name; ignored by flat formats.
    """

    def __init__(self, path: Path, *, final: Path, tree: str) -> None:
        self.path = path
        self.final = final
        self.tree = tree
        self.n_entries = 0
        self._columns: list[str] | None = None

    def write(self, table: Table) -> None:
        """Append the rows of ``table``; every call must have the same columns.

        Parameters
        ----------
        table
            The rows to append.
        """
        table = self._prepare(table)
        names = table.column_names
        if self._columns is None:
            self._columns = names
        elif names != self._columns:
            if set(names) != set(self._columns):
                diff = sorted(set(names) ^ set(self._columns))
                raise DataError(
                    f"cannot append to {self.final}: the columns differ from the first chunk "
                    f"written ({list_names(diff)}); every chunk must have the same columns"
                )
            table = table.select(self._columns)
        self._write(table)
        self.n_entries += len(table)

    def _prepare(self, table: Table) -> Table:
        """Check or reshape a table before it is written (hook for layouts)."""
        return table

    @abc.abstractmethod
    def _write(self, table: Table) -> None:
        """Append ``table`` to the file."""

    def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Finish the file (flush footers, headers, buffered rows)."""

    def abort(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release resources after an error; must not raise."""
