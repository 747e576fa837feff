"""HDF5 specifics: layouts, automatic group discovery, strings."""

from __future__ import annotations

import numpy as np
import pytest

from neyman import io
from neyman.exceptions import DataError
from neyman.table import Table

h5py = pytest.importorskip("h5py")


def test_write_puts_columns_in_the_named_group(tmp_path, events):
    path = io.write(events, tmp_path / "e.h5", tree="events")
    with h5py.File(path, "r") as f:
        assert list(f) == ["events"]
        assert list(f["events"]) == events.column_names
        assert f["events/jet_pt"].shape == (len(events),)
    assert io.read(path, tree="events").source == f"{path}:events"
    assert len(io.read(f"{path}:events")) == len(events)


def test_write_to_the_root_group(tmp_path, events):
    path = io.write(events, tmp_path / "e.h5", tree="/")
    with h5py.File(path, "r") as f:
        assert set(f) == set(events.column_names)
    assert io.read(path).source == str(path)


def test_compound_dataset_is_a_table(tmp_path):
    rec = np.zeros(50, dtype=[("pt", "f8"), ("eta", "f4"), ("label", "i8")])
    rec["pt"] = np.arange(50.0)
    path = tmp_path / "rec.h5"
    with h5py.File(path, "w") as f:
        f["particles"] = rec
    table = io.read(path, columns=["pt", "label"], entry_start=5, entry_stop=9)
    assert table.column_names == ["pt", "label"]
    assert table["pt"].tolist() == [5.0, 6.0, 7.0, 8.0]
    assert table.source == f"{path}:particles"
    assert io.available_columns(path) == ["pt", "eta", "label"]
    assert [len(c) for c in io.iterate(path, step_size=20)] == [20, 20, 10]


def test_two_dimensional_dataset_columns_are_numbered(tmp_path):
    path = tmp_path / "m.h5"
    with h5py.File(path, "w") as f:
        f["X"] = np.arange(30.0).reshape(10, 3)
    table = io.read(path)
    assert table.column_names == ["f0", "f1", "f2"]
    np.testing.assert_array_equal(table["f1"], np.arange(1.0, 30.0, 3))


def test_root_datasets_are_read_when_there_is_no_group(tmp_path):
    path = tmp_path / "flat.h5"
    with h5py.File(path, "w") as f:
        f["a"] = np.arange(4)
        f["b"] = np.ones(4)
    assert io.read(path).column_names == ["a", "b"]


def test_several_tables_need_a_choice(tmp_path):
    path = tmp_path / "two.h5"
    with h5py.File(path, "w") as f:
        f["sig/x"] = np.arange(3.0)
        f["bkg/x"] = np.arange(5.0)
    with pytest.raises(DataError, match=r"several tables \('bkg', 'sig'\).*two\.h5:bkg.*--tree bkg; tree= in Python"):
        io.read(path)
    assert io.num_entries(path, tree="bkg") == 5


def test_missing_group_lists_the_tables(tmp_path):
    path = tmp_path / "one.h5"
    with h5py.File(path, "w") as f:
        f["events/x"] = np.arange(3.0)
    with pytest.raises(DataError, match=r"no group or dataset 'event' in .*one\.h5 \(did you mean 'events'\?\)"):
        io.read(path, tree="event")


def test_unequal_lengths_name_the_dataset(tmp_path):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f["g/a"] = np.arange(3.0)
        f["g/b"] = np.arange(4.0)
    with pytest.raises(DataError, match=r"dataset 'b' in group 'g' of .*bad\.h5 has 4 entries"):
        io.read(path)


def test_file_without_tables(tmp_path):
    path = tmp_path / "none.h5"
    with h5py.File(path, "w") as f:
        f.create_group("empty")
    with pytest.raises(DataError, match=r"none\.h5 holds no table"):
        io.read(path)


def test_strings_and_2d_columns_round_trip(tmp_path):
    table = Table({"sample": np.array(["signal", "bkg"]), "p4": np.arange(8.0).reshape(2, 4)})
    back = io.read(io.write(table, tmp_path / "s.h5"))
    assert back["sample"].tolist() == ["signal", "bkg"]
    np.testing.assert_array_equal(back["p4"], table["p4"])


def test_invalid_column_name_and_objects_are_refused(tmp_path):
    with pytest.raises(DataError, match=r"column name 'a/b'.*rename"):
        io.write(Table({"a/b": np.arange(2)}), tmp_path / "x.h5")
    with pytest.raises(DataError, match=r"column 'o'.*Python objects"):
        io.write(Table({"o": np.array([1, "a"], dtype=object)}), tmp_path / "y.h5")
    assert list(tmp_path.iterdir()) == []


def test_empty_table(tmp_path, events):
    back = io.read(io.write(events.head(0), tmp_path / "empty.h5"))
    assert len(back) == 0 and back.column_names == events.column_names


@pytest.mark.parametrize("data_columns", [None, True])
def test_pandas_table_format_is_read_without_its_index(tmp_path, data_columns):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    frame = pd.DataFrame({"b": [3.5, 4.5, 5.5], "a": [1, 2, 3], "flag": [True, False, True], "name": ["x", "y", "z"]})
    frame.index = [10, 20, 30]
    frame.to_hdf(tmp_path / "t.h5", key="events", format="table", data_columns=data_columns)
    for source in ["t.h5", "t.h5:events", "t.h5:events/table"]:
        table = io.read(tmp_path / source if ":" not in source else f"{tmp_path}/{source}")
        assert table.column_names == ["b", "a", "flag", "name"], source
    np.testing.assert_array_equal(table["b"], [3.5, 4.5, 5.5])
    np.testing.assert_array_equal(table["a"], [1, 2, 3])
    assert table["flag"].dtype == np.bool_
    assert table["name"].tolist() == ["x", "y", "z"]  # text, not the bytes the table stores
    assert io.read(tmp_path / "t.h5", entry_start=1)["a"].tolist() == [2, 3]


@pytest.mark.parametrize("layout", ["fixed", "table"])
def test_pandas_booleans_times_and_text_come_back_as_pandas_wrote_them(tmp_path, layout):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    times = pd.to_datetime(["2020-01-01 00:00", "2021-07-01 12:30", "2022-06-01 00:00"])
    frame = pd.DataFrame(
        {
            "x": [1.5, 2.5, 3.5],
            "flag": [True, False, True],
            "when": times,
            "lasted": pd.to_timedelta([1, 2, 3], unit="s"),
            "name": ["x", "é", "z"],
        }
    )
    frame.to_hdf(tmp_path / "f.h5", key="df", format=layout)
    numbers = io.read(tmp_path / "f.h5", columns=["x", "flag", "when", "lasted"])
    assert numbers["flag"].tolist() == [True, False, True]  # not the bit field's 1, 0, 1
    np.testing.assert_array_equal(numbers["when"], times.to_numpy())  # not integers of an unknown unit
    np.testing.assert_array_equal(numbers["lasted"], frame["lasted"].to_numpy())
    if layout == "table":
        assert io.read(tmp_path / "f.h5", columns=["name"])["name"].tolist() == ["x", "é", "z"]
    else:  # the fixed format pickles text: listed, never loaded
        assert "name" in io.available_columns(tmp_path / "f.h5")
        with pytest.raises(DataError, match=r"column 'name'.*pickled.*format='table'"):
            io.read(tmp_path / "f.h5", columns=["name"])


class _Payload:
    """Unpickling this would create the file named by ``target`` (a reduction to ``open``)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_pandas_table_whose_column_names_pickle_code_is_refused_and_nothing_runs(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    import pickle

    pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}).to_hdf(tmp_path / "t.h5", key="events", format="table")
    target = tmp_path / "ran.txt"
    with h5py.File(tmp_path / "t.h5", "r+") as f:
        f["events/table"].attrs["values_block_0_kind"] = np.bytes_(pickle.dumps([_Payload(str(target))], protocol=0))
    with pytest.raises(DataError, match="cannot tell the columns of field 'values_block_0'"):
        io.read(tmp_path / "t.h5")
    assert not target.exists()


def test_a_table_below_the_top_level_is_found_like_a_root_tree(tmp_path):
    """One table anywhere in the file is read; several are listed by their paths."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    path = tmp_path / "nested.h5"
    with h5py.File(path, "w") as f:
        f["run1/events/a"] = np.arange(4.0)
    assert io.read(path)["a"].tolist() == [0.0, 1.0, 2.0, 3.0]
    for layout in ("table", "fixed"):
        pd.DataFrame({"b": [1.5, 2.5]}).to_hdf(tmp_path / f"{layout}.h5", key="grp/sub/df", format=layout)
        assert io.read(tmp_path / f"{layout}.h5")["b"].tolist() == [1.5, 2.5]
    with h5py.File(path, "a") as f:
        f["run2/events/a"] = np.arange(2.0)
    with pytest.raises(DataError, match=r"several tables \('run1/events', 'run2/events'\).*:run1/events"):
        io.read(path)
