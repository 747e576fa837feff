"""ROOT specifics: trees, jagged branches, counters."""

from __future__ import annotations

import numpy as np
import pytest

from neyman import io
from neyman.exceptions import DataError
from neyman.table import Table

uproot = pytest.importorskip("uproot")
ak = pytest.importorskip("awkward")


@pytest.fixture
def jets() -> Table:
    rng = np.random.default_rng(11)
    n = 500
    counts = rng.integers(0, 6, n)
    pt = ak.unflatten(rng.exponential(20.0, counts.sum()), counts)
    eta = ak.unflatten(rng.normal(0.0, 2.0, counts.sum()).astype(np.float32), counts)
    return Table({"met": rng.exponential(30.0, n), "constituent_pt": pt, "constituent_eta": eta})


def test_jagged_round_trip(tmp_path, jets):
    path = io.write(jets, tmp_path / "jets.root", tree="Jets")
    table = io.read(path)
    assert table.source == f"{path}:Jets"
    assert isinstance(table["met"], np.ndarray)
    for name in ["constituent_pt", "constituent_eta"]:
        assert ak.to_list(table[name]) == ak.to_list(jets[name])
        assert str(ak.type(table[name]).content) == str(ak.type(jets[name]).content)
    # ROOT needs a counter branch per jagged branch
    np.testing.assert_array_equal(table["nconstituent_pt"], ak.num(jets["constituent_pt"]))
    assert table.flat_columns() == ["met", "nconstituent_pt", "nconstituent_eta"]


def test_jagged_ranges_and_chunks(tmp_path, jets):
    path = io.write(jets, tmp_path / "jets.root")
    part = io.read(path, columns=["constituent_pt"], entry_start=100, entry_stop=130)
    assert ak.to_list(part["constituent_pt"]) == ak.to_list(jets["constituent_pt"][100:130])
    chunks = list(io.iterate(path, columns=["constituent_pt", "met"], step_size=64))
    assert max(len(c) for c in chunks) == 64 and len(chunks) == 8
    whole = Table.concat(chunks)
    assert ak.to_list(whole["constituent_pt"]) == ak.to_list(jets["constituent_pt"])


def test_a_table_read_back_can_be_written_again(tmp_path, jets):
    first = io.read(io.write(jets, tmp_path / "a.root"))
    second = io.read(io.write(first, tmp_path / "b.root"))
    assert second.column_names == first.column_names
    assert ak.to_list(second["constituent_eta"]) == ak.to_list(jets["constituent_eta"])


def test_a_clashing_counter_column_is_refused(tmp_path, jets):
    bad = jets.with_column("nconstituent_pt", np.zeros(len(jets), dtype=np.int32))
    with pytest.raises(DataError, match=r"'nconstituent_pt'.*counter.*'constituent_pt'.*rename"):
        io.write(bad, tmp_path / "bad.root")


def test_string_columns_are_refused(tmp_path):
    table = Table({"name": np.array(["a", "b"])})
    with pytest.raises(DataError, match=r"column 'name'.*numbers only"):
        io.write(table, tmp_path / "s.root")


def test_fixed_size_branches_become_2d_arrays(tmp_path):
    table = Table({"p4": np.arange(12.0).reshape(3, 4), "x": np.arange(3)})
    back = io.read(io.write(table, tmp_path / "fixed.root"))
    np.testing.assert_array_equal(back["p4"], table["p4"])


@pytest.fixture
def two_trees(tmp_path):
    path = tmp_path / "two.root"
    with uproot.recreate(path) as f:
        f.mktree("signal", {"x": np.float64})
        f["signal"].extend({"x": np.arange(3.0)})
        f.mktree("dir/background", {"x": np.float64})
        f["dir/background"].extend({"x": np.arange(5.0)})
        f["hist"] = np.histogram(np.arange(10.0), bins=3)
    return path


def test_several_trees_need_a_choice(two_trees):
    with pytest.raises(DataError, match=r"several trees \('signal', 'dir/background'\).*tree="):
        io.read(two_trees)
    assert io.num_entries(two_trees, tree="signal") == 3
    assert io.num_entries(f"{two_trees}:dir/background") == 5


def test_missing_tree_lists_the_trees(two_trees):
    with pytest.raises(DataError) as info:
        io.read(two_trees, tree="signl")
    message = str(info.value)
    assert "no tree 'signl'" in message and "two.root" in message
    assert "did you mean 'signal'" in message and "'dir/background'" in message


def test_a_histogram_is_not_a_tree(two_trees):
    with pytest.raises(DataError, match=r"'hist' in .*two\.root is a TH1D, not a TTree"):
        io.available_columns(two_trees, tree="hist")


def test_file_without_trees(tmp_path):
    path = tmp_path / "h.root"
    with uproot.recreate(path) as f:
        f["hist"] = np.histogram(np.arange(10.0), bins=3)
    with pytest.raises(DataError, match=r"h\.root holds no TTree.*'hist'"):
        io.read(path)


def test_rntuple_files_are_read(tmp_path):
    path = tmp_path / "nt.root"
    with uproot.recreate(path) as f:
        f.mkrntuple("ntuple", {"x": np.float64})
        f["ntuple"].extend({"x": np.arange(7.0)})
    table = io.read(path, entry_start=2)
    np.testing.assert_array_equal(table["x"], np.arange(2.0, 7.0))
    assert [len(c) for c in io.iterate(path, step_size=3)] == [3, 3, 1]


def test_a_tree_cycle_is_read_as_named(tmp_path):
    """``tree;1`` is that cycle, not ROOT's highest; a cycle the file lacks is refused with the ones it has."""
    path = tmp_path / "cycles.root"
    with uproot.recreate(path) as f:
        f.mktree("events", {"a": np.float64}).extend({"a": np.arange(10.0)})
    with uproot.update(path) as f:
        f.mktree("events", {"a": np.float64}).extend({"a": np.arange(30.0)})
    assert len(io.read(f"{path}:events;1")) == 10
    assert len(io.read(f"{path}:events;2")) == 30
    assert len(io.read(f"{path}:events")) == 30
    with pytest.raises(DataError, match=r"no cycle '9' of tree 'events'.*events;1, events;2"):
        io.read(f"{path}:events;9")
