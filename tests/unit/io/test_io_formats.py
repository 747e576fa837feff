"""Behaviour every format shares: round trip, projection, ranges, chunks, atomic writes, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neyman import io
from neyman.exceptions import DataError
from neyman.io.core import TableWriter
from neyman.table import Table

FLAT = ["root", "parquet", "h5", "csv", "csv.gz", "tsv", "txt", "npy", "npz"]
TEXT = {"csv", "csv.gz", "tsv", "txt"}
BINARY = ["root", "parquet", "h5", "npy", "npz"]


@pytest.fixture(params=FLAT)
def ext(request: pytest.FixtureRequest) -> str:
    if request.param == "root":
        pytest.importorskip("uproot")
    if request.param == "h5":
        pytest.importorskip("h5py")
    return str(request.param)


def test_round_trip_keeps_values_dtypes_and_order(tmp_path, ext, events, assert_same):
    path = io.write(events, tmp_path / f"events.{ext}")
    assert path == tmp_path / f"events.{ext}"
    table = io.read(path)
    assert_same(table, events, text=ext in TEXT)
    assert str(path) in table.source
    assert io.num_entries(path) == len(events)
    assert io.available_columns(path) == events.column_names


def test_column_projection_keeps_the_requested_order(tmp_path, ext, events):
    path = io.write(events, tmp_path / f"events.{ext}")
    table = io.read(path, columns=["label", "jet_pt"])
    assert table.column_names == ["label", "jet_pt"]
    np.testing.assert_array_equal(table["jet_pt"], events["jet_pt"])


@pytest.mark.parametrize(
    ("start", "stop"),
    [(10, 20), (None, 5), (995, None), (-7, -2), (990, 5000), (-5000, 3), (50, 10), (1000, None)],
)
def test_entry_range_follows_python_slices(tmp_path, ext, events, start, stop):
    path = io.write(events, tmp_path / f"events.{ext}")
    table = io.read(path, columns=["event_id"], entry_start=start, entry_stop=stop)
    np.testing.assert_array_equal(table["event_id"], events["event_id"][start:stop])


def test_iterate_concatenates_to_the_whole_in_bounded_chunks(tmp_path, ext, events, assert_same):
    path = io.write(events, tmp_path / f"events.{ext}")
    chunks = list(io.iterate(path, step_size=128))
    assert [len(c) for c in chunks] == [128] * 7 + [104]
    assert_same(Table.concat(chunks), events, text=ext in TEXT)


def test_iterate_with_range_and_columns(tmp_path, ext, events):
    path = io.write(events, tmp_path / f"events.{ext}")
    chunks = list(io.iterate(path, columns=["event_id"], step_size=300, entry_start=-650))
    assert all(len(c) <= 300 for c in chunks) and len(chunks) == 3
    assert all(c.column_names == ["event_id"] for c in chunks)
    np.testing.assert_array_equal(np.concatenate([c["event_id"] for c in chunks]), events["event_id"][-650:])


def test_iterate_of_an_empty_range_yields_nothing(tmp_path, ext, events):
    path = io.write(events, tmp_path / f"events.{ext}")
    assert list(io.iterate(path, entry_start=500, entry_stop=500)) == []


def test_open_writer_appends_chunks(tmp_path, ext, events, assert_same):
    path = tmp_path / f"chunked.{ext}"
    with io.open_writer(path) as writer:
        for a in range(0, len(events), 300):
            writer.write(events.take(np.arange(a, min(a + 300, len(events)))))
        assert not path.exists()  # only renamed into place when complete
    assert writer.n_entries == len(events)
    assert_same(io.read(path), events, text=ext in TEXT)


def test_open_writer_rejects_chunks_with_other_columns(tmp_path, ext, events):
    path = tmp_path / f"chunked.{ext}"
    with pytest.raises(DataError, match=r"columns differ.*'label'"), io.open_writer(path) as writer:
        writer.write(events)
        writer.write(events.drop(["label"]))
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, ext, events, monkeypatch):
    path = io.write(events, tmp_path / f"events.{ext}")
    before = path.read_bytes()
    seen_tmp: list[bool] = []
    original = TableWriter.write

    def write_then_fail(self: TableWriter, table: Table) -> None:
        original(self, table)
        seen_tmp.append(self.path.exists() and self.path != path)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(TableWriter, "write", write_then_fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        io.write(events.head(10), path)
    assert seen_tmp == [True]
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_write_creates_parent_directories(tmp_path, ext, events):
    path = io.write(events.head(5), tmp_path / "a" / "b" / f"events.{ext}")
    assert io.num_entries(path) == 5


def test_missing_column_names_the_file_and_suggests(tmp_path, ext, events):
    path = io.write(events, tmp_path / f"events.{ext}")
    with pytest.raises(DataError) as info:
        io.read(path, columns=["jet_pt", "jet_etaa"])
    message = str(info.value)
    assert "'jet_etaa'" in message and f"events.{ext}" in message
    assert "did you mean 'jet_eta'" in message
    assert "available columns: 'jet_pt', 'jet_eta', 'label', 'event_id'" in message
    with pytest.raises(DataError, match="jet_etaa"):
        io.iterate(path, columns=["jet_etaa"])


@pytest.mark.parametrize("ext", BINARY)
def test_truncated_file_is_a_data_error(tmp_path, ext, events):
    if ext == "root":
        pytest.importorskip("uproot")
    if ext == "h5":
        pytest.importorskip("h5py")
    good = io.write(events, tmp_path / f"good.{ext}")
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match=r"cannot read .*cut\.\w+ as a .*truncated, corrupt") as info:
        io.read(cut)
    assert info.value.__cause__ is not None


@pytest.mark.parametrize("ext", BINARY)
def test_garbage_file_is_a_data_error(tmp_path, ext):
    if ext == "root":
        pytest.importorskip("uproot")
    if ext == "h5":
        pytest.importorskip("h5py")
    junk = tmp_path / f"junk.{ext}"
    junk.write_bytes(b"this is not a data file\n" * 50)
    with pytest.raises(DataError, match=r"junk\.\w+"):
        io.read(junk)
    with pytest.raises(DataError, match=r"junk\.\w+"):
        io.num_entries(junk)


def test_file_spec_with_a_tree_is_accepted_by_read(tmp_path, events):
    pytest.importorskip("uproot")
    path = io.write(events, tmp_path / "events.root", tree="Events")
    table = io.read(f"{path}:Events", columns=["jet_pt"])
    assert table.source == f"{path}:Events"
    with pytest.raises(DataError, match="names tree 'Events' but tree='Other'"):
        io.read(f"{path}:Events", tree="Other")


def test_jagged_columns_are_refused_by_flat_formats(tmp_path, events):
    ak = pytest.importorskip("awkward")
    table = events.with_column("constituent_pt", ak.Array([[1.0]] * len(events)))
    for ext in ["csv", "h5", "npy"]:
        if ext == "h5":
            pytest.importorskip("h5py")
        with pytest.raises(DataError, match=r"column 'constituent_pt' is jagged.*Parquet or ROOT"):
            io.write(table, tmp_path / f"jagged.{ext}")
    assert list(tmp_path.iterdir()) == []


def test_writing_over_a_directory_is_refused(tmp_path, events):
    (tmp_path / "out.parquet").mkdir()
    with pytest.raises(DataError, match="is a directory"):
        io.write(events, tmp_path / "out.parquet")


def test_written_files_are_readable_under_any_extension_case(tmp_path, events):
    path = io.write(events.head(3), tmp_path / "EVENTS.PARQUET")
    assert len(io.read(path)) == 3


def test_read_accepts_string_paths(tmp_path, events):
    path = io.write(events.head(3), str(tmp_path / "e.npz"))
    assert isinstance(path, Path)
    assert len(io.read(str(path))) == 3


def test_every_format_is_a_backend_and_its_module_functions_are_its_methods():
    from neyman.io import csv, datasets, hdf5, parquet, root
    from neyman.io import numpy as npio
    from neyman.io.core import Backend

    for backend in (csv.CSV, hdf5.HDF5, parquet.PARQUET, root.ROOT, npio.NPY, npio.NPZ, datasets.SUSY, datasets.HIGGS):
        assert isinstance(backend, Backend)
    for module, backend in ((csv, csv.CSV), (hdf5, hdf5.HDF5), (parquet, parquet.PARQUET), (root, root.ROOT)):
        assert module.read == backend.read and module.iterate == backend.iterate
        assert module.num_entries == backend.num_entries and module.available_columns == backend.available_columns
        assert module.open_writer == backend.open_writer
