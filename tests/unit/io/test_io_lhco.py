"""The LHC Olympics feature layout: a pandas frame of two jets per event, read with the dijet columns added."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neyman import io
from neyman.exceptions import DataError
from neyman.io.lhco import DERIVED, MASS_ORDERED, RAW, derived_columns, is_lhco


def lhco_frame(n: int, seed: int = 0, label: bool = True) -> pd.DataFrame:
    """Events in the column order of events_anomalydetection_v2.features.h5."""
    rng = np.random.default_rng(seed)
    frame = {}
    for k in (1, 2):
        pt = rng.uniform(1200.0, 2000.0, n)
        phi = rng.uniform(-np.pi, np.pi, n) + (np.pi if k == 2 else 0.0)
        eta = rng.normal(0.0, 1.0, n)
        frame[f"pxj{k}"], frame[f"pyj{k}"], frame[f"pzj{k}"] = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        frame[f"mj{k}"] = rng.uniform(20.0, 600.0, n)
        tau1 = rng.uniform(0.1, 0.8, n)
        frame[f"tau1j{k}"], frame[f"tau2j{k}"] = tau1, tau1 * rng.uniform(0.1, 1.0, n)
        frame[f"tau3j{k}"] = frame[f"tau2j{k}"] * rng.uniform(0.1, 1.0, n)
    if label:
        frame["label"] = rng.integers(0, 2, n).astype(np.float64)
    return pd.DataFrame(frame)


@pytest.fixture()
def lhco_file(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    frame = lhco_frame(500)
    path = tmp_path / "events_anomalydetection_v2.features.h5"
    frame.to_hdf(path, key="df", mode="w")
    return path, frame


def test_reader_round_trips_the_layout_and_adds_the_dijet_columns(lhco_file: tuple[Path, pd.DataFrame]) -> None:
    path, frame = lhco_file
    table = io.read(path)
    assert table.column_names == [*frame.columns, *DERIVED]
    for column in frame.columns:
        np.testing.assert_array_equal(np.asarray(table[column]), frame[column].to_numpy())
    # the dijet mass from the four-momenta, computed independently
    e = sum(
        np.sqrt(frame[f"pxj{k}"] ** 2 + frame[f"pyj{k}"] ** 2 + frame[f"pzj{k}"] ** 2 + frame[f"mj{k}"] ** 2)
        for k in (1, 2)
    )
    p2 = sum((frame[f"{q}j1"] + frame[f"{q}j2"]) ** 2 for q in ("px", "py", "pz"))
    np.testing.assert_allclose(np.asarray(table["mjj"]), np.sqrt(e**2 - p2), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(table["ptj1"]), np.hypot(frame["pxj1"], frame["pyj1"]))
    np.testing.assert_allclose(np.asarray(table["tau21_j2"]), frame["tau2j2"] / frame["tau1j2"])
    light = np.minimum(frame["mj1"], frame["mj2"])
    np.testing.assert_allclose(np.asarray(table["mj_light"]), light)
    np.testing.assert_allclose(np.asarray(table["delta_mj"]), np.abs(frame["mj1"] - frame["mj2"]))
    heavier_first = frame["mj1"] > frame["mj2"]
    np.testing.assert_allclose(
        np.asarray(table["tau21_light"]), np.where(heavier_first, table["tau21_j2"], table["tau21_j1"])
    )


def test_derived_columns_are_read_alone_and_in_chunks(lhco_file: tuple[Path, pd.DataFrame]) -> None:
    path, _ = lhco_file
    whole = io.read(path, columns=["mjj", "label"])
    assert whole.column_names == ["mjj", "label"]
    chunks = list(io.iterate(path, columns=["mjj", *MASS_ORDERED], step_size=200))
    assert [len(c) for c in chunks] == [200, 200, 100]
    np.testing.assert_array_equal(np.concatenate([c["mjj"] for c in chunks]), np.asarray(whole["mjj"]))
    assert "mj_light" in io.available_columns(path)


def test_black_box_files_have_no_label(tmp_path: Path) -> None:
    path = tmp_path / "events_LHCO2020_BlackBox1.features.h5"
    lhco_frame(50, label=False).to_hdf(path, key="df", mode="w")
    table = io.read(path)
    assert "label" not in table.column_names and "mjj" in table.column_names


def test_layout_detection_needs_every_raw_column_and_no_derived_one() -> None:
    assert is_lhco(list(RAW))
    assert not is_lhco(list(RAW[:-1]))
    assert not is_lhco([*RAW, "mjj"])  # a file that already has the column keeps its own


def test_a_one_constituent_jet_has_tau_ratios_of_zero() -> None:
    raw = {c: np.ones(1) for c in RAW}
    raw["tau1j1"] = np.zeros(1)
    out = derived_columns(raw)
    assert out["tau21_j1"][0] == 0.0 and out["tau21_j2"][0] == 1.0


@pytest.mark.parametrize("column", ["tau1j1", "pxj2"])
def test_a_missing_raw_value_is_named_not_hidden_in_a_derived_column(tmp_path: Path, column: str) -> None:
    """A NaN tau1 became tau21 = 0 (a ratio's guard), and a NaN momentum was blamed on mjj."""
    frame = lhco_frame(300)
    frame.loc[9::10, column] = np.nan
    path = tmp_path / "nan.features.h5"
    frame.to_hdf(path, key="df", mode="w")
    with pytest.raises(DataError, match=rf"LHC Olympics column '{column}' holds 30 missing or infinite values \(the "
                       r"first in row 10\)"):  # fmt: skip
        io.read(path, columns=["mjj", "tau21_j1", "label"])
