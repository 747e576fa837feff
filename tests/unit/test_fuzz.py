"""Hostile input never costs a traceback: property-based fuzzing of neyman's input boundaries.

The contract (:mod:`neyman.exceptions`, docs/reliability.md): any input gives either a correct
result or a :class:`~neyman.exceptions.NeymanError` subclass, never another exception type and
never a hang, and a refused output path changes nothing on disk.  Hypothesis throws generated input at

1. the readers (:func:`neyman.io.read` and friends): arbitrary bytes, damaged files of every
   format, CSV text from a grammar, random paths, and write/read round trips;
2. the selection language (:func:`~neyman.preprocessing.selection.parse_selection`): random text,
   hostile Python, and well-formed expressions checked against a NumPy reference;
3. the configuration loader (:mod:`neyman.config`): random YAML documents, mappings, overrides,
   deep nesting;
4. the path guard (:mod:`neyman.runs.guard`) and the command line's run and output paths.

Every test is derandomised (``derandomize=True``, no example database) so CI sees the same
examples on every run, and sized so the whole file runs in a few tens of seconds.  Every input
that once broke the contract (found by these tests, then fixed) is kept as an explicit
``@example``, so it is tried first on every run.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import functools
import gzip
import math
import os
import re
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from neyman import io
from neyman.config import apply_overrides, load_config, parse_config, resolve_config
from neyman.config.schema import RunConfig
from neyman.exceptions import ConfigError, DataError, NeymanError
from neyman.preprocessing.selection import SELECTION_FUNCTIONS, parse_selection, selection_mask
from neyman.runs.guard import check_output_dir, check_output_file, check_run_name, enclosing_run, is_run
from neyman.table import Table

T = TypeVar("T")

# When a property fails, Hypothesis's pytest plugin imports libcst to suggest an @example patch;
# libcst warns (DeprecationWarning) on import, which the suite's filterwarnings=error would turn
# into a pytest INTERNALERROR that hides the failing example.  Import it quietly once, here.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore")
    import hypothesis.extra._patching  # noqa: F401


# NEYMAN_FUZZ_SCALE=20 runs twenty times as many examples (a deeper search, still deterministic)
SCALE = float(os.environ.get("NEYMAN_FUZZ_SCALE", "1"))


def fuzz(max_examples: int, *health: HealthCheck) -> settings:
    """Deterministic Hypothesis settings: no deadline (CI machines vary), no example database."""
    return settings(
        max_examples=max(1, round(max_examples * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(health),
        # no "explain" phase: it imports libcst, whose DeprecationWarnings the suite turns into errors
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    )


def honoured(call: Callable[[], T], *allowed: type[NeymanError]) -> T | None:
    """``call()``'s result, or None when it raises one of ``allowed``; any other exception propagates.

    Warnings are ignored here: on the command line they are printed, they are not tracebacks
    (the suite turns them into errors otherwise).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call()
        except allowed:
            return None


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A fresh temporary folder for one example (Hypothesis reuses function-scoped fixtures)."""
    with tempfile.TemporaryDirectory(prefix="neyman-fuzz-") as folder:
        yield Path(folder)


# ==================================================================================================
# 1. readers
# ==================================================================================================

EXTENSIONS = [".csv", ".csv.gz", ".tsv", ".txt", ".txt.gz", ".parquet", ".npy", ".npz", ".h5", ".root"]

# leading bytes of each format, so that random bytes get past the first check of a reader
MAGIC = [
    b"",
    b"PAR1",
    b"\x93NUMPY\x01\x00",
    b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (",
    b"PK\x03\x04",
    b"\x89HDF\r\n\x1a\n",
    b"root\x00\x00\xf4\x46",
    b"\x1f\x8b\x08\x00",
    b"a,b\n",
    b"\xef\xbb\xbf",
]


def read_everything(path: Path | str) -> Table | None:
    """Read ``path`` every way :mod:`neyman.io` offers; the table, or None after a ``DataError``.

    When several ways succeed they must agree (a damaged file that reads must read consistently).
    """
    n = honoured(lambda: io.num_entries(path), DataError)
    names = honoured(lambda: io.available_columns(path), DataError)
    table = honoured(lambda: io.read(path), DataError)
    chunks = honoured(lambda: list(io.iterate(path, step_size=7)), DataError)
    part = honoured(lambda: io.read(path, entry_start=1, entry_stop=-1), DataError)
    if table is None:
        return None
    assert isinstance(table, Table)
    if n is not None:
        assert n == len(table), f"num_entries says {n}, read gives {len(table)} rows"
    if names is not None:
        assert names == table.column_names
    if chunks is not None:
        assert sum(len(c) for c in chunks) == len(table)
        assert all(len(c) == 7 for c in chunks[:-1])
    if part is not None:
        assert len(part) == len(range(len(table))[1:-1])
    return table


class Files:
    """Numbered files in one folder, so no example ever overwrites a file another still maps."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def write(self, ext: str, data: bytes) -> Path:
        self.count += 1
        path = self.folder / f"f{self.count}{ext}"
        path.write_bytes(data)
        return path


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(tmp_path_factory.mktemp("fuzz-files"))


SEED_TABLE = Table(
    {
        "pt": np.linspace(20.0, 200.0, 24),
        "eta": np.linspace(-2.5, 2.5, 24),
        "n": np.arange(24, dtype=np.int64),
    }
)


@functools.cache
def seed(ext: str) -> bytes:
    """A small valid file of format ``ext``, as bytes, for the damage tests to start from."""
    with scratch() as folder:
        path = folder / f"seed{ext}"
        if ext.startswith(".txt"):  # whitespace separated text is read, not written, by neyman
            rows = zip(*(v.tolist() for v in SEED_TABLE.columns.values()), strict=True)
            text = "pt eta n\n" + "".join(f"{a!r} {b!r} {c}\n" for a, b, c in rows)
            path.write_bytes(text.encode() if ext == ".txt" else gzip.compress(text.encode(), mtime=0))
        else:
            io.write(SEED_TABLE, path)
        assert len(io.read(path)) == len(SEED_TABLE)
        return path.read_bytes()


# The shortest bytes that once broke the contract, per file name ending: (what happened, bytes);
# each stays an explicit example so the fix cannot regress.
KNOWN_BYTES: dict[str, tuple[str, bytes]] = {
    ".txt.gz": (
        "a corrupt gzip stream named .txt.gz escapes as zlib.error ('invalid block type'): pandas "
        "decompresses it and neyman.io.csv._ERRORS lacks zlib.error. Minimal example: "
        "b'\\x1f\\x8b\\x08\\x00' + b'\\x00' * 6 + b'\\x06'",
        b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"\x06",
    ),
}


@pytest.mark.parametrize(
    "ext",
    EXTENSIONS,
)
@fuzz(40)
@given(magic=st.sampled_from(MAGIC), data=st.binary(max_size=300))
@example(magic=b"", data=None)  # the known bytes of this file name ending, if any (else an empty file)
def test_arbitrary_bytes_read_or_data_error(files: Files, ext: str, magic: bytes, data: bytes | None) -> None:
    """Any bytes under any data file name: a table or a DataError, from every reading function."""
    if data is None:
        data = KNOWN_BYTES[ext][1] if ext in KNOWN_BYTES else b""
    read_everything(files.write(ext, magic + data))


def set_byte(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + bytes([value]) + data[at + 1 :]


# The minimal damage that once broke the contract, per format: (what happened, damage).  Each stays
# the explicit example of the damage test of its format, so the fix cannot regress.
KNOWN_DAMAGE: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    ".npy": (
        "a damaged .npy header escapes as tokenize.TokenError ('EOF in multi-line statement'): numpy "
        "parses the header with tokenize, and neyman.io.numpy._ERRORS lacks TokenError. Minimal example: "
        "the header length (byte 8) of a valid file set to 0x48",
        lambda b: set_byte(b, 8, 0x48),
    ),
    ".npz": (
        "a damaged .npz zip directory escapes as NotImplementedError from zipfile ('zip file version 7.2', "
        "'strong encryption (flag bit 6)', 'That compression method is not supported'). Minimal example: "
        "the 'version needed to extract' of the first central directory entry set to 0x48",
        lambda b: set_byte(b, b.index(b"PK\x01\x02") + 6, 0x48),
    ),
    ".txt.gz": (
        "a damaged gzip stream of whitespace separated text escapes as zlib.error ('invalid stored block "
        "lengths'): pandas decompresses it and neyman.io.csv._ERRORS lacks zlib.error. Minimal example: "
        "the first byte of the deflate data (byte 10) of a valid .txt.gz set to 0",
        lambda b: set_byte(b, 10, 0),
    ),
    ".parquet": (
        "a Parquet footer whose row group holds fewer rows than the file's num_rows reads silently short: "
        "num_entries says 24, read() and iterate() give 0 rows, no DataError. Minimal example: num_rows "
        "of the only row group (the last zigzag varint 0x30 after field header 0x16) set to 0",
        lambda b: set_byte(b, b.rindex(b"\x16\x30") + 1, 0),
    ),
}

mutations = st.lists(
    st.tuples(
        st.sampled_from(["set", "set", "cut", "insert", "delete"]),
        st.floats(0, 1, exclude_max=True),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=4,
)


def damage(original: bytes, changes: list[tuple[str, float, bytes]]) -> bytes:
    """``original`` truncated, with bytes overwritten, inserted or deleted (at fractions of its length)."""
    data = bytearray(original)
    for kind, where, payload in changes:
        at = int(where * len(data))
        if kind == "set":
            data[at : at + 1] = payload[:1]
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = payload
        else:
            del data[at : at + len(payload) * 2]
    return bytes(data)


@pytest.mark.parametrize(
    "ext",
    EXTENSIONS,
)
@fuzz(30)
@given(changes=mutations)
@example(changes=None)  # the known damage of this format, if any (else the valid file)
def test_damaged_file_read_or_data_error(
    files: Files, ext: str, changes: list[tuple[str, float, bytes]] | None
) -> None:
    """A valid file of each format, damaged at random: a consistent table or a DataError."""
    if changes is None:
        data = KNOWN_DAMAGE[ext][1](seed(ext)) if ext in KNOWN_DAMAGE else seed(ext)
    else:
        data = damage(seed(ext), changes)
    read_everything(files.write(ext, data))


NATURAL_FORMAT = {".csv": "csv", ".parquet": "parquet", ".npz": "npz", ".npy": "npy", ".h5": "hdf5", ".root": "root"}
column_requests = st.one_of(
    st.none(),
    st.lists(st.sampled_from(["pt", "eta", "n", "", "PT", "pt ", "x", "events"]), max_size=4),
    st.lists(st.text(max_size=5), max_size=3),
)
entry_bounds = st.one_of(st.none(), st.integers(-30, 30), st.integers(-(2**70), 2**70))


@pytest.mark.parametrize("ext", sorted(NATURAL_FORMAT))
@fuzz(25)
@given(
    columns=column_requests,
    tree=st.one_of(st.none(), st.sampled_from(["events", "/", "", "x", "events/pt"]), st.text(max_size=5)),
    start=entry_bounds,
    stop=entry_bounds,
    format=st.one_of(st.none(), st.sampled_from([*io.FORMATS, "", "CSV", "hdf", "h5", "txt"])),
)
def test_read_options(
    files: Files,
    ext: str,
    columns: list[str] | None,
    tree: str | None,
    start: int | None,
    stop: int | None,
    format: str | None,
) -> None:
    """Columns, trees, entry ranges and formats a user may name: the rows and columns asked for, or a DataError."""
    path = files.write(ext, seed(ext))
    table = honoured(
        lambda: io.read(path, columns=columns, tree=tree, entry_start=start, entry_stop=stop, format=format), DataError
    )
    if table is None or (format is not None and format.lower() != NATURAL_FORMAT[ext]):
        return
    want = list(dict.fromkeys(columns)) if columns is not None else SEED_TABLE.column_names
    assert table.column_names == want
    rows = slice(start, stop)
    for name in want:
        np.testing.assert_array_equal(table[name], SEED_TABLE[name][rows])


# -- CSV from a grammar -----------------------------------------------------------------------------

MISSING, NUMBER, TEXT, SPECIAL = "missing", "number", "text", "special"
MISSING_CELLS = ["", "nan", "NaN", "NA", "null", "None", "N/A", "-nan", " "]
NUMBER_RE = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)", re.IGNORECASE)
# cells a CSV parser may read as something other than numbers or text: booleans, dates, times, and
# hexadecimal integers (pyarrow reads 0x1F as 31 in a column of integers, as text among decimals)
SPECIAL_RE = re.compile(r"true|false|\d{4}-\d\d-\d\d.*|\d\d:\d\d(:\d\d)?|[+-]?0x[0-9a-f]+", re.IGNORECASE)


def cell_kind(cell: str) -> str:
    """What a cell is: missing (read as NaN), a number, something special (bool, date) or text."""
    text = cell.strip()
    if text in MISSING_CELLS:
        return MISSING
    if SPECIAL_RE.fullmatch(text):
        return SPECIAL
    if NUMBER_RE.fullmatch(text):
        return NUMBER
    return TEXT


number_cells = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: f"{x:.4e}"),
    st.sampled_from(["inf", "-inf", "+inf", "Infinity", "1e400", "-1e400", "1e-400", ".5", "5.", "+3", "-0", "007"]),
    st.integers(-99, 99).map(lambda i: f" {i} "),
)
text_cells = st.one_of(
    st.sampled_from(
        ["abc", "x1", "1,5", "1.2.3", "--1", "e5", "0x1F", "1_000", "inf5", "N A", "é", "日本", 'say "hi"']
    ),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), min_size=1, max_size=6),
    st.sampled_from(["two\nlines", "cr\rcell"]),
)
special_cells = st.sampled_from(["true", "false", "True", "FALSE", "2020-01-01", "2020-01-01 12:00:00", "12:30:00"])
any_cell = st.one_of(number_cells, number_cells, st.sampled_from(MISSING_CELLS), text_cells, special_cells)
header_names = st.one_of(
    st.sampled_from(["pt", "eta", "phi", "", "pt", " pt", "nan", "1", "a,b", 'q"x', "ü", "日本"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=5),
)


def render(cell: str, delimiter: str, *, quote: bool) -> str:
    """One CSV field: quoted (doubling inner quotes) when asked or when it must be."""
    if quote or any(c in cell for c in (delimiter, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


@st.composite
def csv_documents(draw: st.DrawFn, delimiter: str) -> tuple[str, list[str], list[list[str]]]:
    """A CSV text, its header and its data rows (the cells as meant, before quoting)."""
    width = draw(st.integers(1, 4))
    names = draw(st.lists(header_names, min_size=width, max_size=width))
    # one kind of cell per column most of the time, so that clean columns are common
    columns = [draw(st.sampled_from([number_cells, number_cells, text_cells, any_cell])) for _ in names]
    rows = draw(st.lists(st.tuples(*columns).map(list), max_size=8))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    quotes = st.booleans()

    def line(cells: list[str]) -> str:
        return delimiter.join(render(c, delimiter, quote=draw(quotes)) for c in cells)

    header = line(names)
    if not header:  # an empty first line is skipped by every CSV reader: quote the name
        header = render(names[0], delimiter, quote=True)
    lines = [line(r) for r in rows]
    kept = [r for r, text in zip(rows, lines, strict=True) if text]  # empty lines are skipped, not rows of ""
    text = newline.join([header, *lines]) + draw(st.sampled_from(["", newline]))
    return text, names, kept


def check_csv_column(name: str, cells: list[str], values: Any) -> None:
    """A column read from CSV says what its text says."""
    kinds = [cell_kind(c) for c in cells]
    assert not (NUMBER in kinds and TEXT in kinds), (
        f"column {name!r} mixes numbers and text but was read without a DataError: {cells}"
    )
    numeric = isinstance(values, np.ndarray) and values.dtype.kind in "fiub"
    if NUMBER in kinds and set(kinds) <= {NUMBER, MISSING}:
        assert numeric, f"column {name!r} of numbers {cells} was read as {getattr(values, 'dtype', type(values))}"
    if not numeric:
        return
    for cell, kind, value in zip(cells, kinds, values.tolist(), strict=True):
        if kind == NUMBER:
            want = float(cell.strip())
            assert float(value) == want or (math.isnan(want) and math.isnan(value)), (name, cell, value)
        elif kind == MISSING:
            assert values.dtype.kind == "f" and math.isnan(value), (name, cell, value)
        elif kind == SPECIAL and cell.strip().lower() in ("true", "false"):  # a bool, or 1.0/0.0 beside NaN
            assert value == (cell.strip().lower() == "true"), (name, cell, value)
        elif kind == SPECIAL and re.fullmatch(r"[+-]?0x[0-9a-f]+", cell.strip(), re.IGNORECASE):
            assert value == int(cell.strip(), 16), (name, cell, value)
        else:
            raise AssertionError(f"column {name!r}: cell {cell!r} read as the number {value!r}")


@pytest.mark.parametrize(("ext", "delimiter"), [(".csv", ","), (".tsv", "\t")])
@fuzz(100)
@given(data=st.data())
def test_csv_grammar_reads_what_the_text_says(files: Files, ext: str, delimiter: str, data: st.DataObject) -> None:
    """CSV text from a grammar: columns of numbers come back as those numbers, or a DataError."""
    text, names, rows = data.draw(csv_documents(delimiter), label="csv")
    table = honoured(lambda: io.read(files.write(ext, text.encode())), DataError)
    if table is None:
        return
    assert table.column_names == names
    assert len(table) == len(rows)
    for j, name in enumerate(names):
        check_csv_column(name, [r[j] for r in rows], table[name])


# -- round trips ------------------------------------------------------------------------------------

safe_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


@st.composite
def numeric_tables(draw: st.DrawFn) -> Table:
    names = draw(st.lists(safe_names, min_size=1, max_size=4, unique=True))
    n = draw(st.integers(0, 50))
    finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
    return Table({name: draw(hnp.arrays(np.float64, n, elements=finite)) for name in names})


@pytest.mark.parametrize("ext", [".csv", ".tsv", ".parquet", ".npz", ".npy", ".h5", ".root"])
@fuzz(25)
@given(table=numeric_tables())
def test_round_trip(files: Files, ext: str, table: Table) -> None:
    """A table of finite float64 columns written and read back is the same table.

    Text formats may read integral columns back as integers; their values must still be exact.
    """
    files.count += 1
    path = io.write(table, files.folder / f"rt{files.count}{ext}")
    back = io.read(path)
    assert back.column_names == table.column_names
    assert len(back) == len(table)
    assert io.num_entries(path) == len(table)
    for name in table.column_names:
        got = back[name]
        if ext in (".csv", ".tsv"):
            assert got.dtype.kind in "fi", (name, got.dtype)
        else:
            assert got.dtype == np.float64, (name, got.dtype)
        np.testing.assert_array_equal(np.asarray(got, dtype=np.float64), table[name])


# -- paths ------------------------------------------------------------------------------------------

path_text = st.one_of(
    st.text(max_size=30),
    st.text(st.sampled_from("ab/.:\\ \x00é"), max_size=30),
    st.sampled_from(["", ".", "..", "/", ":", "::", "f.root:", "f.root:tree", "x.csv:y.root:t", "~", "*.csv"]),
)
suffixes = st.sampled_from(["", ".csv", ".root", ".root:Events", ".h5:/g", ".parquet", ".npz", ".gz", ".CSV"])


@fuzz(100)
@given(name=path_text, suffix=suffixes)
def test_read_random_path(tmp_path_factory: pytest.TempPathFactory, name: str, suffix: str) -> None:
    """Paths that name nothing readable (or a folder, or a bad tree): a DataError."""
    folder = tmp_path_factory.getbasetemp() / "fuzz-empty"
    folder.mkdir(exist_ok=True)
    spec = f"{folder}/{name}{suffix}"
    for call in (lambda: io.read(spec), lambda: io.num_entries(spec), lambda: io.read(Path(spec))):
        assert honoured(call, DataError) is None


@fuzz(20)
@given(name=st.text(st.sampled_from("ab"), min_size=200, max_size=400), suffix=suffixes)
@example(name="a" * 256, suffix=".csv")
def test_read_long_path(tmp_path_factory: pytest.TempPathFactory, name: str, suffix: str) -> None:
    """A path component too long for the file system: a DataError (the file cannot exist)."""
    spec = f"{tmp_path_factory.getbasetemp()}/{name}{suffix}"
    assert honoured(lambda: io.read(spec), DataError) is None


@fuzz(60)
@given(spec=st.text(max_size=40))
def test_parse_source_splits_only_at_a_known_extension(spec: str) -> None:
    """``file:tree`` is split at the last colon only after a known extension, losing nothing; a tree after a
    file of a format without trees is refused."""
    try:
        file, tree = io.parse_source(spec)
    except DataError as exc:
        assert "names a tree or group, which only ROOT and HDF5 files hold" in str(exc)
        return
    if tree is None:
        assert file in (spec, spec[:-1])
    else:
        assert f"{file}:{tree}" == spec
        assert any(file.lower().endswith(ext) for ext in io.EXTENSIONS)


# ==================================================================================================
# 2. selections
# ==================================================================================================

SELECTION_TOKENS = [
    "a", "b", "k", "s", "1", "2.5", "1e999", "9" * 25, "True", "None", "...", "(", ")", "[", "]", "{", "}",
    ",", ".", ":", " ", "+", "-", "*", "/", "**", "%", "//", "@", "<", "<=", ">", "==", "!=", "=", ":=",
    "&", "|", "~", "^", "<<", " and ", " or ", "not ", " in ", " is ", " if ", " else ", "lambda ",
    "abs(", "sqrt(", "where(", "hypot(", "log(", "isfinite(", "__import__", "__class__", "'os'", '"x"',
    "fuzz_canary(", "eval(", "open(", "getattr(", "x=", "*", "yield ", "await ", "f'{a}'", "1j", "b'x'",
    "\\", "#", "\n", "\t", "\x00", "é",
]  # fmt: skip

HOSTILE = [
    "__import__('os').system('true')",
    "fuzz_canary()",
    "a.__class__",
    "a.real > 0",
    "a[0] > 1",
    "(lambda: 1)() > 0",
    "open('x') == 1",
    "eval('1') > 0",
    "exec('1')",
    "getattr(a, 'b') > 0",
    "print(a) > 0",
    "breakpoint()",
    "globals()",
    "__builtins__",
    "[x for x in a]",
    "{'a': 1}",
    "'pt' > 1",
    "f'{a}' > 1",
    "a if b else k",
    "(x := 1) > 0",
    "abs(x=a) > 1",
    "abs(*a) > 1",
    "sqrt.__call__(a) > 1",
    "a @ b > 1",
    "a // b > 1",
    "a << 1 > 1",
    "a ^ k > 1",
    "a in b",
    "a is b",
    "... > 1",
    "None > 1",
    "1j > 1",
    "b'x' > 1",
    "abs(a, b) > 1",
    "where(a > 1, b) > 1",
    "a > 1 & b < 0",
    "sqrt > 1",
]


@contextlib.contextmanager
def canary() -> Iterator[list[tuple[Any, ...]]]:
    """A builtin ``fuzz_canary`` that records every call: evaluated Python would call it."""
    calls: list[tuple[Any, ...]] = []

    def fuzz_canary(*args: Any, **kwargs: Any) -> bool:
        calls.append(args)
        return True

    with mock.patch.object(builtins, "fuzz_canary", fuzz_canary, create=True):
        yield calls


SELECTION_TABLE = Table(
    {
        "a": np.array([0.0, 1.5, -2.0, np.nan, np.inf, 1e300]),
        "b": np.array([1.0, 0.0, -0.5, 3.0, -np.inf, 2.0]),
        "k": np.array([0, 1, 2, -3, 0, 1], dtype=np.int64),
        "s": np.array(["x", "y", "z", "u", "v", "w"], dtype=object),
    }
)


def selection_outcome(expression: str) -> np.ndarray | None:
    """The mask of ``expression`` on the test table, or None after a ConfigError or DataError."""
    selection = honoured(lambda: parse_selection(expression), ConfigError)
    if selection is None:
        return None
    normalised = unicodedata.normalize("NFKC", expression)  # as Python reads identifiers
    assert all(name.isidentifier() and name in normalised for name in selection.columns)
    mask = honoured(lambda: selection.mask(SELECTION_TABLE), ConfigError, DataError)
    if mask is not None:
        assert mask.dtype == np.bool_
        assert mask.shape == (len(SELECTION_TABLE),)
    return mask


@fuzz(200)
@given(
    expression=st.one_of(
        st.text(max_size=40),
        st.lists(st.sampled_from(SELECTION_TOKENS), max_size=14).map("".join),
    )
)
def test_random_selection_text(expression: str) -> None:
    """Any string: a boolean mask, a ConfigError or a DataError; never evaluated as Python."""
    with canary() as calls:
        selection_outcome(expression)
    assert not calls


@fuzz(len(HOSTILE) * 3)
@given(
    hostile=st.sampled_from(HOSTILE),
    context=st.sampled_from(["{}", "a > 1 and {}", "not ({})", "({}) | (b < 0)", "where({}, a, b) > 0", " {} "]),
)
def test_hostile_selection_is_refused_when_parsed(hostile: str, context: str) -> None:
    """Python outside the selection language is refused by the parser, before any data is seen."""
    expression = context.format(hostile)
    with canary() as calls:
        with pytest.raises(ConfigError):
            parse_selection(expression)
        assert honoured(lambda: selection_mask(SELECTION_TABLE, [expression]), ConfigError) is None
    assert not calls


# -- well-formed selections against a NumPy reference -----------------------------------------------

Columns = dict[str, np.ndarray]
Ref = Callable[[Columns], Any]
Expr = tuple[str, Ref, frozenset[str]]  # source text, reference evaluation, columns used

UNARY = {name: getattr(np, name) for name in ("abs", "sqrt", "log", "log10", "exp", "sin", "cos", "tan", "tanh")}
BINARY_FUNCTIONS = {name: getattr(np, name) for name in ("arctan2", "hypot", "minimum", "maximum")}
ARITHMETIC = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "**": np.power, "%": np.mod}
COMPARISON = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal}
COMPARISON["!="] = np.not_equal


def constant(value: float) -> Expr:
    text = repr(value) if isinstance(value, float) else str(value)
    return (f"({text})" if value < 0 else text), (lambda c: np.float64(value)), frozenset()


def column(name: str) -> Expr:
    return name, (lambda c: c[name].astype(np.float64)), frozenset({name})


def extend_numbers(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    def unary(op: str, x: Expr) -> Expr:
        return f"{op}({x[0]})", (lambda c: np.negative(x[1](c)) if op == "-" else x[1](c)), x[2]

    def arithmetic(op: str, x: Expr, y: Expr) -> Expr:
        return f"({x[0]}) {op} ({y[0]})", (lambda c: ARITHMETIC[op](x[1](c), y[1](c))), x[2] | y[2]

    def call1(name: str, x: Expr) -> Expr:
        return f"{name}({x[0]})", (lambda c: UNARY[name](x[1](c))), x[2]

    def call2(name: str, x: Expr, y: Expr) -> Expr:
        return f"{name}({x[0]}, {y[0]})", (lambda c: BINARY_FUNCTIONS[name](x[1](c), y[1](c))), x[2] | y[2]

    def where(cond: Expr, x: Expr, y: Expr) -> Expr:
        return (
            f"where({cond[0]}, {x[0]}, {y[0]})",
            (lambda c: np.where(cond[1](c), x[1](c), y[1](c))),
            (cond[2] | x[2] | y[2]),
        )

    return st.one_of(
        st.builds(unary, st.sampled_from(["-", "+"]), children),
        st.builds(arithmetic, st.sampled_from(sorted(ARITHMETIC)), children, children),
        st.builds(call1, st.sampled_from(sorted(UNARY)), children),
        st.builds(call2, st.sampled_from(sorted(BINARY_FUNCTIONS)), children, children),
        st.builds(where, st.one_of(conditions(children), FLAG), children, children),
    )


numbers: st.SearchStrategy[Expr] = st.deferred(
    lambda: st.recursive(
        st.one_of(
            st.sampled_from(["a", "b", "c", "k"]).map(column),
            st.sampled_from([0, 1, 2, 3, 10, -1, 0.5, 2.5, -0.25, 1e-3, 1e300, 3.0]).map(constant),
        ),
        extend_numbers,
        max_leaves=6,
    )
)


def conditions(values: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    """Boolean expressions over ``values``: comparisons (also chained), flags, isfinite, constants."""

    def compare(ops: list[str], operands: list[Expr]) -> Expr:
        text = " ".join(f"({e[0]}) {op}" for e, op in zip(operands, ops, strict=False)) + f" ({operands[-1][0]})"

        def ref(c: Columns) -> Any:
            vals = [e[1](c) for e in operands]
            out = COMPARISON[ops[0]](vals[0], vals[1])
            for i in range(1, len(ops)):
                out = np.logical_and(out, COMPARISON[ops[i]](vals[i], vals[i + 1]))
            return out

        return text, ref, frozenset().union(*(e[2] for e in operands))

    chained = st.integers(1, 2).flatmap(
        lambda n: st.builds(
            compare,
            st.lists(st.sampled_from(sorted(COMPARISON)), min_size=n, max_size=n),
            st.lists(values, min_size=n + 1, max_size=n + 1),
        )
    )
    finite = values.map(lambda x: (f"isfinite({x[0]})", (lambda c: np.isfinite(x[1](c))), x[2]))
    truth = st.sampled_from([True, False]).map(lambda v: (str(v), (lambda c: np.bool_(v)), frozenset()))
    return st.one_of(chained, chained, finite, truth)


# an integer column as an operand of a logical operator is a flag: true where it is not 0
FLAG: st.SearchStrategy[Expr] = st.just(("k", (lambda c: c["k"] != 0), frozenset({"k"})))


def extend_conditions(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    def negate(word: str, x: Expr) -> Expr:
        return f"{word}({x[0]})", (lambda c: np.logical_not(x[1](c))), x[2]

    def combine(word: str, xs: list[Expr]) -> Expr:
        logical = np.logical_and if word in ("and", "&") else np.logical_or

        def ref(c: Columns) -> Any:
            out = xs[0][1](c)
            for x in xs[1:]:
                out = logical(out, x[1](c))
            return out

        return f" {word} ".join(f"({x[0]})" for x in xs), ref, frozenset().union(*(x[2] for x in xs))

    operands = st.one_of(children, FLAG)
    return st.one_of(
        st.builds(negate, st.sampled_from(["not ", "~"]), operands),
        st.builds(combine, st.sampled_from(["and", "or"]), st.lists(operands, min_size=2, max_size=3)),
        st.builds(combine, st.sampled_from(["&", "|"]), st.lists(operands, min_size=2, max_size=2)),
    )


selections: st.SearchStrategy[Expr] = st.recursive(conditions(numbers), extend_conditions, max_leaves=4)

special_floats = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-310, 1e308, -1e308, np.nan, np.inf, -np.inf])


@st.composite
def selection_columns(draw: st.DrawFn) -> Columns:
    n = draw(st.integers(0, 8))
    floats = st.one_of(special_floats, st.floats(width=64))
    cols = {name: draw(hnp.arrays(np.float64, n, elements=floats)) for name in ("a", "b", "c")}
    cols["k"] = draw(hnp.arrays(np.int64, n, elements=st.integers(-3, 3)))
    return cols


@fuzz(150)
@given(expression=selections, columns=selection_columns())
def test_selection_matches_numpy_reference(expression: Expr, columns: Columns) -> None:
    """A well-formed selection gives the mask NumPy float64 arithmetic gives (NaN compares false)."""
    text, reference, used = expression
    selection = parse_selection(text)
    assert selection.columns == used
    table = Table(columns)
    with np.errstate(all="ignore"):
        want = np.broadcast_to(np.asarray(reference(columns), dtype=np.bool_), (len(table),))
    got = selection.mask(table)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, want, err_msg=text)


def test_selection_functions_are_the_documented_ones() -> None:
    """The reference above covers every function the language allows."""
    assert set(SELECTION_FUNCTIONS) == {*UNARY, *BINARY_FUNCTIONS, "isfinite", "where"}


# ==================================================================================================
# 3. configuration
# ==================================================================================================

CONFIG_KEYS = [
    "name", "output_dir", "seed", "data", "sources", "path", "tree", "label", "scale", "weight", "selection",
    "max_events", "features", "format", "label_column", "target", "representation", "particles", "image",
    "model", "type", "hidden", "task", "training", "epochs", "batch_size", "optimizer", "lr", "split",
    "method", "kfold", "tuning", "tracking", "preprocessing", "scaler", "log", "0",
]  # fmt: skip

config_keys = st.one_of(st.sampled_from(CONFIG_KEYS), st.text(max_size=6), st.integers(-2, 2), st.none())
config_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["mlp", "fisher", "xgboost", "binary", "regression", "x.csv", "f.root:t", "pt > 1", ".."]),
)
config_values = st.recursive(
    config_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(config_keys, inner, max_size=3)),
    max_leaves=10,
)
config_documents = st.dictionaries(config_keys, config_values, max_size=4)

BASE_CONFIG: dict[str, Any] = {
    "data": {
        "sources": [{"path": "sig.csv", "label": "signal"}, {"path": "bkg.csv", "label": "background"}],
        "features": ["a", "b"],
    },
    "model": {"type": "fisher"},
}


@fuzz(100)
@given(document=config_documents)
def test_parse_config_random_mapping(document: dict[Any, Any]) -> None:
    """Any mapping: a RunConfig or a ConfigError."""
    result = honoured(lambda: parse_config(copy.deepcopy(document)), ConfigError)
    assert result is None or isinstance(result, RunConfig)


@fuzz(60)
@given(document=config_documents)
def test_parse_config_mutated_valid_config(document: dict[Any, Any]) -> None:
    """A valid configuration with random sections merged in: a RunConfig or a ConfigError."""
    merged = {**copy.deepcopy(BASE_CONFIG), **document}
    result = honoured(lambda: resolve_config(merged), ConfigError)
    assert result is None or isinstance(result, RunConfig)


def write_yaml(folder: Path, document: Any) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@fuzz(100)
@given(document=config_documents)
@example(document={"data": [0]})
@example(document={"data": {"sources": 0}})
def test_load_config_random_yaml(tmp_path_factory: pytest.TempPathFactory, document: dict[Any, Any]) -> None:
    """Any YAML document in a configuration file: a RunConfig or a ConfigError."""
    folder = tmp_path_factory.mktemp("fuzz-config", numbered=True)
    result = honoured(lambda: load_config(write_yaml(folder, document)), ConfigError)
    assert result is None or isinstance(result, RunConfig)


@fuzz(100)
@given(document=config_documents)
def test_load_config_random_yaml_with_mapping_sections(
    tmp_path_factory: pytest.TempPathFactory, document: dict[Any, Any]
) -> None:
    """As above, with 'data' a mapping and 'sources' a list (the shapes load_config walks today)."""
    data = document.get("data")
    sources = data.get("sources") if isinstance(data, dict) else None
    if (data and not isinstance(data, dict)) or (sources and not isinstance(sources, (list, dict, str))):
        document = {**document, "data": {"sources": [{"path": "sig.csv"}]}}
    folder = tmp_path_factory.mktemp("fuzz-config", numbered=True)
    result = honoured(lambda: load_config(write_yaml(folder, document)), ConfigError)
    assert result is None or isinstance(result, RunConfig)


@fuzz(20)
@given(name=st.text(st.sampled_from("ab"), min_size=250, max_size=300))
@example(name="a" * 256)
def test_load_config_long_source_path(tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    """A source path too long for the file system: a RunConfig (the path is checked later) or a ConfigError."""
    folder = tmp_path_factory.mktemp("fuzz-config", numbered=True)
    document = {**BASE_CONFIG, "data": {**BASE_CONFIG["data"], "sources": [{"path": name + ".csv"}]}}
    honoured(lambda: load_config(write_yaml(folder, document)), ConfigError)


@fuzz(120)
@given(content=st.one_of(st.text(max_size=80), st.binary(max_size=80).map(lambda b: b.decode("latin-1"))))
def test_load_config_random_text(tmp_path_factory: pytest.TempPathFactory, content: str) -> None:
    """Any text (or bytes) in a configuration file: a RunConfig or a ConfigError."""
    folder = tmp_path_factory.mktemp("fuzz-config", numbered=True)
    path = folder / "config.yaml"
    path.write_text(content, encoding="utf-8", errors="surrogateescape")
    result = honoured(lambda: load_config(path), ConfigError)
    assert result is None or isinstance(result, RunConfig)


@fuzz(60)
@given(content=st.binary(max_size=120))
def test_load_config_random_bytes(tmp_path_factory: pytest.TempPathFactory, content: bytes) -> None:
    """Any bytes (invalid UTF-8, NUL, BOM) in a configuration file: a RunConfig or a ConfigError."""
    folder = tmp_path_factory.mktemp("fuzz-config", numbered=True)
    path = folder / "config.yaml"
    path.write_bytes(content)
    result = honoured(lambda: load_config(path), ConfigError)
    assert result is None or isinstance(result, RunConfig)


override_keys = st.lists(
    st.one_of(st.sampled_from([*CONFIG_KEYS, "0", "1", "5", "-1", ""]), st.text(max_size=4)), min_size=1, max_size=4
).map(".".join)
override_values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", "1", "-1", "1e3", "[8, 8]", "{a: 1}", "[", "{", "null", "~", "*a", "&a x", "!!python/none", "|"]
    ),
    config_values.map(lambda v: yaml.safe_dump(v, default_flow_style=True).strip()),
)
overrides = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", override_keys, override_values),
    st.text(max_size=20),
)


@fuzz(200)
@given(items=st.lists(overrides, max_size=4))
def test_overrides(items: list[str]) -> None:
    """``key=value`` overrides on a valid configuration: applied or a ConfigError; then a RunConfig or a ConfigError."""
    data = honoured(lambda: apply_overrides(copy.deepcopy(BASE_CONFIG), items), ConfigError)
    if data is not None:
        assert isinstance(data, dict)
        result = honoured(lambda: parse_config(data), ConfigError)
        assert result is None or isinstance(result, RunConfig)


def nested(kind: str, depth: int) -> str:
    if kind == "flow-list":
        return "[" * depth + "1" + "]" * depth
    if kind == "flow-map":
        return "{a: " * depth + "1" + "}" * depth
    return "".join(" " * i + "a:\n" for i in range(depth)) + " " * depth + "1\n"


@fuzz(3)
@given(kind=st.sampled_from(["flow-list", "flow-map", "block"]), depth=st.integers(1100, 1500), under=st.booleans())
def test_deep_yaml_file_is_refused(
    tmp_path_factory: pytest.TempPathFactory, kind: str, depth: int, under: bool
) -> None:
    """A configuration file nested beyond any sensible depth: a ConfigError, not a RecursionError."""
    folder = tmp_path_factory.mktemp("fuzz-config", numbered=True)
    path = folder / "deep.yaml"
    text = nested(kind, depth)
    path.write_text("data:\n  features: " + text if under and kind != "block" else text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(path)


@fuzz(3)
@given(kind=st.sampled_from(["flow-list", "flow-map"]), depth=st.integers(1200, 2000))
@example(kind="flow-list", depth=1200)
def test_deep_override_value_is_refused(kind: str, depth: int) -> None:
    """An override whose value is nested beyond any sensible depth: a ConfigError."""
    with pytest.raises(ConfigError):
        apply_overrides(copy.deepcopy(BASE_CONFIG), ["data.features=" + nested(kind, depth)])


# ==================================================================================================
# 4. the path guard and the command line's paths
# ==================================================================================================

run_names = st.one_of(
    st.text(max_size=20),
    st.text(st.sampled_from("a./\\ \t\n\x00é:~*"), max_size=12),
    st.sampled_from(["", ".", "..", "...", "/", "\\", "a/b", "../a", "a/..", " a", "a ", "a\x00", "~", "-", "C:"]),
)


@fuzz(200)
@given(name=run_names)
def test_check_run_name_never_escapes(tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    """A run name is the same name and exactly one folder directly in output_dir, or a ConfigError."""
    output_dir = tmp_path_factory.getbasetemp() / "runs"
    result = honoured(lambda: check_run_name(name), ConfigError)
    if result is None:
        return
    assert result == name
    assert name not in ("", ".", "..")
    assert "\x00" not in name and os.sep not in name and (os.altsep is None or os.altsep not in name)
    assert Path(name).parts == (name,)
    assert (output_dir / name).parent == output_dir
    assert os.path.dirname(os.path.normpath(os.path.join(output_dir, name))) == str(output_dir)


@fuzz(20)
@given(name=st.one_of(run_names, st.text(st.sampled_from("aé"), min_size=120, max_size=300)))
@example(name="a" * 256)
def test_accepted_run_name_can_be_created(name: str) -> None:
    """A name check_run_name accepts gives a run directory directly in output_dir (or a NeymanError)."""
    from neyman.runs.directory import RunDirectory

    if honoured(lambda: check_run_name(name), ConfigError) is None:
        return
    with scratch() as output_dir:
        made = honoured(lambda: RunDirectory.create(output_dir / name), NeymanError)
        if made is not None:
            run, _ = made
            assert run.path.parent == output_dir
            assert run.path.is_dir()


def make_tree(root: Path) -> None:
    """A folder with a run, an earlier comparison, data, an empty folder and links into the run."""
    run = root / "run"
    (run / "plots").mkdir(parents=True)
    (run / "status.json").write_text('{"state": "complete", "time": "2026-01-01T00:00:00"}')
    (run / "model.onnx").write_bytes(b"onnx")
    (run / "config.yaml").write_text("name: run\n")
    (run / "plots" / "roc.png").write_bytes(b"png")
    (root / "cmp").mkdir()
    (root / "cmp" / "comparison.json").write_text('{"rows": [], "reference": "run"}')
    (root / "data.csv").write_text("a\n1\n")
    (root / "old.onnx").write_bytes(b"old")
    (root / "empty").mkdir()
    (root / "other").mkdir()
    (root / "other" / "notes.txt").write_text("mine")
    (root / "to-run").symlink_to(run, target_is_directory=True)
    (root / "to-plots").symlink_to(run / "plots", target_is_directory=True)


def snapshot(root: Path) -> dict[str, Any]:
    """Every entry under ``root``: a link's target, a folder, or a file's bytes and mtime."""
    state: dict[str, Any] = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder, name)
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                state[key] = ("link", os.readlink(path))
            elif path.is_dir():
                state[key] = "dir"
            else:
                state[key] = (path.read_bytes(), path.stat().st_mtime_ns)
    return state


COMPONENTS = [
    "run", "cmp", "data.csv", "old.onnx", "empty", "other", "notes.txt", "plots", "model.onnx", "roc.png",
    "status.json", "comparison.json", "new.onnx", "new", "x.csv", "to-run", "to-plots", "..", ".", "",
]  # fmt: skip
relative_paths = st.lists(
    st.one_of(st.sampled_from(COMPONENTS), st.text(st.sampled_from("ab.\x00 é"), max_size=4)), min_size=1, max_size=4
).map("/".join)


def inside_run_artefacts(path: str) -> bool:
    """Whether ``path``, links resolved, lies in the run's folder other than as run/<name>.onnx."""
    real = Path(os.path.realpath(path))
    run = next((p for p in [real.parent, *real.parents] if (p / "status.json").is_file()), None)
    return run is not None and (real.parent != run or real.suffix != ".onnx")


@fuzz(80)
@given(rel=relative_paths, force=st.booleans())
def test_check_output_file(rel: str, force: bool) -> None:
    """An output file path: returned unchanged and writable by the guard's rules, or a DataError; nothing changes."""
    with scratch() as root:
        make_tree(root)
        before = snapshot(root)
        path = f"{root}/{rel}"
        out = honoured(lambda: check_output_file(path, force=force, suffix=".onnx", what="the export"), DataError)
        assert snapshot(root) == before
        if out is None:
            return
        assert out == Path(path)
        assert not out.is_dir()
        if out.exists():
            assert force and out.suffix == ".onnx"
        run = enclosing_run(out.parent)
        assert run is None or (out.parent == run and out.suffix == ".onnx")


@fuzz(40)
@given(rel=relative_paths, force=st.booleans())
@example(rel="to-plots/new.onnx", force=False)
def test_check_output_file_resolves_links(rel: str, force: bool) -> None:
    """An accepted output file does not lie among a run's own files once links are resolved."""
    with scratch() as root:
        make_tree(root)
        path = f"{root}/{rel}"
        out = honoured(lambda: check_output_file(path, force=force, suffix=".onnx", what="the export"), DataError)
        if out is not None:
            assert not inside_run_artefacts(path), f"{rel} resolves to {os.path.realpath(path)}"


@fuzz(80)
@given(rel=relative_paths, force=st.booleans())
def test_check_output_dir(rel: str, force: bool) -> None:
    """An output folder: new, empty or (with force) an earlier one of its kind, or a DataError; nothing changes."""
    with scratch() as root:
        make_tree(root)
        before = snapshot(root)
        path = f"{root}/{rel}"
        out = honoured(
            lambda: check_output_dir(path, force=force, marker="comparison.json", what="the comparison"), DataError
        )
        assert snapshot(root) == before
        if out is None:
            return
        assert out == Path(path)
        assert not (out.exists() and not out.is_dir())
        if out.is_dir() and any(out.iterdir()):
            assert not is_run(out)
            assert (out / "comparison.json").is_file() and force


# -- the command line -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cli() -> Callable[[list[str]], Any]:
    from typer.testing import CliRunner

    from neyman.cli.main import _register, app

    _register()
    runner = CliRunner()

    def invoke(argv: list[str]) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # as on the command line: printed, not raised
            return runner.invoke(app, argv, env={"COLUMNS": "200", "NO_COLOR": "1"})

    return invoke


def cli_commands(path: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.one_of(
        st.builds(lambda r, i, o: ["predict", r, "-i", i, "-o", o], path, path, path),
        st.builds(lambda r: ["evaluate", r], path),
        st.builds(lambda r, o: ["export", r, "--out", o], path, path),
        st.builds(lambda r: ["export", r], path),
        st.builds(lambda r, d: ["evaluate", r, "--test-data", d], path, path),
        st.builds(lambda c: ["train", c], path),
    )


cli_paths = st.one_of(
    relative_paths.filter(lambda p: "\x00" not in p),  # a command line cannot hold NUL
    st.sampled_from(["run", "data.csv", "old.onnx", "cmp", "to-run", "run/model.onnx", "nowhere.csv:t"]),
)


def check_cli(cli: Callable[[list[str]], Any], argv: list[str]) -> None:
    with scratch() as root:
        make_tree(root)
        before = snapshot(root)
        absolute = [f"{root}/{a}" if i and not a.startswith("-") else a for i, a in enumerate(argv)]
        result = cli(absolute)
        assert result.exit_code == 2, (absolute, result.exit_code, repr(result.exception), result.output)
        assert isinstance(result.exception, SystemExit), result.exception
        assert "error:" in result.output
        assert "Traceback" not in result.output
        assert snapshot(root) == before


@fuzz(25)
@given(argv=cli_commands(cli_paths))
def test_cli_paths(cli: Callable[[list[str]], Any], argv: list[str]) -> None:
    """Run, input and output paths that name no usable run: one error line, exit code 2, nothing changed."""
    check_cli(cli, argv)


@fuzz(10)
@given(argv=cli_commands(st.text(st.sampled_from("ab"), min_size=256, max_size=300)))
@example(argv=["evaluate", "a" * 256])
@example(argv=["predict", "a" * 256, "-i", "data.csv", "-o", "out.csv"])
@example(argv=["export", "a" * 256])
@example(argv=["train", "a" * 256])
def test_cli_long_paths(cli: Callable[[list[str]], Any], argv: list[str]) -> None:
    """Paths too long for the file system: one error line, exit code 2, nothing changed."""
    check_cli(cli, argv)
