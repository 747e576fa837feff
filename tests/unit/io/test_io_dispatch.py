"""Format detection, ``file:tree`` specifications and the errors raised before any parsing."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from neyman import io
from neyman.exceptions import DataError
from neyman.io.core import entry_range, rechunk, window
from neyman.table import Table


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("signal.root:Events", ("signal.root", "Events")),
        ("signal.root", ("signal.root", None)),
        ("dir/signal.root:dir/tree", ("dir/signal.root", "dir/tree")),
        ("signal.ROOT:t", ("signal.ROOT", "t")),
        ("data.h5:events", ("data.h5", "events")),
        ("signal.root:", ("signal.root", None)),
        ("C:/data/signal.root", ("C:/data/signal.root", None)),
        ("C:\\data\\signal.root", ("C:\\data\\signal.root", None)),
        ("C:/data/signal.root:Events", ("C:/data/signal.root", "Events")),
        ("root://eos.cern.ch//store/f.root", ("root://eos.cern.ch//store/f.root", None)),
        ("root://eos.cern.ch//store/f.root:Events", ("root://eos.cern.ch//store/f.root", "Events")),
        ("https://host:8080/f.parquet", ("https://host:8080/f.parquet", None)),
        ("notes:about.txt", ("notes:about.txt", None)),
    ],
)
def test_parse_source(spec, expected):
    assert io.parse_source(spec) == expected


@pytest.mark.parametrize("spec", ["data.parquet:events", "table.csv:t", "x.npz:X"])
def test_a_tree_after_a_file_without_trees_is_refused(spec):
    with pytest.raises(DataError, match=r"names a tree or group, which only ROOT and HDF5 files hold"):
        io.parse_source(spec)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.root", "root"),
        ("a.parquet", "parquet"),
        ("a.pq", "parquet"),
        ("a.h5", "hdf5"),
        ("a.hdf5", "hdf5"),
        ("a.hdf", "hdf5"),
        ("a.csv", "csv"),
        ("a.csv.gz", "csv"),
        ("a.txt", "csv"),
        ("a.tsv", "csv"),
        ("a.npy", "npy"),
        ("a.npz", "npz"),
        ("dir.v2/A.Root", "root"),
    ],
)
def test_detect_format_from_extension(name, fmt):
    assert io.detect_format(name) == fmt


def test_explicit_format_wins_and_accepts_benchmarks():
    assert io.detect_format("SUSY.csv.gz", "uci-susy") == "uci-susy"
    assert io.detect_format("HIGGS.csv", "UCI-HIGGS") == "uci-higgs"
    assert io.detect_format("events.dat", "parquet") == "parquet"


def test_unknown_extension_names_file_extension_and_formats():
    with pytest.raises(DataError) as info:
        io.detect_format("/data/events.xyz")
    message = str(info.value)
    assert "/data/events.xyz" in message and "'.xyz'" in message
    assert ".root" in message and "parquet" in message and "format=" in message


def test_unknown_format_suggests_a_close_one():
    with pytest.raises(DataError, match=r"unknown format 'parqet'.*did you mean 'parquet'"):
        io.detect_format("a.bin", "parqet")


def test_unknown_format_when_reading(tmp_path):
    path = tmp_path / "events.dat"
    path.write_text("1 2 3\n")
    with pytest.raises(DataError, match=r"events\.dat.*'\.dat'"):
        io.read(path)


def test_missing_file_suggests_a_neighbour(tmp_path):
    (tmp_path / "signal.parquet").write_bytes(b"x")
    with pytest.raises(DataError) as info:
        io.read(tmp_path / "signl.parquet")
    message = str(info.value)
    assert "signl.parquet does not exist" in message
    assert "did you mean 'signal.parquet'" in message


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(DataError, match=r"does not exist.*directory .*nowhere does not exist"):
        io.num_entries(tmp_path / "nowhere" / "f.root")


def test_directory_instead_of_file(tmp_path):
    folder = tmp_path / "sample.root"
    folder.mkdir()
    (folder / "part0.root").write_bytes(b"x")
    with pytest.raises(DataError, match=r"sample\.root is a directory.*'part0\.root'"):
        io.read(folder)
    with pytest.raises(DataError, match="is a directory"):
        io.iterate(folder)


@pytest.mark.parametrize("ext", ["root", "parquet", "h5", "csv", "npy", "npz"])
def test_empty_file(tmp_path, ext):
    path = tmp_path / f"empty.{ext}"
    path.touch()
    with pytest.raises(DataError, match=rf"empty\.{ext} is empty \(0 bytes\)"):
        io.read(path)
    with pytest.raises(DataError, match="is empty"):
        io.available_columns(path)


def test_iterate_checks_eagerly(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        io.iterate(tmp_path / "gone.parquet")
    with pytest.raises(DataError, match="step_size must be a positive"):
        io.iterate(tmp_path / "gone.parquet", step_size=0)


def test_non_integer_entry_bounds_are_refused(tmp_path):
    path = io.write(Table({"x": np.arange(3)}), tmp_path / "x.npy")
    with pytest.raises(DataError, match="entry_start must be an integer"):
        io.read(path, entry_start=1.5)  # type: ignore[arg-type]
    assert len(io.read(path, entry_start=np.int64(1))) == 2


def test_a_single_column_name_is_not_split_into_characters(tmp_path):
    path = io.write(Table({"pt": np.arange(3.0), "p": np.zeros(3)}), tmp_path / "x.parquet")
    assert io.read(path, columns="pt").column_names == ["pt"]  # type: ignore[arg-type]


def test_duplicate_requested_columns_are_read_once(tmp_path):
    path = io.write(Table({"pt": np.arange(3.0), "eta": np.zeros(3)}), tmp_path / "x.npz")
    assert io.read(path, columns=["eta", "pt", "eta"]).column_names == ["eta", "pt"]


@pytest.mark.parametrize("n", [0, 1, 10])
@pytest.mark.parametrize("start", [None, -20, -3, 0, 2, 15])
@pytest.mark.parametrize("stop", [None, -20, -1, 0, 4, 15])
def test_entry_range_matches_slicing(n, start, stop):
    a, b = entry_range(start, stop, n)
    assert list(range(n))[start:stop] == list(range(a, b))


def test_window_and_rechunk_regroup_blocks():
    blocks = [Table({"x": np.arange(a, b)}) for a, b in [(0, 3), (3, 4), (4, 10), (10, 17)]]
    pieces = window(iter(blocks), start=2, stop=15)
    chunks = list(rechunk(pieces, step_size=4))
    assert [len(c) for c in chunks] == [4, 4, 4, 1]
    np.testing.assert_array_equal(np.concatenate([c["x"] for c in chunks]), np.arange(2, 15))


def test_window_stops_reading_after_the_range():
    consumed = []

    def blocks():
        for a in range(0, 100, 10):
            consumed.append(a)
            yield Table({"x": np.arange(a, a + 10)})

    assert sum(len(p) for p in window(blocks(), start=5, stop=25)) == 20
    assert consumed == [0, 10, 20]


def test_import_is_cheap():
    code = (
        "import sys, neyman.io; "
        "print(','.join(m for m in ('pyarrow', 'uproot', 'awkward', 'h5py', 'pandas') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("ext", [".h5", ".root", ".npz", ".csv"])
def test_a_file_is_refused_when_its_bytes_are_another_binary_format(tmp_path, ext):
    table = Table({"a": np.arange(5.0), "b": np.arange(5.0) ** 2})
    written = io.write(table, tmp_path / "events.parquet")
    renamed = tmp_path / f"events{ext}"
    written.rename(renamed)
    with pytest.raises(DataError, match=rf"events\{ext} is a Parquet file .* rename it \(e\.g\. to events\.parquet\)"):
        io.read(renamed)


def test_text_whose_first_column_is_named_like_a_signature_is_read_as_text(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("root_weight,PAR1\n1,2\n3,4\n")
    assert io.read(path)["PAR1"].tolist() == [2, 4]
    path.write_text("PAR1,root\n1,2\n3,4\n")
    assert io.read(path)["root"].tolist() == [2, 4]
