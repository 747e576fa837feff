"""Delimited text specifics: delimiters, compression, ragged rows, headers."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import neyman.io.csv
from neyman import io
from neyman.exceptions import DataError
from neyman.table import Table


def test_whitespace_separated_text_with_aligned_columns(tmp_path):
    path = tmp_path / "aligned.txt"
    path.write_text("pt     eta   label\n10.5   0.1   1\n 7.25 -2.0   0\n\t3.0\t1.5\t1\n")
    table = io.read(path)
    assert table.column_names == ["pt", "eta", "label"]
    assert table["pt"].tolist() == [10.5, 7.25, 3.0]
    assert table["label"].dtype == np.int64
    assert io.num_entries(path) == 3
    assert io.read(path, columns=["label", "pt"]).column_names == ["label", "pt"]


def test_gzip_is_read_and_written(tmp_path, events):
    path = io.write(events, tmp_path / "e.csv.gz")
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    with gzip.open(path, "rt") as fh:
        assert fh.readline().strip() == '"jet_pt","jet_eta","label","event_id"'
    assert len(io.read(path)) == len(events)


def test_tab_separated(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\n1\t2\n3\t4\n")
    assert io.read(path)["b"].tolist() == [2, 4]


def test_ragged_rows_are_a_data_error(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("pt,eta\n1.0,2.0\n3.0\n")
    with pytest.raises(DataError, match=r"ragged\.csv: line 3 holds 1 field where the header has 2 \('3\.0'\)"):
        io.read(path)
    with pytest.raises(DataError, match=r"ragged\.csv"):
        list(io.iterate(path))


def test_ragged_rows_far_down_a_streamed_file(tmp_path, monkeypatch):
    monkeypatch.setattr(neyman.io.csv, "_BLOCK_BYTES", 64)
    path = tmp_path / "late.csv"
    path.write_text("x,y\n" + "1,2\n" * 100 + "3\n")
    chunks = io.iterate(path, step_size=10)
    assert len(next(chunks)) == 10
    with pytest.raises(DataError, match=r"late\.csv: line 102 holds 1 field where the header has 2"):
        list(chunks)


@pytest.mark.parametrize("ext", ["csv", "txt"])
def test_header_only_file_has_columns_and_no_rows(tmp_path, ext):
    path = tmp_path / f"h.{ext}"
    path.write_text("pt,eta\n" if ext == "csv" else "pt eta\n")
    for table in [io.read(path), io.read(path, entry_stop=5), io.read(path, entry_start=-2)]:
        assert table.column_names == ["pt", "eta"] and len(table) == 0
    assert io.num_entries(path) == 0
    assert list(io.iterate(path)) == []


def test_streaming_regroups_small_blocks(tmp_path, events, monkeypatch):
    monkeypatch.setattr(neyman.io.csv, "_BLOCK_BYTES", 1000)
    path = io.write(events, tmp_path / "e.csv")
    sizes = [len(c) for c in io.iterate(path, step_size=77)]
    assert sizes == [77] * 12 + [76]
    part = io.read(path, entry_start=123, entry_stop=456)
    np.testing.assert_array_equal(part["event_id"], np.arange(123, 456))


def test_string_columns_round_trip(tmp_path):
    table = Table({"sample": np.array(["tt bar", "w+jets"]), "x": np.array([1.5, 2.5])})
    for ext in ["csv", "txt"]:
        back = io.read(io.write(table, tmp_path / f"s.{ext}"))
        assert back["sample"].tolist() == ["tt bar", "w+jets"]


def test_two_dimensional_columns_are_refused(tmp_path):
    with pytest.raises(DataError, match=r"column 'p4' has shape \(2, 4\)"):
        io.write(Table({"p4": np.zeros((2, 4))}), tmp_path / "p.csv")


def test_binary_garbage_is_a_data_error(tmp_path):
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(DataError, match=r"bad\.csv\.gz"):
        io.read(path)


def test_a_first_line_of_numbers_is_refused_but_counted_names_are_read(tmp_path):
    """Without a header the first event would become the names; pandas' ``0,1,2`` names are names."""
    values = np.array([[1.0, 0.869, -0.635], [0.0, 0.908, 0.329]])
    headerless = tmp_path / "headerless.txt"
    np.savetxt(headerless, values)  # '1.000000000000000000e+00 8.69...' : whitespace-separated, no header
    with pytest.raises(DataError, match=r"headerless\.txt: its first line .* holds 3 numbers, not column names"):
        io.read(headerless)
    counted = tmp_path / "counted.csv"
    counted.write_text("0,1,2\n1,0.869,-0.635\n0,0.908,0.329\n")
    table = io.read(counted)
    assert table.column_names == ["0", "1", "2"] and table["1"].tolist() == [0.869, 0.908]


def test_whitespace_text_with_a_row_index_or_a_lost_empty_cell_is_refused(tmp_path):
    """pandas reads both files without a word but shifts the columns; neyman names the line."""
    indexed = tmp_path / "indexed.txt"  # pandas' to_csv(sep=' ') writes the row index unnamed
    indexed.write_text(" a b label\n0 1.5 2.5 1\n1 3.5 4.5 0\n")
    with pytest.raises(DataError, match=r"line 2 holds 4 fields where the header has 3.*row index.*index=False"):
        io.read(indexed)
    with pytest.raises(DataError, match="row index"):
        io.read(indexed, columns=["a", "label"])
    tabbed = tmp_path / "tabbed.txt"  # an empty cell between two tabs
    tabbed.write_text("a\tb\tlabel\n1.5\t2.5\t1\n\t4.5\t0\n")
    with pytest.raises(
        DataError, match=r"line 3 holds 2 fields where the header has 3.*rename the file to tabbed\.tsv"
    ):
        io.read(tabbed)
    blank = tmp_path / "blank.txt"  # blank lines (which pandas skips) hold no fields to compare
    blank.write_text("\na b label\n1.5 2.5 1\n\n3.5 4.5 0\n")
    assert io.read(blank)["a"].tolist() == [1.5, 3.5]
    renamed = tabbed.rename(tmp_path / "tabbed.tsv")
    assert np.isnan(io.read(renamed)["a"][1]) and io.read(renamed)["b"].tolist() == [2.5, 4.5]
