"""Parquet specifics: streaming by row group, list columns, Arrow types."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import neyman.io.arrow
import neyman.io.parquet
from neyman import io
from neyman.exceptions import DataError, MissingDependencyError
from neyman.table import Table


@pytest.fixture
def small_row_groups(monkeypatch):
    monkeypatch.setattr(neyman.io.parquet, "ROW_GROUP_SIZE", 100)


def test_writer_splits_row_groups(tmp_path, events, small_row_groups):
    path = io.write(events, tmp_path / "e.parquet")
    assert pq.ParquetFile(path).metadata.num_row_groups == 10


def test_iterate_streams_without_reading_the_whole_file(tmp_path, events, small_row_groups, monkeypatch):
    path = io.write(events, tmp_path / "e.parquet")

    def forbidden(*args, **kwargs):
        raise AssertionError("iterate must not read the whole file")

    monkeypatch.setattr(pq.ParquetFile, "read", forbidden)
    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", forbidden)
    monkeypatch.setattr(pq, "read_table", forbidden)
    seen_sizes = []
    original = pq.ParquetFile.iter_batches

    def spy(self, *args, **kwargs):
        for batch in original(self, *args, **kwargs):
            seen_sizes.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    chunks = io.iterate(path, step_size=150)
    first = next(chunks)
    assert len(first) == 150 and sum(seen_sizes) < len(events)  # lazily, batch by batch
    rest = list(chunks)
    assert [len(c) for c in rest] == [150] * 5 + [100]
    np.testing.assert_array_equal(
        np.concatenate([first["event_id"], *[c["event_id"] for c in rest]]), events["event_id"]
    )


def test_a_range_reads_only_the_row_groups_it_needs(tmp_path, events, small_row_groups, monkeypatch):
    path = io.write(events, tmp_path / "e.parquet")
    asked = []
    original = pq.ParquetFile.read_row_groups

    def spy(self, row_groups, **kwargs):
        asked.append(list(row_groups))
        return original(self, row_groups, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", spy)
    table = io.read(path, entry_start=250, entry_stop=420)
    assert asked == [[2, 3, 4]]
    np.testing.assert_array_equal(table["event_id"], np.arange(250, 420))
    chunks = list(io.iterate(path, entry_start=250, entry_stop=420, step_size=64))
    assert [len(c) for c in chunks] == [64, 64, 42]


def test_list_and_fixed_size_columns(tmp_path):
    ak = pytest.importorskip("awkward")
    table = Table(
        {
            "constituent_pt": ak.Array([[1.0, 2.0], [], [3.0]]),
            "p4": np.arange(12.0).reshape(3, 4),
            "n": np.array([2, 0, 1], dtype=np.int32),
        }
    )
    back = io.read(io.write(table, tmp_path / "j.parquet"))
    assert ak.to_list(back["constituent_pt"]) == [[1.0, 2.0], [], [3.0]]
    assert str(ak.type(back["constituent_pt"]).content) == "var * float64"
    assert isinstance(back["p4"], np.ndarray) and back["p4"].shape == (3, 4)
    np.testing.assert_array_equal(back["p4"], table["p4"])
    assert back["n"].dtype == np.int32


def test_list_columns_without_awkward_are_a_data_error(tmp_path, monkeypatch):
    path = tmp_path / "lists.parquet"
    pq.write_table(pa.table({"x": [[1.0], [2.0, 3.0]], "y": [1, 2]}), path)

    def missing(module, *, purpose=""):
        raise MissingDependencyError(f'install it with: pip install "neyman[root]" ({module})')

    monkeypatch.setattr(neyman.io.arrow, "require", missing)
    with pytest.raises(DataError, match=r"column 'x' of .*lists\.parquet is a list column.*pip install"):
        io.read(path)
    assert io.read(path, columns=["y"])["y"].tolist() == [1, 2]


def test_foreign_arrow_types(tmp_path):
    path = tmp_path / "foreign.parquet"
    data = pa.table(
        {
            "process": pa.array(["ttbar", "wjets", "ttbar"]).dictionary_encode(),
            "name": ["a", "b", "c"],
            "maybe": pa.array([1.5, None, 2.5]),
            "flag": [True, False, True],
        }
    )
    pq.write_table(data, path)
    table = io.read(path)
    assert table["process"].tolist() == ["ttbar", "wjets", "ttbar"]
    assert table["name"].tolist() == ["a", "b", "c"]
    assert np.isnan(table["maybe"][1]) and table["maybe"][2] == 2.5
    assert table["flag"].dtype == bool


def test_strings_round_trip(tmp_path):
    table = Table({"sample": np.array(["sig", "bkg"]), "x": np.arange(2.0)})
    assert io.read(io.write(table, tmp_path / "s.parquet"))["sample"].tolist() == ["sig", "bkg"]


def test_an_empty_table_keeps_its_columns(tmp_path, events):
    back = io.read(io.write(events.head(0), tmp_path / "empty.parquet"))
    assert len(back) == 0 and back.column_names == events.column_names
    assert back["jet_pt"].dtype == np.float64


def test_a_writer_given_nothing_leaves_an_empty_file(tmp_path):
    path = tmp_path / "nothing.parquet"
    with io.open_writer(path):
        pass
    assert io.num_entries(path) == 0 and io.available_columns(path) == []


def test_chunks_with_other_types_are_cast_to_the_first(tmp_path):
    path = tmp_path / "cast.parquet"
    with io.open_writer(path) as writer:
        writer.write(Table({"x": np.arange(3.0)}))
        writer.write(Table({"x": np.arange(2, dtype=np.int64)}))
    back = io.read(path)
    assert back["x"].dtype == np.float64 and back["x"].tolist() == [0.0, 1.0, 2.0, 0.0, 1.0]


def test_unconvertible_column_names_the_column(tmp_path):
    table = Table({"obj": np.array([{"a": 1}, 3], dtype=object)})
    with pytest.raises(DataError, match=r"cannot write column 'obj'.*o\.parquet"):
        io.write(table, tmp_path / "o.parquet")
    assert list(tmp_path.iterdir()) == []


def test_index_columns_name_the_index_pandas_wrote(tmp_path):
    """A named pandas index is an ordinary Parquet column; the pandas metadata tells it is the index."""
    import pandas as pd

    frame = pd.DataFrame({"evt": [7, 3, 5], "run": [1, 1, 2], "pt": [1.0, 2.0, 3.0]})
    frame.set_index("evt").to_parquet(tmp_path / "named.parquet")
    frame.set_index(["run", "evt"]).to_parquet(tmp_path / "two.parquet")
    frame.to_parquet(tmp_path / "range.parquet")  # a range index lives in the metadata only
    frame.iloc[[2, 0, 1]].to_parquet(tmp_path / "unnamed.parquet")  # '__index_level_0__'
    io.write(Table({"pt": np.ones(3)}), tmp_path / "neyman.parquet")
    assert io.index_columns(tmp_path / "named.parquet") == ["evt"]
    assert "evt" in io.read(tmp_path / "named.parquet").column_names
    assert io.index_columns(tmp_path / "two.parquet") == ["run", "evt"]
    assert io.index_columns(tmp_path / "range.parquet") == []
    assert io.index_columns(tmp_path / "unnamed.parquet") == ["__index_level_0__"]
    assert io.index_columns(tmp_path / "neyman.parquet") == []
    frame.to_csv(tmp_path / "frame.csv")
    assert io.index_columns(tmp_path / "frame.csv") == []  # a CSV cannot tell
