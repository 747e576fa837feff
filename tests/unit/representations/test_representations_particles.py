"""Particle sets from jagged constituents: kinematics, ordering, padding, standardisation."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from neyman.exceptions import ConfigError, DataError
from neyman.representations import ParticleScaler, ParticleSpec, particle_arrays
from neyman.table import Table


def _jets(constituents: list[list[tuple[float, float, float, int, int]]]) -> Table:
    """Jets from (pt, eta, phi, charge, pdg_id) constituents (massless)."""
    cols: dict[str, list[list[float]]] = {k: [] for k in ("E", "px", "py", "pz", "charge", "pdg_id")}
    for jet in constituents:
        pt = np.array([c[0] for c in jet])
        eta = np.array([c[1] for c in jet])
        phi = np.array([c[2] for c in jet])
        cols["px"].append(list(pt * np.cos(phi)))
        cols["py"].append(list(pt * np.sin(phi)))
        cols["pz"].append(list(pt * np.sinh(eta)))
        cols["E"].append(list(pt * np.cosh(eta)))
        cols["charge"].append([float(c[3]) for c in jet])
        cols["pdg_id"].append([float(c[4]) for c in jet])
    return Table({f"constituent_{k}": ak.Array(v) for k, v in cols.items()})


JETS = _jets(
    [
        # soft first: the set must come out ordered by pT
        [(10.0, 0.5, 3.10, 0, 22), (100.0, 0.4, 3.05, 1, 211), (50.0, 0.3, -3.10, -1, 11)],
        [(80.0, -1.0, 0.2, 0, 130)],
    ]
)


def test_constituents_are_ordered_padded_and_relative_to_the_jet_axis() -> None:
    arrays = particle_arrays(JETS, ParticleSpec(n_constituents=4, features=("log_pt", "deta", "dphi", "dr")))
    assert arrays.shape == (2, 4, 4)
    np.testing.assert_array_equal(arrays.mask, [[1, 1, 1, 0], [1, 0, 0, 0]])
    np.testing.assert_allclose(np.exp(arrays.features[0, :3, 0]), [100.0, 50.0, 10.0], rtol=1e-5)
    # the jet axis lies near phi = +-pi: dphi must wrap, not jump by 2 pi
    assert np.all(np.abs(arrays.points[0, :3, 1]) < 0.3)
    # one-constituent jet: the constituent is the axis
    np.testing.assert_allclose(arrays.points[1, 0], [0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(arrays.features[..., 3], np.hypot(arrays.features[..., 1], arrays.features[..., 2]))
    # padding is exactly zero everywhere
    for a in (arrays.features, arrays.points, arrays.vectors):
        assert not a[arrays.mask == 0].any()


def test_zero_momentum_entries_are_padding_not_particles() -> None:
    # a zero-padded array stored as a list column: (0, 0, 0, 0) entries, here first and last
    zero = (0.0, 0.0, 0.0, 0, 0)
    padded = _jets([[zero, *jet, zero, zero] for jet in ([(10.0, 0.5, 3.10, 0, 22), (100.0, 0.4, 3.05, 1, 211)],)])
    plain = _jets([[(10.0, 0.5, 3.10, 0, 22), (100.0, 0.4, 3.05, 1, 211)]])
    spec = ParticleSpec(n_constituents=6, features=("log_pt", "log_pt_rel", "deta", "dphi", "dr"))
    a, b = particle_arrays(padded, spec), particle_arrays(plain, spec)
    np.testing.assert_array_equal(a.mask, [[1, 1, 0, 0, 0, 0]])
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.summaries(), b.summaries())  # n_constituents counts the particles only


def test_the_order_and_the_float_width_of_the_file_change_no_bit() -> None:
    # a calorimeter-like jet: many cells, so that the jet axis is a long sum
    rng = np.random.default_rng(4)
    cells = [
        (float(pt), float(eta), float(phi), 0, 22)
        for pt, eta, phi in rng.uniform((1, -0.4, 0.5), (90, 0.4, 1.3), (60, 3))
    ]
    narrow = _jets([cells])
    narrow = Table({c: ak.values_astype(ak.Array(narrow[c]), np.float32) for c in narrow.column_names})
    order = rng.permutation(60)
    shuffled = Table({c: ak.Array([np.asarray(narrow[c][0])[order]]) for c in narrow.column_names})
    wide = Table({c: ak.values_astype(ak.Array(narrow[c]), np.float64) for c in narrow.column_names})
    spec = ParticleSpec(n_constituents=80, features=("log_pt", "deta", "dphi", "dr"))
    reference = particle_arrays(wide, spec)
    for other in (narrow, shuffled):
        arrays = particle_arrays(other, spec)
        np.testing.assert_array_equal(arrays.features, reference.features)
        np.testing.assert_array_equal(arrays.points, reference.points)


def test_nullable_lists_are_read_and_a_null_constituent_is_named(tmp_path) -> None:
    """pandas writes list<float> (32-bit offsets, nullable elements): the same jets as large_list<float not null>."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from neyman import io

    columns = {name: ak.to_arrow(ak.Array(JETS[name]), extensionarray=False) for name in JETS.column_names}
    nullable = pa.table({name: values.cast(pa.list_(pa.float32())) for name, values in columns.items()})
    pq.write_table(nullable, tmp_path / "lists.parquet")
    spec = ParticleSpec(n_constituents=4, features=("log_pt", "deta"))
    np.testing.assert_allclose(
        particle_arrays(io.read(tmp_path / "lists.parquet"), spec).features,
        particle_arrays(JETS, spec).features,
        rtol=1e-6,
    )
    holes = {
        name: ak.Array([[1.0, None], [2.0]] if name == "px" else [[1.0, 1.0], [2.0]])
        for name in ("E", "px", "py", "pz")
    }
    with pytest.raises(DataError, match=r"column constituent_px of the input holds 1 missing value\(s\) \(null\)"):
        particle_arrays(Table({f"constituent_{n}": v for n, v in holes.items()}), ParticleSpec(features=("deta",)))


def test_a_negative_energy_or_a_nan_is_refused_even_in_what_looks_like_padding() -> None:
    """log E of a negative energy would read 0 (1 GeV), and NaN px with E = 0 was dropped as padding."""

    def jets(e: float, px: float) -> Table:
        cols = {
            "E": [[50.0, e], [20.0]],
            "px": [[30.0, px], [20.0]],
            "py": [[1.0, 0.0], [0.0]],
            "pz": [[2.0, 0.0], [0.0]],
        }
        return Table({f"constituent_{n}": ak.Array(v) for n, v in cols.items()}, source="jets.parquet")

    spec = ParticleSpec(features=("log_e", "log_e_rel"))
    with pytest.raises(
        DataError, match=r"jets.parquet: 1 constituent values of column constituent_E in 1 jets are negative"
    ):
        particle_arrays(jets(-3.0, 3.0), spec)
    with pytest.raises(DataError, match=r"constituent_px in 1 jets are missing or infinite \(NaN, inf\).*row 1: nan"):
        particle_arrays(jets(0.0, float("nan")), spec)
    assert particle_arrays(jets(0.0, 0.0), spec).mask.sum() == 2  # true padding (E = 0, p = 0) is still padding


def test_pt_weighted_axis_offsets_balance() -> None:
    arrays = particle_arrays(JETS, ParticleSpec(n_constituents=3, features=("pt_rel", "deta", "dphi")))
    z, deta, dphi = arrays.features[0, :, 0], arrays.features[0, :, 1], arrays.features[0, :, 2]
    # pT_jet is the vector sum: at most the scalar sum, close to it for a collimated jet
    assert 1.0 <= z.sum() < 1.01
    # for small angles the pT-weighted offsets from the jet axis cancel
    assert abs(np.sum(z * deta)) < 5e-3 and abs(np.sum(z * dphi)) < 5e-3


def test_truncation_keeps_the_hardest_and_the_full_jet_axis() -> None:
    full = particle_arrays(JETS, ParticleSpec(n_constituents=3, features=("deta",)))
    cut = particle_arrays(JETS, ParticleSpec(n_constituents=1, features=("deta",)))
    assert cut.shape == (2, 1, 1)
    np.testing.assert_allclose(cut.features[:, 0], full.features[:, 0])


def test_particle_type_flags() -> None:
    flags = ("charge", "is_electron", "is_photon", "is_charged_hadron", "is_neutral_hadron")
    spec = ParticleSpec(n_constituents=3, features=flags)
    f = particle_arrays(JETS, spec).features
    np.testing.assert_array_equal(f[0, :3, 0], [1, -1, 0])  # pi+, e-, photon by decreasing pT
    np.testing.assert_array_equal(f[0, :3, 1], [0, 1, 0])
    np.testing.assert_array_equal(f[0, :3, 2], [0, 0, 1])
    np.testing.assert_array_equal(f[0, :3, 3], [1, 0, 0])
    np.testing.assert_array_equal(f[1, :1, 4], [1])  # K0L


def test_scaler_standardises_real_particles_leaves_flags_and_padding() -> None:
    rng = np.random.default_rng(3)
    jets = _jets(
        [[(float(rng.uniform(5, 200)), float(rng.normal(0, 0.3)), float(rng.normal(0, 0.3)), 1, 211)
          for _ in range(int(rng.integers(1, 30)))] for _ in range(200)]
    )  # fmt: skip
    spec = ParticleSpec(n_constituents=20, features=("log_pt", "deta", "charge"))
    arrays = particle_arrays(jets, spec)
    real = arrays.mask > 0
    unclipped = ParticleScaler(clip=None).fit(arrays).transform(arrays).features[real]
    assert np.abs(unclipped[:, :2].mean(axis=0)).max() < 1e-4
    np.testing.assert_allclose(unclipped[:, :2].std(axis=0), 1.0, rtol=1e-3)
    scaler = ParticleScaler(clip=1.5).fit(arrays)
    out = scaler.transform(arrays)
    assert np.abs(out.features).max() == pytest.approx(1.5)
    np.testing.assert_array_equal(out.features[real][:, 2], arrays.features[real][:, 2])  # charge untouched
    assert not out.features[~real].any()
    again = ParticleScaler.from_json(scaler.to_json()).transform(arrays)
    np.testing.assert_array_equal(again.features, out.features)


def test_bad_specs_and_inputs_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="log_ptt"):
        ParticleSpec(features=("log_ptt",))
    with pytest.raises(ConfigError, match="at least 1"):
        ParticleSpec(n_constituents=0)
    with pytest.raises(DataError, match="constituent_px"):
        particle_arrays(Table({"pt": np.ones(3)}))
