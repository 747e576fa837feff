"""NumPy files: ``.npy`` (one structured array) and ``.npz`` (one array per column).

An ``.npy`` file holding a structured array has one column per field; a plain
two-dimensional array has columns ``f0, f1, ...`` (a one-dimensional one the single
column ``f0``).  It is memory-mapped, so slices and chunks read only their rows.
An ``.npz`` archive has one column per array; chunks are read sequentially from
the (possibly compressed) members without loading them whole.  Pickled object
arrays are never loaded.
"""

from __future__ import annotations

import abc
import contextlib
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from neyman.exceptions import DataError
from neyman.io.core import (
    Backend,
    StoredTable,
    TableWriter,
    concat,
    list_names,
    ranges,
    reading,
    require_flat,
)
from neyman.table import Table

__all__ = ["NPY", "NPZ", "NpyFormat", "NpyWriter", "NpzFormat", "NpzWriter"]

_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError)
_SKIP_BYTES = 1 << 22  # bytes discarded per read when seeking forward in a zip member


# -- .npy ---------------------------------------------------------------------------


def _rewound(member: IO[bytes]) -> IO[bytes]:
    member.seek(0)
    return member


def _memmap(path: Path) -> np.ndarray:
    with reading(path, "NumPy .npy", _ERRORS):
        with path.open("rb") as member:  # np.load's own message for objects speaks of memory maps
            objects = member.read(6) == b"\x93NUMPY" and _header(_rewound(member))[2].hasobject
        if objects:
            raise DataError(
                f"{path} holds an array of Python objects (pickled), which neyman does not load; store "
                "numbers or fixed-width strings (a structured array with one field per column)"
            )
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    if not isinstance(array, np.ndarray):
        array.close()
        raise DataError(f"{path} is not an .npy file (it holds an archive); name it .npz")
    if array.ndim == 0 or array.ndim > 2 or (array.ndim == 2 and array.dtype.names):
        raise DataError(
            f"{path} holds an array of shape {array.shape}; a table needs a one-dimensional "
            "structured array or a two-dimensional array of shape (n_events, n_features)"
        )
    return array


def _npy_columns(array: np.ndarray) -> list[str]:
    if array.dtype.names:
        return list(array.dtype.names)
    return [f"f{j}" for j in range(array.shape[1] if array.ndim == 2 else 1)]


def _npy_slice(array: np.ndarray, names: Sequence[str], start: int, stop: int) -> dict[str, Any]:
    if array.dtype.names:
        return {n: np.array(array[n][start:stop]) for n in names}
    if array.ndim == 1:
        return {n: np.array(array[start:stop]) for n in names}
    return {n: np.array(array[start:stop, int(n[1:])]) for n in names}


class _NpyTable(StoredTable):
    """A memory-mapped ``.npy`` array: slices and chunks read only their rows."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.array = _memmap(path)

    @property
    def columns(self) -> list[str]:
        """Field names, or ``f0, f1, ...`` for a plain array."""
        return _npy_columns(self.array)

    def num_entries(self) -> int:
        """The length of the array, from the header."""
        return len(self.array)

    def rows(self, names: list[str], start: int, stop: int) -> Table:
        """A copy of the rows of the memory map."""
        return Table(_npy_slice(self.array, names, start, stop), source=self.source)

    def stream(self, names: list[str], start: int, stop: int, step_size: int) -> Iterator[Table]:
        """Copies of consecutive slices of the memory map."""
        return (
            Table(_npy_slice(self.array, names, a, b), source=self.source) for a, b in ranges(start, stop, step_size)
        )


class NpyFormat(Backend):
    """Reads ``.npy`` files by memory-mapping them."""

    def open(self, path: Path, tree: str | None) -> contextlib.AbstractContextManager[StoredTable]:
        """The memory-mapped array of ``path`` (``tree`` is ignored)."""
        return contextlib.nullcontext(_NpyTable(path))

    def open_writer(self, tmp: Path, *, final: Path, tree: str) -> NpyWriter:
        """An :class:`NpyWriter` on ``tmp``."""
        return NpyWriter(tmp, final=final, tree=tree)


# -- .npz ---------------------------------------------------------------------------


def _header(member: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member)
    return np.lib.format.read_array_header_2_0(member)


def _npz_index(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype[Any]]]:
    """Shape and dtype of each array in the archive, from the member headers only."""
    with reading(path, "NumPy .npz", _ERRORS), zipfile.ZipFile(path) as zf:
        index = {}
        for member in zf.namelist():
            if not member.endswith(".npy"):
                continue
            with zf.open(member) as fh:
                shape, _, dtype = _header(fh)
            index[member[: -len(".npy")]] = (shape, dtype)
    if not index:
        raise DataError(f"{path} holds no arrays")
    lengths: dict[str, int] = {}
    for name, (shape, dtype) in index.items():
        if not shape:
            raise DataError(f"array {name!r} in {path} is a scalar, not a column")
        if dtype.hasobject:
            raise DataError(
                f"array {name!r} in {path} holds pickled Python objects, which neyman does not "
                "load; store numbers or fixed-width strings"
            )
        lengths[name] = shape[0]
    first = next(iter(lengths))
    for name, n in lengths.items():
        if n != lengths[first]:
            raise DataError(
                f"array {name!r} in {path} has {n} entries but {first!r} has {lengths[first]}; "
                "the columns of a table must have the same length"
            )
    return index


class _MemberReader:
    """Reads consecutive rows of one C-ordered array stored in a zip member."""

    def __init__(self, zf: zipfile.ZipFile, name: str) -> None:
        self.fh = zf.open(name + ".npy")
        shape, fortran, self.dtype = _header(self.fh)
        self.inner = shape[1:]
        self.row_bytes = self.dtype.itemsize * int(np.prod(self.inner, dtype=np.int64))
        self.fortran = fortran and len(shape) > 1
        self.whole: np.ndarray | None = None
        self.pos = 0

    def read(self, start: int, stop: int) -> np.ndarray:
        if self.fortran:  # column-major members cannot be streamed row by row
            if self.whole is None:
                self.fh.seek(0)
                self.whole = np.lib.format.read_array(self.fh, allow_pickle=False)
            return np.array(self.whole[start:stop])
        skip = (start - self.pos) * self.row_bytes
        while skip > 0:
            skip -= len(self.fh.read(min(skip, _SKIP_BYTES)))
        want = (stop - start) * self.row_bytes
        data = self.fh.read(want)
        if len(data) != want:
            raise EOFError(f"member ended after {len(data)} of {want} bytes")
        self.pos = stop
        return np.frombuffer(data, dtype=self.dtype).reshape(-1, *self.inner).copy()


class _NpzTable(StoredTable):
    """An ``.npz`` archive, one column per array; rows are read from the members in order."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.index = _npz_index(path)

    @property
    def columns(self) -> list[str]:
        """The array names."""
        return list(self.index)

    def num_entries(self) -> int:
        """The common length of the arrays, from the member headers."""
        return self.index[next(iter(self.index))][0][0]

    def rows(self, names: list[str], start: int, stop: int) -> Table:
        """The selected arrays and rows."""
        chunks = list(_npz_chunks(self.path, names, start, stop, max(stop - start, 1)))
        if not chunks:
            empty = {c: np.empty((0, *self.index[c][0][1:]), self.index[c][1]) for c in names}
            return Table(empty, source=self.source)
        return concat(chunks)

    def stream(self, names: list[str], start: int, stop: int, step_size: int) -> Iterator[Table]:
        """Consecutive rows of the selected arrays."""
        return _npz_chunks(self.path, names, start, stop, step_size)


def _npz_chunks(path: Path, names: list[str], start: int, stop: int, step: int) -> Iterator[Table]:
    if start >= stop:
        return
    with reading(path, "NumPy .npz", _ERRORS), zipfile.ZipFile(path) as zf:
        readers = {n: _MemberReader(zf, n) for n in names}
        try:
            for a, b in ranges(start, stop, step):
                yield Table({n: r.read(a, b) for n, r in readers.items()}, source=str(path))
        finally:
            for r in readers.values():
                r.fh.close()


class NpzFormat(Backend):
    """Reads ``.npz`` archives, one column per array."""

    def open(self, path: Path, tree: str | None) -> contextlib.AbstractContextManager[StoredTable]:
        """The archive ``path``, from its member headers (``tree`` is ignored)."""
        return contextlib.nullcontext(_NpzTable(path))

    def open_writer(self, tmp: Path, *, final: Path, tree: str) -> NpzWriter:
        """An :class:`NpzWriter` on ``tmp``."""
        return NpzWriter(tmp, final=final, tree=tree)


# -- writers ------------------------------------------------------------------------


class _BufferedWriter(TableWriter):
    """Collects the chunks and writes the file when closed (NumPy headers need the length)."""

    def __init__(self, path: Path, *, final: Path, tree: str) -> None:
        super().__init__(path, final=final, tree=tree)
        self._chunks: list[Table] = []
        self._fh = open(path, "wb")  # noqa: SIM115 - closed in close()/abort()

    def _prepare(self, table: Table) -> Table:
        require_flat(table, path=self.final, kind="NumPy", fix="write Parquet or ROOT instead")
        objects = [n for n, v in table.columns.items() if v.dtype.hasobject]
        if objects:
            raise DataError(
                f"cannot write {self.final}: column(s) {list_names(objects)} hold Python objects, "
                "which would need pickling; convert them to numbers or fixed-width strings"
            )
        return table

    def _write(self, table: Table) -> None:
        self._chunks.append(table)

    def close(self) -> None:
        """Write the buffered rows and close the file."""
        try:
            if self._chunks:
                self._save(concat(self._chunks))
        finally:
            self._chunks = []
            self._fh.close()

    def abort(self) -> None:
        """Drop the buffered rows and close the file."""
        self._chunks = []
        self._fh.close()

    @abc.abstractmethod
    def _save(self, table: Table) -> None:
        """Write all rows of ``table`` to the open file."""


class NpyWriter(_BufferedWriter):
    """Writes one structured array whose fields are the columns."""

    def _save(self, table: Table) -> None:
        dtype = np.dtype([(n, v.dtype, v.shape[1:]) for n, v in table.columns.items()])
        out = np.empty(len(table), dtype=dtype)
        for name, values in table.columns.items():
            out[name] = values
        np.save(self._fh, out, allow_pickle=False)


class NpzWriter(_BufferedWriter):
    """Writes one uncompressed ``name.npy`` member per column, as :func:`numpy.savez` does.

    The archive is assembled here rather than by ``numpy.savez`` so that any column
    name is allowed (``savez`` reserves ``file`` and ``allow_pickle``).
    """

    def _save(self, table: Table) -> None:
        with zipfile.ZipFile(self._fh, mode="w", allowZip64=True) as zf:
            for name, values in table.columns.items():
                with zf.open(name + ".npy", mode="w", force_zip64=True) as member:
                    np.lib.format.write_array(member, values, allow_pickle=False)


NPY = NpyFormat()
"""The ``.npy`` backend."""
NPZ = NpzFormat()
"""The ``.npz`` backend."""
