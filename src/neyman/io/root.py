"""ROOT files via uproot: TTrees (and RNTuples) to tables, tables to TTrees.

Flat branches become NumPy arrays, fixed-size array branches multi-dimensional
NumPy arrays, and jagged branches (one list per event, e.g. the constituents of a
jet) Awkward arrays.  Writing a jagged column ``x`` also writes its counter branch
``nx`` (the number of entries per event), as ROOT needs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from neyman.exceptions import DataError, close_matches
from neyman.io.core import (
    Backend,
    StoredTable,
    TableWriter,
    is_jagged,
    list_names,
    numpy_or_awkward,
    ranges,
    reading,
)
from neyman.optional import require
from neyman.table import Table

__all__ = [
    "BASKET_SIZE",
    "ROOT",
    "RootFormat",
    "RootWriter",
    "available_columns",
    "iterate",
    "num_entries",
    "open_writer",
    "read",
]

BASKET_SIZE = 100_000
"""Entries per basket when writing; :func:`iterate` reads whole baskets."""

_TREE_CLASSES = ("TTree", "ROOT::RNTuple")


def _uproot() -> ModuleType:
    require("awkward", purpose="read and write ROOT files")
    return require("uproot", purpose="read and write ROOT files")


def _errors() -> tuple[type[BaseException], ...]:
    """What uproot may raise on a damaged file: anything.

    A damaged TTree mostly fails with a ``DeserializationError`` or a ``zlib.error``,
    but a damaged RNTuple trips assertions (``env_type_id=...``, ``num_bytes=...``),
    ``NotImplementedError``, ``StopIteration`` or ``TypeError`` deep inside uproot, so
    every ``Exception`` raised while opening or reading the file names the file
    as damaged (the original stays attached as the cause).
    """
    _uproot()
    return (Exception,)


def _trees(f: Any) -> list[str]:
    """Names of the trees in the file, directories included (``dir/tree``)."""
    classes = f.classnames(recursive=True, cycle=False)
    return [name for name, cls in classes.items() if cls in _TREE_CLASSES]


def _tree(f: Any, tree: str | None, path: Path) -> tuple[Any, str]:
    trees = _trees(f)
    if tree is None:
        if len(trees) == 1:
            return f[trees[0]], trees[0]
        if not trees:
            contents = list_names(f.keys(cycle=False))
            raise DataError(f"{path} holds no TTree; its contents: {contents}")
        raise DataError(
            f"{path} holds several trees ({list_names(trees)}); choose one: '{path}:{trees[0]}' (or --tree "
            f"{trees[0]}; tree= in Python)"
        )
    name, _, cycle = tree.partition(";")
    name = name.strip("/")
    if name not in trees:
        others = f.classnames(recursive=True, cycle=False)
        if name in others:
            raise DataError(
                f"{name!r} in {path} is a {others[name]}, not a TTree; trees in the file: {list_names(trees)}"
            )
        raise DataError(
            f"no tree {tree!r} in {path}{close_matches(name, trees)}; trees in the file: {list_names(trees)}"
        )
    if cycle:
        return _cycle(f, name, cycle, path)
    return f[name], name


def _cycle(f: Any, name: str, cycle: str, path: Path) -> tuple[Any, str]:
    """The tree ``name;cycle`` itself (a plain ``name`` is ROOT's highest cycle), or an error naming the cycles."""
    cycles = sorted(
        int(key.rpartition(";")[2])
        for key, cls in f.classnames(recursive=True, cycle=True).items()
        if key.rpartition(";")[0] == name and cls in _TREE_CLASSES
    )
    if not cycle.isdigit() or int(cycle) not in cycles:
        held = ", ".join(f"{name};{c}" for c in cycles)
        raise DataError(
            f"no cycle {cycle!r} of tree {name!r} in {path}: it holds {held}; name one of them, or give {name!r} "
            "alone for the highest"
        )
    return f[f"{name};{int(cycle)}"], f"{name};{int(cycle)}"


def _open(path: Path) -> Any:
    uproot = _uproot()
    with reading(path, "ROOT", _errors()):
        return uproot.open(path)


def _to_table(arrays: Any, names: Sequence[str], source: str) -> Table:
    return Table({n: numpy_or_awkward(arrays[n]) for n in names}, source=source)


class _RootTable(StoredTable):
    """A tree of an open ROOT file."""

    def __init__(self, path: Path, tree: Any, name: str) -> None:
        super().__init__(path, source=f"{path}:{name}")
        self.tree = tree
        self.name = name

    @property
    def columns(self) -> list[str]:
        """The branch names (sub-branches as ``parent/child``)."""
        return list(self.tree.keys())

    def num_entries(self) -> int:
        """The number of entries of the tree, from its metadata."""
        return int(self.tree.num_entries)

    def rows(self, names: list[str], start: int, stop: int) -> Table:
        """The selected branches and entries."""
        arrays = self.tree.arrays(names, entry_start=start, entry_stop=stop, library="ak")
        return _to_table(arrays, names, self.source)

    def stream(self, names: list[str], start: int, stop: int, step_size: int) -> Iterator[Table]:
        """``step_size`` entries at a time with ``tree.iterate``, from the file opened again."""
        return _chunks(self.path, self.name, names, start, stop, step_size)


def _chunks(path: Path, tree: str, names: list[str], start: int, stop: int, step: int) -> Iterator[Table]:
    if start >= stop:
        return
    source = f"{path}:{tree}"
    with _open(path) as f, reading(path, "ROOT", _errors()):
        chunks = f[tree].iterate(names, step_size=step, entry_start=start, entry_stop=stop, library="ak")
        for arrays in chunks:
            if len(arrays):
                yield _to_table(arrays, names, source)


class RootFormat(Backend):
    """Reads and writes ROOT files."""

    @contextlib.contextmanager
    def open(self, path: Path, tree: str | None) -> Iterator[StoredTable]:
        """The tree ``tree`` of ``path``; with None the only one."""
        with _open(path) as f, reading(path, "ROOT", _errors()):
            yield _RootTable(path, *_tree(f, tree, path))

    def open_writer(self, tmp: Path, *, final: Path, tree: str) -> RootWriter:
        """A :class:`RootWriter` on ``tmp`` (see :func:`neyman.io.open_writer`)."""
        return RootWriter(tmp, final=final, tree=tree)


def _counter(name: str) -> str:
    return "n" + name


class RootWriter(TableWriter):
    """Writes a TTree with ``uproot``: flat NumPy and jagged Awkward columns.

    A flat column that duplicates the counter branch of a jagged column (``nx``
    for ``x``, as read back from a file neyman wrote) is left to uproot, which
    writes it anyway.
    """

    def __init__(self, path: Path, *, final: Path, tree: str) -> None:
        super().__init__(path, final=final, tree=tree)
        self._file = _uproot().recreate(path)
        self._tree: Any = None

    def _prepare(self, table: Table) -> Table:
        import awkward as ak

        drop = []
        for name, values in table.columns.items():
            if isinstance(values, np.ndarray) and values.dtype.kind not in "biuf":
                raise DataError(
                    f"cannot write column {name!r} (dtype {values.dtype}) to {self.final}: ROOT "
                    "files written by neyman hold numbers only; convert it or write Parquet"
                )
            if not is_jagged(values) or values.ndim < 2:
                continue
            counter = _counter(name)
            if counter in table:
                if not np.array_equal(np.asarray(table[counter]), ak.to_numpy(ak.num(values))):
                    raise DataError(
                        f"cannot write {self.final}: column {counter!r} would be the counter "
                        f"branch of jagged column {name!r} but holds other values; rename it"
                    )
                drop.append(counter)
        return table.drop(drop) if drop else table

    def _types(self, table: Table) -> dict[str, Any]:
        types: dict[str, Any] = {}
        for name, values in table.columns.items():
            if is_jagged(values):
                types[name] = values.type.content
            else:
                types[name] = np.dtype((values.dtype, values.shape[1:]))
        return types

    def _write(self, table: Table) -> None:
        try:
            if self._tree is None:
                self._tree = self._file.mktree(self.tree, self._types(table))
            for a, b in ranges(0, len(table), BASKET_SIZE):
                self._tree.extend({n: v[a:b] for n, v in table.columns.items()})
        except (TypeError, ValueError) as exc:
            raise DataError(f"cannot write tree {self.tree!r} to {self.final}: {exc}") from exc

    def close(self) -> None:
        """Write the directory and close the file."""
        self._file.close()

    def abort(self) -> None:
        """Close the file without caring whether it is complete."""
        with contextlib.suppress(OSError, ValueError):
            self._file.close()


ROOT = RootFormat()
"""The ROOT backend; the functions of this module are its methods."""

read = ROOT.read
iterate = ROOT.iterate
num_entries = ROOT.num_entries
available_columns = ROOT.available_columns
open_writer = ROOT.open_writer
