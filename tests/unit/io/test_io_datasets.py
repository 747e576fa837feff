"""The UCI SUSY and HIGGS layouts: headerless CSV, published feature names."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from neyman import io
from neyman.exceptions import DataError
from neyman.io.datasets import FEATURE_SETS, HIGGS, SUSY, feature_set
from neyman.table import Table


def _uci_lines(n_features: int, n_rows: int, seed: int) -> tuple[np.ndarray, str]:
    """Rows formatted like the published files: '%.18e' floats, label first."""
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n_rows, n_features + 1))
    data[:, 0] = rng.integers(0, 2, n_rows)
    text = "".join(",".join(f"{v:.18e}" for v in row) + "\n" for row in data)
    return data, text


def test_feature_sets_have_the_published_sizes():
    sizes = {f: {k: len(v) for k, v in sets.items()} for f, sets in FEATURE_SETS.items()}
    assert sizes == {
        "uci-susy": {"low-level": 8, "high-level": 10, "all": 18},
        "uci-higgs": {"low-level": 21, "high-level": 7, "all": 28},
    }
    assert feature_set("uci-susy", "all") == [*SUSY.low_level, *SUSY.high_level]
    assert feature_set("uci-susy", "low-level")[0] == "lepton_1_pt"
    assert feature_set("uci-susy", "high-level") == [
        "met_rel", "axial_met", "m_r", "m_tr_2", "r", "mt2", "s_r", "m_delta_r", "dphi_r_b",
        "cos_theta_r1",
    ]  # fmt: skip
    assert feature_set("uci-higgs", "low-level")[4:9] == [
        "missing_energy_phi", "jet_1_pt", "jet_1_eta", "jet_1_phi", "jet_1_b_tag",
    ]  # fmt: skip
    assert feature_set("uci-higgs", "high-level")[-1] == "m_wwbb"
    assert len(set(feature_set("uci-higgs", "all"))) == 28


def test_feature_set_returns_a_copy():
    feature_set("uci-susy", "all").append("oops")
    assert len(feature_set("uci-susy", "all")) == 18


def test_unknown_feature_set_lists_valid_names():
    with pytest.raises(DataError, match=r"'lowlevel' for uci-higgs \(did you mean 'low-level'\?\).*high-level, all"):
        feature_set("uci-higgs", "lowlevel")
    with pytest.raises(DataError, match=r"format 'uci-susi'.*did you mean 'uci-susy'"):
        feature_set("uci-susi", "all")


@pytest.mark.parametrize(("layout", "gz"), [(SUSY, False), (SUSY, True), (HIGGS, False)])
def test_reading_a_headerless_file(tmp_path, layout, gz):
    data, text = _uci_lines(len(layout.features), 50, seed=3)
    path = tmp_path / ("data.csv.gz" if gz else "data.csv")
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    table = io.read(path, format=layout.name)
    assert table.column_names == ["label", *layout.features]
    assert table["label"].dtype == np.int64
    np.testing.assert_array_equal(table["label"], data[:, 0].astype(np.int64))
    np.testing.assert_array_equal(table[layout.features[-1]], data[:, -1])
    assert io.num_entries(path, format=layout.name) == 50
    assert io.available_columns(path, format=layout.name) == table.column_names
    high = io.read(path, format=layout.name, columns=feature_set(layout.name, "high-level"))
    assert high.column_names == list(layout.high_level)
    part = io.read(path, format=layout.name, columns=["label"], entry_start=10, entry_stop=20)
    np.testing.assert_array_equal(part["label"], data[10:20, 0])
    chunks = list(io.iterate(path, format=layout.name, step_size=16))
    assert [len(c) for c in chunks] == [16, 16, 16, 2]
    assert all(c["label"].dtype == np.int64 for c in chunks)


def test_wrong_number_of_columns_names_file_and_counts(tmp_path):
    _, text = _uci_lines(len(HIGGS.features), 5, seed=1)
    path = tmp_path / "HIGGS.csv"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        io.read(path, format="uci-susy")
    message = str(info.value)
    assert "HIGGS.csv has 29 columns" in message and "has 19" in message
    with pytest.raises(DataError, match="has 29 columns"):
        io.iterate(path, format="uci-susy")


def test_a_header_row_is_refused(tmp_path):
    path = tmp_path / "with_header.csv"
    path.write_text(",".join(SUSY.columns) + "\n" + ",".join(["1"] * 19) + "\n")
    with pytest.raises(DataError, match=r"first line of .*with_header\.csv is not numeric.*format='csv'"):
        io.read(path, format="uci-susy")


def test_non_integer_labels_are_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(",".join(["0.5"] * 19) + "\n")
    with pytest.raises(DataError, match=r"bad\.csv: the label column holds non-integer values"):
        io.read(path, format="uci-susy")


def _susy_table(n: int, seed: int) -> Table:
    rng = np.random.default_rng(seed)
    columns = {"label": rng.integers(0, 2, n)}
    columns.update({f: rng.normal(size=n).astype(np.float32) for f in SUSY.features})
    return Table(columns)


@pytest.mark.parametrize("name", ["susy.csv", "susy.csv.gz"])
def test_writing_the_uci_layout_round_trips(tmp_path, name):
    table = _susy_table(40, seed=5)
    path = io.write(table.select([*reversed(table.column_names)]), tmp_path / name, format="uci-susy")
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt") as fh:
        first = fh.readline().strip().split(",")
    assert len(first) == 19 and first[0] in {"0", "1"}
    back = io.read(path, format="uci-susy")
    assert back.column_names == SUSY.columns
    np.testing.assert_array_equal(back["label"], table["label"])
    for f in SUSY.features:
        np.testing.assert_array_equal(back[f].astype(np.float32), table[f])


def test_writing_the_uci_layout_checks_columns_and_labels(tmp_path):
    table = _susy_table(5, seed=2)
    with pytest.raises(DataError, match=r"missing column\(s\) 'm_tr_2' \(did you mean 'm_tr2'"):
        io.write(
            table.drop(["m_tr_2"]).with_column("m_tr2", np.zeros(5)),
            tmp_path / "a.csv",
            format="uci-susy",
        )
    with pytest.raises(DataError, match=r"no place for column\(s\) \['weight'\]"):
        io.write(table.with_column("weight", np.ones(5)), tmp_path / "b.csv", format="uci-susy")
    with pytest.raises(DataError, match=r"labels must be 0 \(background\) or 1 \(signal\), found \[2\]"):
        io.write(table.with_column("label", np.full(5, 2)), tmp_path / "c.csv", format="uci-susy")
    assert list(tmp_path.iterdir()) == []
