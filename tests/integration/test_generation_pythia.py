"""Tiny Pythia + FastJet runs: physics sanity of the top-vs-QCD sample."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("fastjet")

from neyman import io
from neyman.generation.jets import JET_FEATURES
from neyman.generation.pythia import generate, generate_class, generate_table
from neyman.table import Table

N_JETS = 150


@pytest.fixture(scope="module")
def sample() -> tuple[Table, dict[str, Any]]:
    return generate_table("top_vs_qcd", N_JETS, seed=3)


def test_top_mass_peaks_near_top_mass_and_qcd_falls(sample: tuple[Table, dict[str, Any]]) -> None:
    table, _ = sample
    label = table["label"]
    assert (label == 1).sum() == N_JETS and (label == 0).sum() == N_JETS
    bins = np.arange(0.0, 300.0, 12.5)
    top, _ = np.histogram(table["mass"][label == 1], bins=bins)
    peak = bins[np.argmax(top)] + 6.25
    assert 160.0 <= peak <= 185.0
    qcd = table["mass"][label == 0]
    assert np.mean(qcd < 100.0) > np.mean(qcd > 150.0)
    assert np.median(qcd) < np.median(table["mass"][label == 1])


def test_tau32_lower_for_top_than_qcd(sample: tuple[Table, dict[str, Any]]) -> None:
    table, _ = sample
    label = table["label"]
    assert table["tau32"][label == 1].mean() < table["tau32"][label == 0].mean() - 0.1


def test_columns_finite_and_in_window(sample: tuple[Table, dict[str, Any]]) -> None:
    table, _ = sample
    for name in JET_FEATURES:
        assert np.isfinite(table[name]).all(), name
    for name in table.column_names:
        if name.startswith("constituent_"):
            assert np.isfinite(ak.to_numpy(ak.flatten(table[name]))).all(), name
    assert np.all((table["pt"] > 550) & (table["pt"] < 650) & (np.abs(table["eta"]) < 2))
    n_stored = ak.to_numpy(ak.num(table["constituent_pt"], axis=1))
    assert np.all(n_stored == np.minimum(table["n_constituents"], 200))
    pts = table["constituent_pt"]
    assert ak.all(pts[:, :-1] >= pts[:, 1:])


def test_cross_section_positive_and_from_pythia_info(sample: tuple[Table, dict[str, Any]]) -> None:
    _, provenance = sample
    top, qcd = provenance["classes"]
    for cls in (top, qcd):
        assert cls["cross_section_pb"] > 0 and cls["cross_section_error_pb"] >= 0
        assert cls["events_accepted"] == cls["events_generated"] and cls["events_tried"] >= cls["events_accepted"]
        assert cls["pythia_version"].startswith("8.")
    assert qcd["cross_section_pb"] > 10 * top["cross_section_pb"]


def test_same_seed_same_output_and_parquet_round_trip(tmp_path: Path) -> None:
    a, prov_a = generate_class("top_vs_qcd", 0, 10, seed=11, batch_size=50)
    b, prov_b = generate_class("top_vs_qcd", 0, 10, seed=11, batch_size=50)
    assert a.column_names == b.column_names
    for name in a.column_names:
        assert ak.to_list(a[name]) == ak.to_list(b[name]), name
    assert prov_a["cross_section_pb"] == prov_b["cross_section_pb"]
    c, _ = generate_class("top_vs_qcd", 0, 10, seed=12, batch_size=50)
    assert not np.array_equal(a["pt"], c["pt"])

    out = generate("top_vs_qcd", 5, tmp_path / "jets.parquet", seed=1, batch_size=50, detector="none")
    read = io.read(out)
    assert len(read) == 10 and set(read.column_names) == set(a.column_names)
    provenance = json.loads(out.with_suffix(".provenance.json").read_text())
    assert provenance["classes"][0]["detector"] is None
