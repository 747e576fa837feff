"""NumPy specifics: structured and plain arrays, archives, streaming of members."""

from __future__ import annotations

import numpy as np
import pytest

from neyman import io
from neyman.exceptions import DataError
from neyman.table import Table


def test_npy_is_a_structured_array(tmp_path, events):
    path = io.write(events, tmp_path / "e.npy")
    array = np.load(path)
    assert array.dtype.names == tuple(events.column_names)
    np.testing.assert_array_equal(array["jet_eta"], events["jet_eta"])


def test_plain_2d_npy_has_numbered_columns(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(20.0).reshape(5, 4))
    table = io.read(path, columns=["f3", "f0"], entry_start=1, entry_stop=3)
    assert table.column_names == ["f3", "f0"]
    assert table["f3"].tolist() == [7.0, 11.0]
    assert io.available_columns(path) == ["f0", "f1", "f2", "f3"]


def test_plain_1d_npy_is_one_column(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(5))
    assert io.read(path)["f0"].tolist() == [0, 1, 2, 3, 4]


def test_npy_of_wrong_rank_is_refused(tmp_path):
    path = tmp_path / "cube.npy"
    np.save(path, np.zeros((2, 2, 2)))
    with pytest.raises(DataError, match=r"cube\.npy holds an array of shape \(2, 2, 2\)"):
        io.read(path)


def test_pickled_objects_are_never_loaded(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"obj\.npy"):
        io.read(path)
    archive = tmp_path / "obj.npz"
    np.savez(archive, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match=r"'x' in .*obj\.npz holds pickled Python objects"):
        io.read(archive)
    with pytest.raises(DataError, match=r"column\(s\) 'o'.*pickling"):
        io.write(Table({"o": np.array([None, 1], dtype=object)}), tmp_path / "w.npz")


def test_npz_written_by_numpy_is_read(tmp_path):
    path = tmp_path / "np.npz"
    np.savez_compressed(path, pt=np.arange(10.0), p4=np.arange(40.0).reshape(10, 4))
    table = io.read(path, entry_start=-3)
    assert table["pt"].tolist() == [7.0, 8.0, 9.0]
    np.testing.assert_array_equal(table["p4"], np.arange(40.0).reshape(10, 4)[-3:])
    assert [len(c) for c in io.iterate(path, step_size=4)] == [4, 4, 2]


def test_npz_fortran_ordered_members(tmp_path):
    path = tmp_path / "f.npz"
    matrix = np.asfortranarray(np.arange(12.0).reshape(6, 2))
    np.savez(path, m=matrix)
    chunks = list(io.iterate(path, step_size=4, entry_start=1))
    np.testing.assert_array_equal(np.concatenate([c["m"] for c in chunks]), matrix[1:])


def test_npz_columns_of_unequal_length(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, a=np.arange(3), b=np.arange(4))
    with pytest.raises(DataError, match=r"'b' in .*bad\.npz has 4 entries but 'a' has 3"):
        io.num_entries(path)


def test_npz_reserved_savez_names_are_fine(tmp_path):
    table = Table({"file": np.arange(3), "allow_pickle": np.ones(3)})
    back = io.read(io.write(table, tmp_path / "names.npz"))
    assert back.column_names == ["file", "allow_pickle"]


def test_npy_with_an_archive_inside(tmp_path):
    path = tmp_path / "wrong.npy"
    with open(path, "wb") as fh:
        np.savez(fh, x=np.arange(3))
    with pytest.raises(DataError, match=r"wrong\.npy is an \.npz \(zip\) file .* rename it \(e\.g\. to wrong\.npz\)"):
        io.read(path)


def test_empty_tables(tmp_path, events):
    for ext in ["npy", "npz"]:
        back = io.read(io.write(events.head(0), tmp_path / f"empty.{ext}"))
        assert len(back) == 0 and back.column_names == events.column_names


def test_an_npy_of_python_objects_is_refused_without_loading_it(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}] * 4, dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"objects\.npy holds an array of Python objects \(pickled\)"):
        io.read(path)
