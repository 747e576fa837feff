"""Choose the format of a file and hand the call to the module that reads it."""

from __future__ import annotations

import contextlib
import importlib
import operator
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

from neyman.atomic import atomic_path
from neyman.exceptions import DataError, close_matches
from neyman.io.constituents import with_constituent_layouts
from neyman.io.core import Backend, TableWriter, check_file
from neyman.table import Table

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "available_columns",
    "detect_format",
    "index_columns",
    "iterate",
    "num_entries",
    "open_writer",
    "parse_source",
    "read",
    "write",
]

EXTENSIONS: dict[str, str] = {
    ".root": "root",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".hdf": "hdf5",
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "csv",
    ".tsv.gz": "csv",
    ".txt": "csv",
    ".txt.gz": "csv",
    ".npy": "npy",
    ".npz": "npz",
}
"""File name endings (lower case) and the format they imply."""

# format -> (module, attribute holding the backend object)
_BACKENDS: dict[str, tuple[str, str]] = {
    "root": ("neyman.io.root", "ROOT"),
    "parquet": ("neyman.io.parquet", "PARQUET"),
    "hdf5": ("neyman.io.hdf5", "HDF5"),
    "csv": ("neyman.io.csv", "CSV"),
    "npy": ("neyman.io.numpy", "NPY"),
    "npz": ("neyman.io.numpy", "NPZ"),
    "uci-susy": ("neyman.io.datasets", "SUSY"),
    "uci-higgs": ("neyman.io.datasets", "HIGGS"),
}

TREE_FORMATS = ("root", "hdf5")
"""The formats whose files hold several named tables (ROOT trees, HDF5 groups)."""

FORMATS: tuple[str, ...] = tuple(_BACKENDS)
"""Every format name accepted by ``format=``."""


def _ending(path: str) -> str:
    """The known extension ``path`` ends with (longest first), or ``""``."""
    lower = path.lower()
    for ext in sorted(EXTENSIONS, key=len, reverse=True):
        if lower.endswith(ext):
            return ext
    return ""


def parse_source(spec: str) -> tuple[str, str | None]:
    """Split a ``"file.root:tree"`` specification into the file and the tree.

    Only the last colon splits, and only when the part before it ends in a known
    data file extension, so Windows drive letters (``C:\\data.root``) and URLs
    (``root://host//f.root``) are left alone.

    Parameters
    ----------
    spec
        A path, optionally followed by ``:`` and a tree (or HDF5 group) name.

    Returns
    -------
    tuple
        ``(file, tree)``; ``tree`` is ``None`` when the specification names none.

    Raises
    ------
    DataError
        A tree named after a file of a format without trees (``data.parquet:events``).

    Examples
    --------
    >>> parse_source("signal.root:Events")
    ('signal.root', 'Events')
    >>> parse_source("C:/data/signal.root")
    ('C:/data/signal.root', None)
    """
    head, sep, tail = spec.rpartition(":")
    if sep and _ending(head):
        fmt = EXTENSIONS[_ending(head)]
        if tail and fmt not in TREE_FORMATS and not os.path.exists(spec):
            raise DataError(
                f"{spec}: ':{tail}' names a tree or group, which only ROOT and HDF5 files hold; {head} is {fmt}: "
                "give the file alone"
            )
        return head, (tail or None)
    return spec, None


def detect_format(path: str | os.PathLike[str], format: str | None = None, *, output: bool = False) -> str:
    """The format of ``path``: ``format`` when given, else from the extension.

    Parameters
    ----------
    path
        The file name.
    format
        An explicit format, one of :data:`FORMATS`; wins over the extension.
    output
        ``path`` is a file to write: an unknown extension's error asks for a known
        one (a file to read may instead name its format).

    Raises
    ------
    DataError
        For an unknown ``format`` or an extension that names no known format.
    """
    if format is not None:
        fmt = format.lower()
        if fmt not in _BACKENDS:
            raise DataError(
                f"unknown format {format!r} for {os.fspath(path)}{close_matches(fmt, FORMATS)}; "
                f"known formats: {', '.join(FORMATS)}"
            )
        return fmt
    name = Path(path).name
    ext = _ending(name)
    if not ext:
        suffix = "".join(Path(name).suffixes) or "(none)"
        if output:
            raise DataError(
                f"cannot tell the format of the output {os.fspath(path)} from its extension {suffix!r}: a file is "
                f"written in the format its extension names; give it one of {', '.join(EXTENSIONS)} "
                f"(e.g. {Path(path).with_suffix('.parquet')})"
            )
        raise DataError(
            f"cannot tell the format of {os.fspath(path)} from its extension {suffix!r}; "
            f"known extensions: {', '.join(EXTENSIONS)}. Rename the file to one of them, or name its format "
            f"(one of {', '.join(FORMATS)}) with train's --format, data.format, or format= in Python"
        )
    return EXTENSIONS[ext]


def _backend(fmt: str) -> Backend:
    module_name, attribute = _BACKENDS[fmt]
    backend = getattr(importlib.import_module(module_name), attribute)
    return cast(Backend, backend)


def _locate(path: str | os.PathLike[str], tree: str | None, format: str | None) -> tuple[Path, str | None, Backend]:
    """Resolve ``file:tree`` specifications, check the file and pick its reader."""
    file = Path(path)
    if isinstance(path, str) and not os.path.exists(file):  # never raises (a name too long is 'missing')
        name, spec_tree = parse_source(path)
        if spec_tree is not None:
            if tree is not None and tree != spec_tree:
                raise DataError(f"{path} names tree {spec_tree!r} but tree={tree!r} was passed; give only one")
            file, tree = Path(name), spec_tree
    check_file(file)
    fmt = detect_format(file, format)
    _check_content(file, fmt, format is not None)
    return file, tree, with_constituent_layouts(_backend(fmt))


_SIGNATURES = {
    b"\x89HDF\r\n\x1a\n": "hdf5",
    b"\x93NUMPY": "npy",
    b"PK\x03\x04": "npz",
}
"""The first bytes of binary formats that no text starts with (a ``.npz`` is a zip archive)."""

_EXTENSION = {"parquet": ".parquet", "hdf5": ".h5", "root": ".root", "npy": ".npy", "npz": ".npz"}
_NAMED = {"parquet": "a Parquet", "hdf5": "an HDF5", "root": "a ROOT", "npy": "a NumPy .npy", "npz": "an .npz (zip)"}


def _binary_format(file: Path) -> str | None:
    """The binary format a file's bytes show, or None (text, or no signature neyman knows).

    Parquet starts and ends with ``PAR1``; ROOT starts with ``root`` and a binary version
    number, so a text file whose first column is named ``PAR1...`` or ``root...`` is text.
    """
    try:
        with file.open("rb") as handle:
            start = handle.read(8)
            handle.seek(max(0, file.stat().st_size - 4))
            end = handle.read(4)
    except OSError:
        return None  # the reader names the file and the reason
    if start.startswith(b"PAR1") and end == b"PAR1":
        return "parquet"
    if start.startswith(b"root") and any(b < 0x09 or b > 0x7E for b in start[4:8]):
        return "root"
    return next((kind for magic, kind in _SIGNATURES.items() if start.startswith(magic)), None)


def _check_content(file: Path, fmt: str, named: bool) -> None:
    """Refuse a file whose bytes are another binary format's than the one it is to be read as."""
    found = _binary_format(file)
    if found is None or found == fmt:
        return
    if named:
        fix = f"give {found} as its format, or none (train's --format, data.format, format=)"
        raise DataError(
            f"{file} is {_NAMED[found]} file (its first bytes say so), not {fmt} as its format was given: {fix}"
        )
    raise DataError(
        f"{file} is {_NAMED[found]} file (its first bytes say so), but its extension reads it as {fmt}: rename it "
        f"(e.g. to {file.name.split('.')[0]}{_EXTENSION[found]})"
    )


def _columns(columns: Sequence[str] | None) -> list[str] | None:
    if columns is None:
        return None
    return [columns] if isinstance(columns, str) else list(columns)


def _bound(value: int | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return operator.index(value)
    except TypeError:
        raise DataError(f"{name} must be an integer entry number, got {value!r}") from None


def read(
    path: str | os.PathLike[str],
    *,
    tree: str | None = None,
    columns: Sequence[str] | None = None,
    entry_start: int | None = None,
    entry_stop: int | None = None,
    format: str | None = None,
) -> Table:
    """Read (part of) a file into a :class:`~neyman.table.Table`.

    Parameters
    ----------
    path
        The file; ``"file.root:tree"`` also names the tree.
    tree
        ROOT tree or HDF5 group; by default the only one in the file.
    columns
        Columns (branches) to read; all by default.
    entry_start, entry_stop
        Entry range, with Python slice semantics (negative counts from the end,
        clipped to the number of entries).
    format
        Explicit format (see :data:`FORMATS`); by default from the extension.

    Returns
    -------
    Table
        Flat columns as NumPy arrays, jagged ones as Awkward arrays; its
        ``source`` names the file (and the tree).

    Raises
    ------
    DataError
        If the file is missing, empty, corrupt or of unknown format, or a column
        or tree does not exist.
    """
    file, tree, backend = _locate(path, tree, format)
    return backend.read(
        file,
        tree=tree,
        columns=_columns(columns),
        entry_start=_bound(entry_start, "entry_start"),
        entry_stop=_bound(entry_stop, "entry_stop"),
    )


def iterate(
    path: str | os.PathLike[str],
    *,
    tree: str | None = None,
    columns: Sequence[str] | None = None,
    step_size: int = 100_000,
    entry_start: int | None = None,
    entry_stop: int | None = None,
    format: str | None = None,
) -> Iterator[Table]:
    """Read a file chunk by chunk, never holding more than one chunk in memory.

    Parameters
    ----------
    path, tree, columns, entry_start, entry_stop, format
        As in :func:`read`.
    step_size
        Entries per chunk; every chunk but the last has exactly this many.

    Yields
    ------
    Table
        Consecutive chunks of the selected entries.

    Notes
    -----
    The file, the tree and the columns are checked before the first chunk is
    requested, so errors surface at the call rather than in the loop.
    """
    step = _bound(step_size, "step_size")
    if step is None or step <= 0:
        raise DataError(f"step_size must be a positive number of entries, got {step_size!r}")
    file, tree, backend = _locate(path, tree, format)
    return backend.iterate(
        file,
        tree=tree,
        columns=_columns(columns),
        step_size=step,
        entry_start=_bound(entry_start, "entry_start"),
        entry_stop=_bound(entry_stop, "entry_stop"),
    )


def num_entries(path: str | os.PathLike[str], *, tree: str | None = None, format: str | None = None) -> int:
    """The number of entries (events) in a file, from its metadata where possible.

    Parameters
    ----------
    path, tree, format
        As in :func:`read`.

    Notes
    -----
    ROOT, Parquet, HDF5, ``.npy`` and ``.npz`` answer from metadata; text formats
    (CSV and the UCI layouts) have to be scanned.
    """
    file, tree, backend = _locate(path, tree, format)
    return backend.num_entries(file, tree=tree)


def available_columns(path: str | os.PathLike[str], *, tree: str | None = None, format: str | None = None) -> list[str]:
    """The column (branch) names of a file, read from its metadata or header.

    Parameters
    ----------
    path, tree, format
        As in :func:`read`.
    """
    file, tree, backend = _locate(path, tree, format)
    return backend.available_columns(file, tree=tree)


def index_columns(path: str | os.PathLike[str], *, tree: str | None = None, format: str | None = None) -> list[str]:
    """The columns of a file that hold the row index pandas wrote along with its frame.

    A Parquet file written by ``DataFrame.to_parquet`` names them in its pandas metadata
    (a named index is stored as an ordinary column of its name).  Other formats drop
    pandas' index when read (HDF5) or cannot tell it (CSV): none.

    Parameters
    ----------
    path, tree, format
        As in :func:`read`.
    """
    file, tree, backend = _locate(path, tree, format)
    return backend.index_columns(file, tree=tree)


@contextlib.contextmanager
def open_writer(
    path: str | os.PathLike[str], *, tree: str = "events", format: str | None = None
) -> Iterator[TableWriter]:
    """Open a file for writing tables chunk by chunk, atomically.

    Rows go to a temporary file next to ``path`` (``.name.tmp-<pid>``) that is
    renamed to ``path`` when the ``with`` block ends without error; on any error
    the temporary file is removed and an existing file at ``path`` is left as it
    was.  Parent directories are created.

    Parameters
    ----------
    path
        The destination; its extension gives the format unless ``format`` is set.
    tree
        ROOT tree or HDF5 group to write; ignored by flat formats.
    format
        Explicit format (see :data:`FORMATS`).

    Yields
    ------
    TableWriter
        Call ``writer.write(table)`` for each chunk; all chunks need the same columns.

    Examples
    --------
    >>> with open_writer(tmp_path / "scored.parquet") as writer:  # doctest: +SKIP
    ...     for chunk in iterate("events.root:Events"):
    ...         writer.write(chunk)
    """
    final = Path(path)
    backend = _backend(detect_format(final, format, output=True))
    if final.is_dir():
        raise DataError(f"cannot write {final}: it is a directory; give a file name")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create directory {final.parent} for {final.name}: {exc}") from exc
    with atomic_path(final) as tmp:
        try:
            writer = backend.open_writer(tmp, final=final, tree=tree)
        except OSError as exc:
            raise DataError(f"cannot write {final}: {exc}") from exc
        try:
            yield writer
            writer.close()
        except BaseException:
            writer.abort()
            raise


def write(
    table: Table,
    path: str | os.PathLike[str],
    *,
    tree: str = "events",
    format: str | None = None,
) -> Path:
    """Write ``table`` to ``path`` atomically.

    Parameters
    ----------
    table
        The columns to write.
    path
        The destination; its extension gives the format unless ``format`` is set.
        Parent directories are created; an existing file is replaced only once the
        new one is complete.
    tree
        ROOT tree or HDF5 group name.
    format
        Explicit format (see :data:`FORMATS`), e.g. ``"uci-susy"`` for the
        headerless UCI layout.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    with open_writer(path, tree=tree, format=format) as writer:
        writer.write(table)
    return Path(path)
