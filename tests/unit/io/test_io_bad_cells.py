"""Numbers stored as text are read strictly: a bad cell is a DataError naming it, never a traceback."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import neyman.io.csv
from neyman import io
from neyman.exceptions import DataError
from neyman.io.core import TextColumns
from neyman.table import Table


def _rows(n: int, *, bad: int | None = None, value: str = "abc") -> str:
    """A labelled CSV of ``n`` rows; data row ``bad`` (from 1) holds ``value`` in column ``c``."""
    lines = ["a,b,c,label"]
    for i in range(1, n + 1):
        c = value if i == bad else f"{0.5 * i:.2f}"
        lines.append(f"{i},{i * 0.25},{c},{i % 2}")
    return "\n".join(lines) + "\n"


BAD_CELL = (
    r"bad\.\w+: column 'c' holds 'abc' in data row 3 \(line 4\), which is not a number.*Clean the cell.*--features"
)


@pytest.mark.parametrize("ext", ["csv", "tsv", "txt"])
def test_a_text_cell_in_a_numeric_column_is_an_error(tmp_path, ext):
    sep = {"csv": ",", "tsv": "\t", "txt": " "}[ext]
    path = tmp_path / f"bad.{ext}"
    path.write_text(_rows(20, bad=3).replace(",", sep))
    with pytest.raises(DataError, match=BAD_CELL):
        io.read(path)
    # what automatic feature selection reads at training time: the first row only
    with pytest.raises(DataError, match=BAD_CELL):
        io.read(path, entry_stop=1)
    # what prediction reads, chunk by chunk
    with pytest.raises(DataError, match=BAD_CELL):
        list(io.iterate(path, step_size=2))
    # the other columns are fine; leaving the column out is the way around
    assert io.read(path, columns=["a", "b"]).column_names == ["a", "b"]


def test_a_text_cell_in_the_first_row_is_an_error_too(tmp_path):
    path = tmp_path / "first.csv"
    path.write_text(_rows(5, bad=1, value="n/a?"))
    with pytest.raises(DataError, match=r"first\.csv: column 'c' holds 'n/a\?' in data row 1 \(line 2\)"):
        io.read(path, entry_stop=1)


def test_a_text_cell_beyond_the_first_block_is_named_when_streaming(tmp_path, monkeypatch):
    monkeypatch.setattr(neyman.io.csv, "_BLOCK_BYTES", 1000)
    path = tmp_path / "late.csv"
    path.write_text(_rows(600, bad=450))
    message = r"late\.csv: column 'c' holds 'abc' in data row 450 \(line 451\), which is not a number.*--features"
    with pytest.raises(DataError, match=message):
        list(io.iterate(path, step_size=100))
    with pytest.raises(DataError, match=message):
        io.read(path)


def test_a_float_after_integers_in_a_streamed_column_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(neyman.io.csv, "_BLOCK_BYTES", 1000)
    path = tmp_path / "ints.csv"
    lines = _rows(600).splitlines()
    lines[450] = lines[450].replace("450,", "450.5,", 1)
    path.write_text("\n".join(lines) + "\n")
    assert io.read(path)["a"].dtype == np.float64  # read at once, the types are unified
    with pytest.raises(DataError, match=r"column 'a' holds '450\.5' in data row 450 \(line 451\).*not an integer"):
        list(io.iterate(path, step_size=100))


def test_missing_and_infinite_cells_keep_their_meaning(tmp_path):
    path = tmp_path / "missing.csv"
    path.write_text("x,y\n1,\n2,nan\n3,NaN\n4,NA\n5,inf\n6,-inf\n7,2.5\n")
    y = io.read(path)["y"]
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [np.nan, np.nan, np.nan, np.nan, np.inf, -np.inf, 2.5])


def test_a_column_of_text_stays_text(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("x,id,label\n1,ev1,signal\n2,ev2,background\n3,,signal\n")
    table = io.read(path)
    assert table["id"].tolist() == ["ev1", "ev2", ""]
    assert table["label"].dtype == object
    assert table["x"].dtype == np.int64


def test_text_columns_of_other_formats(tmp_path):
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0, 3.0, 4.0], "y": ["1.5", None, "inf", " 2 "]}), path)
    np.testing.assert_array_equal(io.read(path)["y"], [1.5, np.nan, np.inf, 2.0])
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0, 3.0], "c": ["1.5", None, "abc"]}), bad)
    message = r"bad\.parquet: column 'c' holds 'abc' in data row 3, which is not a number.*'1\.5' in data row 1"
    with pytest.raises(DataError, match=message):
        io.read(bad)
    with pytest.raises(DataError, match=message):
        list(io.iterate(bad, step_size=1))
    npy = tmp_path / "bad.npy"
    np.save(npy, np.array([(1.0, b"2"), (2.0, b"x")], dtype=[("a", "f8"), ("c", "S3")]))
    with pytest.raises(DataError, match=r"bad\.npy: column 'c' holds 'x' in data row 2.*'2' in data row 1"):
        io.read(npy)


def test_text_columns_of_hdf5(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3.0)
        f.create_dataset("c", data=np.array(["1", "abc", "3"], dtype=object), dtype=h5py.string_dtype())
    with pytest.raises(DataError, match=r"bad\.h5: column 'c' holds 'abc' in data row 2"):
        io.read(path)


def test_integers_that_float64_would_round_stay_exact_text():
    """Event numbers beyond 2**53 stored as text were converted to float64: 2**62 + i all became 2**62."""
    check = TextColumns("ids.parquet")
    ids = np.array([str(2**62 + i) for i in range(3)], dtype=object)
    kept = check.check(Table({"event": ids, "small": np.array(["1", "2", "3"], dtype=object)}), 0)
    assert kept["event"].tolist() == ids.tolist()
    assert kept["small"].dtype == np.float64
    later = check.check(Table({"event": np.array(["7", "8"], dtype=object)}), 3)  # a later chunk stays text too
    assert later["event"].tolist() == ["7", "8"]
    with pytest.raises(DataError, match=r"column 'event' holds 'x' in data row 6"):
        check.check(Table({"event": np.array(["x"], dtype=object)}), 5)


def test_a_column_typed_numbers_in_one_chunk_and_text_in_the_next_is_mixed():
    check = TextColumns("f.txt", header_lines=1)
    first = check.check(Table({"c": np.array([1.0, 2.0])}), 0)
    assert first["c"].dtype == np.float64
    with pytest.raises(DataError, match=r"f\.txt: column 'c' holds 'abc' in data row 3 \(line 4\).*1\.0 in data row 1"):
        check.check(Table({"c": np.array(["abc", "def"], dtype=object)}), 2)


def test_a_benchmark_layout_names_a_bad_cell(tmp_path):
    path = tmp_path / "susy.csv"
    io.write(_susy(4), path, format="uci-susy")
    assert len(io.read(path, format="uci-susy")) == 4
    lines = path.read_text().splitlines()
    fields = lines[2].split(",")
    fields[3] = "abc"
    lines[2] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"susy\.csv: column '\w+' holds 'abc' in data row 3 \(line 3\)"):
        io.read(path, format="uci-susy")


def _susy(n: int) -> Table:
    columns = io.datasets.SUSY.columns
    rng = np.random.default_rng(3)
    values = {name: rng.normal(size=n) for name in columns}
    values["label"] = np.arange(n, dtype=np.int64) % 2
    return Table(values)


def test_a_nullable_integer_column_beyond_float64_stays_exact(tmp_path):
    """One missing cell made NumPy store the column as float64: 2**60 + 1, + 2, + 3 all read as 2**60."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    ids = [None, 2**60 + 1, 2**60 + 2, 2**60 + 3]
    pq.write_table(pa.table({"evt": pa.array(ids, pa.int64()), "x": [0.0, 1.0, 2.0, 3.0]}), tmp_path / "ids.parquet")
    read = io.read(tmp_path / "ids.parquet")["evt"]
    assert read.tolist() == ["", *(str(i) for i in ids[1:])]
    (tmp_path / "ids.csv").write_text("x,evt\n0,\n" + "".join(f"1,{i}\n" for i in ids[1:]))
    assert io.read(tmp_path / "ids.csv")["evt"].tolist() == ["", *(str(i) for i in ids[1:])]
    small = [None, 1, 2, 3]  # float64 holds these exactly: numbers with a missing value, as before
    pq.write_table(pa.table({"evt": pa.array(small, pa.int64())}), tmp_path / "small.parquet")
    assert np.isnan(io.read(tmp_path / "small.parquet")["evt"][0])
