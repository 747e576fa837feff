import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.table import Table


def test_columns_length_and_selection():
    t = Table({"pt": np.array([30.0, 45.0, 12.0]), "eta": np.array([0.1, -1.2, 2.0])}, source="f.parquet")
    assert len(t) == 3
    assert t.column_names == ["pt", "eta"]
    sub = t.take(t["pt"] > 20)
    assert np.array_equal(sub["eta"], [0.1, -1.2])
    assert t.select(["eta"]).column_names == ["eta"]
    assert np.array_equal(t.to_numpy(["eta", "pt"])[:, 1], np.float32([30, 45, 12]))


def test_mismatched_lengths_name_the_column():
    with pytest.raises(DataError, match=r"'eta'.*2 entries.*3"):
        Table({"pt": np.zeros(3), "eta": np.zeros(2)})


def test_missing_column_suggests_close_match():
    t = Table({"jet_pt": np.zeros(2)}, source="jets.root")
    with pytest.raises(DataError, match=r"no column 'jet_tp' in jets.root \(did you mean 'jet_pt'\?\)"):
        t["jet_tp"]


def test_concat_and_jagged_columns():
    ak = pytest.importorskip("awkward")
    a = Table({"x": np.arange(2), "c": ak.Array([[1, 2], []])})
    b = Table({"x": np.arange(3), "c": ak.Array([[3], [4, 5, 6], [7]])})
    t = Table.concat([a, b])
    assert len(t) == 5
    assert ak.to_list(t["c"][1:3]) == [[], [3]]
    assert t.flat_columns() == ["x"]
    with pytest.raises(DataError, match=r"not a flat numeric column"):
        t.to_numpy(["c"])


def test_concat_rejects_different_columns():
    with pytest.raises(DataError, match=r"columns differ"):
        Table.concat([Table({"a": [1]}), Table({"b": [1]})])


def test_to_numpy_names_a_text_cell():
    t = Table({"pt": np.array([1.0, 2.0, 3.0]), "tag": np.array(["1.5", "x7", "2"], dtype=object)}, source="in.csv")
    with pytest.raises(DataError, match=r"column 'tag' in in.csv holds text, not numbers: 'x7' in row 2.*features"):
        t.to_numpy(["pt", "tag"])


def test_to_numpy_reads_numbers_stored_as_text():
    t = Table({"pt": np.array(["1.5", "inf", "-2"])})
    np.testing.assert_array_equal(t.to_numpy(["pt"], dtype=np.float64)[:, 0], [1.5, np.inf, -2.0])


def test_to_numpy_reads_none_as_missing_and_refuses_dates():
    x = Table({"x": np.array([None, 1.0], dtype=object)}).to_numpy(["x"], dtype=np.float64)
    np.testing.assert_array_equal(x[:, 0], [np.nan, 1.0])
    with pytest.raises(DataError, match=r"'when' has type datetime64\[D\], not numbers"):
        Table({"when": np.array(["2024-01-01"], dtype="datetime64[D]")}).to_numpy(["when"])


def test_every_column_neyman_writes_is_an_output_column():
    """The score columns of every task (and their uncertainties) are what automatic features leave out."""
    from neyman.table import FOLD, SPLIT, is_output_column
    from neyman.tasks import TASKS, make_task

    written = [FOLD, SPLIT, "anomaly_score_3000_3500"]  # predictions.parquet; a hunt's window
    for name in TASKS:
        task = make_task(name)
        for classes in ((), ("qcd", "top", "w")):
            written += [*task.score_names(classes), *task.uncertainty_names(classes)]
    assert written and all(is_output_column(c) for c in written), [c for c in written if not is_output_column(c)]
    for measured in ("pt", "jet_pt", "sigma_ietaieta", "scores", "score_", "mass_prediction", "n_fold"):
        assert not is_output_column(measured), measured
