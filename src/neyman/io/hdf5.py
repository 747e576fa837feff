"""HDF5 files via h5py.

Two layouts are read:

* **columns** — a group holding one dataset per column, all with the same first
  dimension (what :func:`neyman.io.write` produces, in group ``tree``);
* **records** — one compound (structured) dataset whose fields are the columns, or
  one plain two-dimensional dataset whose columns become ``f0, f1, ...``;
* **pandas** — a ``DataFrame`` written by ``pandas.to_hdf`` in its fixed format (a
  group with ``block<k>_items`` and ``block<k>_values``): the layout of the public
  top-tagging data set (key ``table``) and of the LHC Olympics feature files
  (key ``df``; :mod:`neyman.io.lhco` adds their dijet columns), read without pandas;
* **pandas table** — a ``DataFrame`` written by ``pandas.to_hdf(format="table")``
  (a group holding the compound dataset ``table``, whose fields are the frame's
  index and blocks of its columns), read without pandas or PyTables.  The frame's
  index is not a column: it holds the row numbers of the frame, never a feature.

Both pandas layouts give booleans, timestamps and durations back as such (not as the
bytes and integers they are stored as) and text as strings; the fixed format pickles
text, which is never loaded, so reading such a column is an error that says so.

With ``tree=None`` the table is found automatically when the file holds exactly
one: the root group's own column datasets, a single group of column datasets, or
a single record dataset.
"""

from __future__ import annotations

import codecs
import contextlib
import pickletools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from neyman.exceptions import DataError, close_matches
from neyman.io import lhco
from neyman.io.core import (
    Backend,
    StoredTable,
    TableWriter,
    list_names,
    ranges,
    reading,
    require_flat,
)
from neyman.optional import require
from neyman.table import Table

__all__ = ["HDF5", "Hdf5Format", "Hdf5Writer", "available_columns", "iterate", "num_entries", "open_writer", "read"]

_ERRORS = (OSError, ValueError, KeyError, RuntimeError)


_TIMES = ("datetime64", "timedelta64")
"""pandas' names of the time dtypes, stored as int64 with the unit in brackets."""


def _h5py() -> ModuleType:
    return require("h5py", purpose="read and write HDF5 files")


@dataclass
class _Layout:
    """Where the table lives in the file and how to slice its columns."""

    name: str  # group or dataset path, "/" for the root group
    kind: str  # "columns", "records", "matrix", "pandas" or "pandas-table"
    obj: Any
    columns: list[str]
    n: int
    # pandas: column -> (values dataset, index); pandas table: column -> (field, index or -1 for a field of its own)
    blocks: dict[str, tuple[str, int]] | None = None
    # pandas: the column's dtype where the stored one differs (bool, datetime64, "str" for encoded bytes)
    types: dict[str, str] | None = None
    # pandas fixed format: columns stored as pickled objects, which are never loaded -> the error to raise
    unreadable: dict[str, str] | None = None
    _cached: tuple[str, int, int, np.ndarray] | None = None

    def read(self, column: str, start: int, stop: int) -> np.ndarray:
        h5py = _h5py()
        if self.kind in ("pandas", "pandas-table"):
            assert self.blocks is not None
            if column in (self.unreadable or {}):
                raise DataError((self.unreadable or {})[column])
            dataset, j = self.blocks[column]
            cached = self._cached
            if cached is None or cached[:3] != (dataset, start, stop):
                # one read of the block's rows serves all of its columns
                rows = self.obj[dataset][start:stop] if self.kind == "pandas" else self.obj.fields(dataset)[start:stop]
                self._cached = cached = (dataset, start, stop, np.asarray(rows))
            values = np.ascontiguousarray(cached[3] if j < 0 else cached[3][:, j])
            kind = (self.types or {}).get(column, "")
            if kind == "bool":
                return values.astype(bool)
            if kind.startswith(_TIMES):
                return values.view(kind if "[" in kind else f"{kind}[ns]")  # pandas < 2 wrote no unit: ns
            if kind:  # text stored as bytes in the frame's encoding
                return np.array([v.decode(kind) for v in values.ravel()], dtype=object).reshape(values.shape)
            return values
        if self.kind == "columns":
            ds = self.obj[column]
            if h5py.check_string_dtype(ds.dtype) is not None:
                return np.asarray(ds.asstr()[start:stop], dtype=object)
            return np.asarray(ds[start:stop])
        if self.kind == "records":
            return np.ascontiguousarray(self.obj.fields([column])[start:stop][column])
        return np.ascontiguousarray(self.obj[start:stop, self.columns.index(column)])


def _is_column(obj: Any, h5py: ModuleType) -> bool:
    return isinstance(obj, h5py.Dataset) and obj.ndim >= 1 and obj.dtype.names is None


def _is_records(obj: Any, h5py: ModuleType) -> bool:
    return isinstance(obj, h5py.Dataset) and (
        (obj.ndim == 1 and obj.dtype.names is not None) or (obj.ndim == 2 and obj.dtype.names is None)
    )


def _tables(group: Any, h5py: ModuleType) -> list[str]:
    """Names of the members of ``group`` that hold a table."""
    found = []
    for name, obj in group.items():
        if isinstance(obj, h5py.Group):
            if any(_is_column(o, h5py) for o in obj.values()) or _is_pandas_table(obj):
                found.append(name)
        elif _is_records(obj, h5py):
            found.append(name)
    return found


def _nested_tables(f: Any, h5py: ModuleType) -> list[str]:
    """Paths of the tables in groups below the top level (searched when the top level holds none)."""
    found: list[str] = []

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Group) and not any(f"{name}/".startswith(f"{t}/") for t in found):
            found.extend(f"{name}/{t}" for t in _tables(obj, h5py))

    f.visititems(visit)
    return found


def _layout(f: Any, tree: str | None, path: Path) -> _Layout:
    h5py = _h5py()
    if tree is None:
        own = [n for n, o in f.items() if _is_column(o, h5py) and o.ndim == 1]
        tables = _tables(f, h5py) or ([] if own else _nested_tables(f, h5py))
        if own and not tables:
            return _group_layout(f, "/", path)
        if not own and len(tables) == 1:
            tree = tables[0]
        else:
            found = (["/"] if own else []) + tables
            if not found:
                raise DataError(
                    f"{path} holds no table: expected a group of one-dimensional datasets or a compound dataset"
                )
            raise DataError(
                f"{path} holds several tables ({list_names(found)}); choose one: '{path}:{found[0]}' (or --tree "
                f"{found[0]}; tree= in Python)"
            )
    if tree in ("", "/"):
        return _group_layout(f, "/", path)
    obj = f.get(tree)
    if obj is None:
        tables = _tables(f, h5py)
        raise DataError(
            f"no group or dataset {tree!r} in {path}{close_matches(tree, tables)}; "
            f"tables in the file: {list_names(tables)}"
        )
    if isinstance(obj, h5py.Group):
        return _group_layout(obj, tree, path)
    if obj.name.rsplit("/", 1)[-1] == "table" and _is_pandas_table(obj.parent):
        return _pandas_table_layout(obj.parent, tree, path)  # the dataset of a pandas table: its frame
    n = int(obj.shape[0]) if obj.ndim else 0
    if obj.ndim == 1 and obj.dtype.names is not None:
        return _Layout(tree, "records", obj, list(obj.dtype.names), n)
    if obj.ndim == 2 and obj.dtype.names is None:
        return _Layout(tree, "matrix", obj, [f"f{j}" for j in range(obj.shape[1])], n)
    raise DataError(
        f"dataset {tree!r} in {path} has shape {obj.shape} and is not a table; give a group of "
        "column datasets, a compound dataset or a two-dimensional dataset"
    )


def _pandas_layout(group: Any, name: str, path: Path) -> _Layout:
    """A pandas fixed-format frame: the columns of every ``block<k>_items``, in the frame's order.

    Booleans (stored as an HDF5 bit field) and timestamps (int64 with a ``value_type``)
    come back as such; text blocks are pickled Python objects, which are never
    loaded: their columns are listed but reading one is an error.
    """
    h5py = _h5py()
    blocks: dict[str, tuple[str, int]] = {}
    types: dict[str, str] = {}
    unreadable: dict[str, str] = {}
    for k in range(int(group.attrs.get("nblocks", 0))):
        items = [v.decode() if isinstance(v, bytes) else str(v) for v in group[f"block{k}_items"][()]]
        values = group[f"block{k}_values"]
        if values.dtype == object:
            for item in items:
                blocks[item] = (f"block{k}_values", 0)
                unreadable[item] = (
                    f"column {item!r} of the pandas frame in group {name!r} of {path} is stored as pickled "
                    "Python objects (text), which neyman never loads; write the frame with "
                    "to_hdf(format='table') or to_parquet, or leave the column out"
                )
            continue
        if values.ndim != 2 or values.shape[1] != len(items):
            raise DataError(f"group {name!r} of {path}: block {k} of the pandas frame is not a table of its columns")
        stored = values.attrs.get("value_type")
        kind = stored.decode() if isinstance(stored, bytes) else str(stored or "")
        if values.id.get_type().get_class() == h5py.h5t.BITFIELD:
            kind = "bool"
        for j, item in enumerate(items):
            blocks[item] = (f"block{k}_values", j)
            if kind == "bool" or kind.startswith(_TIMES):
                types[item] = kind
    order = [v.decode() if isinstance(v, bytes) else str(v) for v in group["axis0"][()]]
    columns = [c for c in order if c in blocks]
    return _Layout(name, "pandas", group, columns, int(group["axis1"].shape[0]), blocks, types, unreadable)


def _is_pandas_frame(group: Any) -> bool:
    kind = group.attrs.get("pandas_type")
    return (kind.decode() if isinstance(kind, bytes) else kind) == "frame"


def _is_pandas_table(group: Any) -> bool:
    """Whether ``group`` holds a frame written by ``pandas.to_hdf(format="table")``."""
    kind = group.attrs.get("pandas_type")
    table = group.get("table")
    named = getattr(getattr(table, "dtype", None), "names", None)
    return (kind.decode() if isinstance(kind, bytes) else kind) == "frame_table" and named is not None


_PICKLED_VALUES = ("UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "INT", "BININT", "BININT1", "BININT2")
"""Pickle opcodes that push a string or an integer: the only values :func:`_pickled_names` takes."""


def _pickled_names(data: bytes) -> Any:
    """The lists, tuples, strings and integers of a pickle, read opcode by opcode, or None.

    Nothing is unpickled: the opcodes are walked with :func:`pickletools.genops` and
    only those that build lists and tuples of strings and integers are followed; a
    pickle with any other opcode (a class, a function, a float, a reduction) gives None.
    """
    stack: list[Any] = []
    memo: dict[Any, Any] = {}
    marks: list[int] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            name = op.name
            if name in _PICKLED_VALUES:
                stack.append(arg)
            elif name in ("EMPTY_LIST", "EMPTY_TUPLE"):
                stack.append([] if name == "EMPTY_LIST" else ())
            elif name == "MARK":
                marks.append(len(stack))
            elif name in ("APPEND", "APPENDS", "LIST", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"):
                start = (
                    marks.pop()
                    if name in ("APPENDS", "LIST", "TUPLE")
                    else len(stack) - (1 if name == "APPEND" else int(name[-1]))
                )
                if start < 0:
                    return None
                items = stack[start:]
                del stack[start:]
                if name.startswith("APPEND"):
                    stack[-1].extend(items)  # a tuple has no extend: AttributeError, None
                elif name == "LIST":
                    stack.append(items)
                else:
                    stack.append(tuple(items))
            elif name in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
                memo[len(memo) if name == "MEMOIZE" else arg] = stack[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
            elif name == "STOP":
                return stack[0] if len(stack) == 1 else None
            elif name not in ("PROTO", "FRAME"):
                return None
    except (ValueError, KeyError, IndexError, AttributeError, TypeError):
        return None
    return None


def _attribute(obj: Any, key: str) -> Any:
    """The pickled attribute ``key`` of ``obj`` (PyTables pickles pandas' lists of names), or None."""
    raw = obj.attrs.get(key)
    if raw is None:
        return None
    data = raw.encode("latin-1") if isinstance(raw, str) else np.asarray(raw).tobytes()
    return _pickled_names(data)


def _pandas_table_layout(group: Any, name: str, path: Path) -> _Layout:
    """A pandas table-format frame: the fields of dataset ``table`` but the index, blocks split into columns."""
    table = group["table"]
    blocks: dict[str, tuple[str, int]] = {}
    types: dict[str, str] = {}
    stored_encoding = group.attrs.get("encoding", b"UTF-8")
    encoding = stored_encoding.decode() if isinstance(stored_encoding, bytes) else str(stored_encoding)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataError(
            f"group {name!r} of {path}: the pandas table names the unknown text encoding {encoding!r}; "
            "write the frame with to_parquet"
        ) from None
    for field in table.dtype.names:
        if field == "index":
            continue
        width = table.dtype[field].shape
        items = _attribute(table, f"{field}_kind") if width else [field]
        if not isinstance(items, list) or len(items) != (width[0] if width else 1):
            raise DataError(
                f"group {name!r} of {path}: cannot tell the columns of field {field!r} of the pandas table; "
                "write the frame with to_hdf(format='fixed') or to_parquet"
            )
        stored = table.attrs.get(f"{field}_dtype")
        kind = stored.decode() if isinstance(stored, bytes) else str(stored or "")
        if table.dtype[field].base.kind == "S":
            kind = encoding  # text, stored as bytes in the frame's encoding
        for j, item in enumerate(items):
            blocks[str(item)] = (field, j if width else -1)
            if kind == "bool" or kind.startswith(_TIMES) or kind == encoding:
                types[str(item)] = kind
    axes = _attribute(group, "non_index_axes")
    # [(1, [the frame's columns in order])]
    known = isinstance(axes, list) and axes and isinstance(axes[0], tuple) and len(axes[0]) == 2
    order = [str(c) for c in axes[0][1]] if known and isinstance(axes[0][1], list) else []
    columns = [c for c in order if c in blocks] + [c for c in blocks if c not in order]
    return _Layout(name, "pandas-table", table, columns, int(table.shape[0]), blocks, types)


def _group_layout(group: Any, name: str, path: Path) -> _Layout:
    h5py = _h5py()
    if _is_pandas_frame(group):
        return _pandas_layout(group, name, path)
    if _is_pandas_table(group):
        return _pandas_table_layout(group, name, path)
    columns = [n for n, o in group.items() if _is_column(o, h5py)]
    if not columns:
        raise DataError(f"group {name!r} of {path} holds no column datasets")
    lengths = {c: int(group[c].shape[0]) for c in columns}
    n = lengths[columns[0]]
    for c, length in lengths.items():
        if length != n:
            raise DataError(
                f"dataset {c!r} in group {name!r} of {path} has {length} entries but "
                f"{columns[0]!r} has {n}; the columns of a table must have the same length"
            )
    return _Layout(name, "columns", group, columns, n)


def _source(path: Path, layout: _Layout) -> str:
    return str(path) if layout.name == "/" else f"{path}:{layout.name}"


def _open(path: Path) -> Any:
    h5py = _h5py()
    with reading(path, "HDF5", _ERRORS):
        return h5py.File(path, "r")


class _Hdf5Table(StoredTable):
    """A table of an open HDF5 file: a group of column datasets or a record dataset."""

    def __init__(self, path: Path, layout: _Layout) -> None:
        super().__init__(path, source=_source(path, layout))
        self.layout = layout

    @property
    def columns(self) -> list[str]:
        """The datasets of the group or the fields of the compound dataset.

        An LHC Olympics feature table also offers the columns that
        :mod:`neyman.io.lhco` derives from it.
        """
        if lhco.is_lhco(self.layout.columns):
            return [*self.layout.columns, *lhco.DERIVED]
        return self.layout.columns

    def num_entries(self) -> int:
        """The number of entries, from the dataset shapes."""
        return self.layout.n

    def rows(self, names: list[str], start: int, stop: int) -> Table:
        """Only these rows are read from disk."""
        return Table(_read(self.layout, names, start, stop), source=self.source)

    def stream(self, names: list[str], start: int, stop: int, step_size: int) -> Iterator[Table]:
        """Consecutive slices of ``step_size`` entries, from the file opened again."""
        return _chunks(self.path, self.layout.name, names, start, stop, step_size)


def _chunks(path: Path, tree: str, names: list[str], start: int, stop: int, step: int) -> Iterator[Table]:
    with _open(path) as f, reading(path, "HDF5", _ERRORS):
        layout = _layout(f, tree, path)
        source = _source(path, layout)
        for a, b in ranges(start, stop, step):
            yield Table(_read(layout, names, a, b), source=source)


def _read(layout: _Layout, names: list[str], start: int, stop: int) -> dict[str, np.ndarray]:
    """The columns ``names`` of rows ``start:stop``; LHC Olympics columns derived on the fly."""
    if lhco.is_lhco(layout.columns):
        return lhco.with_derived(names, lambda c: layout.read(c, start, stop))
    return {c: layout.read(c, start, stop) for c in names}


class Hdf5Format(Backend):
    """Reads and writes HDF5 files."""

    @contextlib.contextmanager
    def open(self, path: Path, tree: str | None) -> Iterator[StoredTable]:
        """The table ``tree`` (a group or a dataset) of ``path``; with None the only one."""
        with _open(path) as f, reading(path, "HDF5", _ERRORS):
            yield _Hdf5Table(path, _layout(f, tree, path))

    def open_writer(self, tmp: Path, *, final: Path, tree: str) -> Hdf5Writer:
        """An :class:`Hdf5Writer` on ``tmp`` (see :func:`neyman.io.open_writer`)."""
        return Hdf5Writer(tmp, final=final, tree=tree)


class Hdf5Writer(TableWriter):
    """Writes one resizable dataset per flat column into group ``tree`` (``"/"``: the root)."""

    def __init__(self, path: Path, *, final: Path, tree: str) -> None:
        super().__init__(path, final=final, tree=tree)
        self._h5py = _h5py()
        # track_order keeps the columns in the order of the table rather than alphabetical
        self._file = self._h5py.File(path, "w", track_order=True)
        root = tree in ("", "/")
        self._group = self._file if root else self._file.create_group(tree, track_order=True)

    def _prepare(self, table: Table) -> Table:
        require_flat(table, path=self.final, kind="HDF5", fix="write Parquet or ROOT instead")
        for name in table.column_names:
            if "/" in name or name in (".", ""):
                raise DataError(
                    f"cannot write {self.final}: column name {name!r} is not a valid HDF5 "
                    "dataset name (no '/'); rename the column"
                )
        return table

    def _write(self, table: Table) -> None:
        for name, values in table.columns.items():
            values, dtype = self._storable(name, values)
            ds = self._group.get(name)
            try:
                if ds is None:
                    self._group.create_dataset(
                        name,
                        data=values,
                        dtype=dtype,
                        maxshape=(None, *values.shape[1:]),
                        chunks=True,
                    )
                else:
                    n = ds.shape[0]
                    ds.resize(n + len(values), axis=0)
                    ds[n:] = values
            except (TypeError, ValueError) as exc:
                raise DataError(f"cannot write column {name!r} (dtype {values.dtype}) to {self.final}: {exc}") from exc

    def _storable(self, name: str, values: np.ndarray) -> tuple[np.ndarray, Any]:
        """Strings become variable-length UTF-8; other objects cannot be stored."""
        if values.dtype.kind == "U" or (values.dtype == object and all(isinstance(v, str) for v in values.ravel())):
            return values.astype(object), self._h5py.string_dtype("utf-8")
        if values.dtype == object:
            raise DataError(
                f"cannot write column {name!r} to {self.final}: it holds Python objects; "
                "convert it to numbers or strings"
            )
        return values, values.dtype

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()

    def abort(self) -> None:
        """Close the file without caring whether it is complete."""
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            self._file.close()


HDF5 = Hdf5Format()
"""The HDF5 backend; the functions of this module are its methods."""

read = HDF5.read
iterate = HDF5.iterate
num_entries = HDF5.num_entries
available_columns = HDF5.available_columns
open_writer = HDF5.open_writer
