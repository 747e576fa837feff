"""The public jet data sets' fixed-size blocks read as jagged constituents (neyman.io.constituents)."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from neyman import io
from neyman.exceptions import DataError
from neyman.table import Table

# two jets: three constituents (one of them soft), and one; zero padding to four blocks
E = np.array([[100.0, 50.0, 1.0, 0.0], [80.0, 0.0, 0.0, 0.0]])
PX = np.array([[60.0, 30.0, 0.6, 0.0], [0.0, 0.0, 0.0, 0.0]])
PY = np.array([[80.0, 40.0, 0.8, 0.0], [80.0, 0.0, 0.0, 0.0]])
PZ = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


def _landscape(path: Path, blocks: dict[str, np.ndarray] | None = None, size: int = 4) -> Path:
    blocks = blocks or {"E": E, "PX": PX, "PY": PY, "PZ": PZ}
    columns = {f"{f}_{i}": v[:, i] for i in range(size) for f, v in blocks.items() if i < v.shape[1]}
    io.write(Table({**columns, "mass": np.array([170.0, 20.0]), "is_signal_new": np.array([1, 0])}), path)
    return path


def test_the_top_tagging_blocks_read_as_jagged_constituents_padding_dropped(tmp_path: Path) -> None:
    path = _landscape(tmp_path / "top.parquet")  # the layout is told by its columns, in any format
    assert {"constituent_E", "constituent_pt", "constituent_phi"} <= set(io.available_columns(path))
    assert "constituent_pdg_id" not in io.available_columns(path)
    table = io.read(path, columns=["constituent_E", "constituent_pt", "constituent_eta", "constituent_phi", "mass"])
    assert ak.to_list(ak.num(table["constituent_E"], axis=1)) == [3, 1]
    assert ak.to_list(table["constituent_pt"]) == [[100.0, 50.0, 1.0], [80.0]]
    np.testing.assert_allclose(ak.to_numpy(ak.flatten(table["constituent_eta"])), 0.0, atol=1e-12)
    np.testing.assert_allclose(ak.to_list(table["constituent_phi"])[1], [np.pi / 2])
    # chunk by chunk, the same columns
    chunks = list(io.iterate(path, columns=["constituent_pt"], step_size=1))
    assert [ak.to_list(c["constituent_pt"]) for c in chunks] == [[[100.0, 50.0, 1.0]], [[80.0]]]


def test_energies_of_calorimeter_layers_named_E_i_are_no_layout(tmp_path: Path) -> None:
    io.write(Table({"E_0": np.ones(3), "E_1": np.ones(3), "label": np.array([0, 1, 0])}), tmp_path / "layers.parquet")
    assert io.available_columns(tmp_path / "layers.parquet") == ["E_0", "E_1", "label"]


def test_damaged_blocks_are_named_when_the_constituents_are_read(tmp_path: Path) -> None:
    ragged = _landscape(tmp_path / "ragged.parquet", {"E": E, "PX": PX[:, :2], "PY": PY[:, :2], "PZ": PZ[:, :2]})
    with pytest.raises(DataError, match=r"ragged\.parquet holds .* unequal numbers \(E_0\.\.E_3, PX_0\.\.PX_1"):
        io.read(ragged, columns=["constituent_E"])
    assert len(io.read(ragged, columns=["mass"])) == 2  # the flat columns read as ever
    negative = E.copy()
    negative[1, 0] = -5.0
    path = _landscape(tmp_path / "negative.parquet", {"E": negative, "PX": PX, "PY": PY, "PZ": PZ})
    with pytest.raises(DataError, match=r"1 constituent values of E_i in 1 jets are negative \(the first in row 2: -5"):
        io.read(path, columns=["constituent_E"])
    nan = PX.copy()
    nan[0, 1] = np.nan
    path = _landscape(tmp_path / "nan.parquet", {"E": E, "PX": nan, "PY": PY, "PZ": PZ})
    with pytest.raises(DataError, match=r"PX_i in 1 jets are missing or infinite \(the first in row 1"):
        list(io.iterate(path, columns=["constituent_px"], step_size=1))


def _efn(path: Path, x: np.ndarray) -> Path:
    np.savez(path, X=x, y=np.array([1, 0]))
    return path


def test_the_efn_array_reads_with_ids_charges_and_the_masses_of_the_ids(tmp_path: Path) -> None:
    x = np.zeros((2, 3, 4))
    x[0, :2] = [[50.0, 0.5, 0.1, 22], [2.0, -1.0, 6.2, -211]]  # a photon and a π⁻ (φ in [0, 2π))
    x[1, 0] = [30.0, 0.0, 3.0, 2212]
    path = _efn(tmp_path / "qg.npz", x)
    assert io.read(path).column_names == ["X", "y"]  # every column: the stored ones, as the file is
    columns = [f"constituent_{k}" for k in ("pdg_id", "charge", "pt", "phi", "E")]
    table = io.read(path, columns=columns)
    assert ak.to_list(table["constituent_pdg_id"]) == [[22, -211], [2212]]
    assert ak.to_list(table["constituent_charge"]) == [[0, -1], [1]]
    np.testing.assert_allclose(ak.to_list(table["constituent_pt"])[0], [50.0, 2.0])
    np.testing.assert_allclose(ak.to_list(table["constituent_phi"])[0], [0.1, 6.2 - 2 * np.pi])
    pion = np.hypot(2.0, 0.13957)  # E = m_T cosh y with the pion's mass
    np.testing.assert_allclose(ak.to_list(table["constituent_E"])[0], [50.0 * np.cosh(0.5), pion * np.cosh(-1.0)])


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.ones((2, 3, 2)), r"'X' \(float64, shape \(n, 3, 2\)\) is not the EFN layout"),
        (np.ones((2, 3, 4), dtype=np.int64), r"shape \(n, 3, 4\)\) is not the EFN layout.*holds integers"),
        (np.concatenate([-np.ones((2, 3, 1)), np.ones((2, 3, 3))], axis=2), r"X\[\.\.\., 0\] \(pT\) .* negative"),
    ],
)
def test_an_efn_array_that_is_not_the_layout_is_named(tmp_path: Path, x: np.ndarray, message: str) -> None:
    path = _efn(tmp_path / "bad.npz", x)
    with pytest.raises(DataError, match=message):
        io.read(path, columns=["constituent_E"])
