from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

pytest.importorskip("fastjet")

from neyman.physics.kinematics import mass
from neyman.physics.substructure import (
    SUBSTRUCTURE_FEATURES,
    energy_correlation_ratios,
    nsubjettiness,
    softdrop_mass,
    substructure,
)


def _particles(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray) -> list[dict[str, float]]:
    return [
        {"px": p * np.cos(f), "py": p * np.sin(f), "pz": p * np.sinh(e), "E": p * np.cosh(e)}
        for p, e, f in zip(pt, eta, phi, strict=True)
    ]


def _prong_jet(
    centres: list[tuple[float, float]], rng: np.random.Generator, per_prong: int = 8
) -> list[dict[str, float]]:
    """A jet of narrow prongs of equal pT around the given (eta, phi) centres."""
    out: list[dict[str, float]] = []
    for e0, f0 in centres:
        pts = rng.uniform(5.0, 15.0, per_prong)
        out += _particles(pts, e0 + rng.normal(0, 0.01, per_prong), f0 + rng.normal(0, 0.01, per_prong))
    return out


@pytest.fixture
def jets() -> ak.Array:
    rng = np.random.default_rng(1)
    one = _prong_jet([(0.0, 0.0)], rng, per_prong=24)
    two = _prong_jet([(-0.2, 0.0), (0.2, 0.1)], rng, per_prong=12)
    three = _prong_jet([(-0.25, -0.1), (0.25, -0.1), (0.0, 0.3)], rng)
    return ak.Array([one, two, three])


def test_two_prong_jet_has_small_tau21_and_three_prong_small_tau32(jets: ak.Array) -> None:
    taus = nsubjettiness(jets, n_max=3)
    tau21 = taus[:, 1] / taus[:, 0]
    tau32 = taus[:, 2] / taus[:, 1]
    assert tau21[1] < 0.2 < tau21[0]
    assert tau32[2] < 0.2 < tau32[1]
    assert np.all(taus[:, 0] >= taus[:, 1]) and np.all(taus[:, 1] >= taus[:, 2])


def test_tau_n_is_zero_with_at_most_n_constituents() -> None:
    jet = ak.Array([_particles(np.array([10.0, 20.0]), np.array([0.0, 0.3]), np.array([0.0, 0.1]))])
    taus = nsubjettiness(jet, n_max=3)
    assert taus[0, 0] > 0 and taus[0, 1] == 0 and taus[0, 2] == 0


def test_tau1_of_two_particles_by_hand() -> None:
    # kT exclusive 1 axis = the sum; with equal pT the axis sits mid-way: tau1 = dR/2 / R0 (massless, small angles)
    jet = ak.Array([_particles(np.array([50.0, 50.0]), np.array([0.0, 0.0]), np.array([-0.1, 0.1]))])
    assert nsubjettiness(jet, n_max=1)[0, 0] == pytest.approx(0.1 / 0.8, rel=1e-3)


def test_energy_correlation_pair_sum_by_hand() -> None:
    # two particles: e3 = 0, e2 = z1 z2 dR
    jet = ak.Array([_particles(np.array([30.0, 10.0]), np.array([0.0, 0.4]), np.array([0.0, 0.0]))])
    c2, d2 = energy_correlation_ratios(jet)
    assert c2[0] == pytest.approx(0.0, abs=1e-12) and d2[0] == pytest.approx(0.0, abs=1e-12)


def test_energy_correlation_triple_sum_matches_explicit_loop(jets: ak.Array) -> None:
    c2, d2 = energy_correlation_ratios(jets[2:3], max_constituents=200)
    parts = jets[2]
    p = np.hypot(ak.to_numpy(parts.px), ak.to_numpy(parts.py))
    e = np.arcsinh(ak.to_numpy(parts.pz) / p)
    f = np.arctan2(ak.to_numpy(parts.py), ak.to_numpy(parts.px))
    z = p / p.sum()
    n = len(p)
    r = np.hypot(e[:, None] - e[None, :], f[:, None] - f[None, :])
    e2 = sum(z[i] * z[j] * r[i, j] for i in range(n) for j in range(i + 1, n))
    e3 = sum(
        z[i] * z[j] * z[k] * r[i, j] * r[i, k] * r[j, k]
        for i in range(n)
        for j in range(i + 1, n)
        for k in range(j + 1, n)
    )
    # the pair and triple sums run in float32 (a 1e-7 relative precision is ample for a feature)
    assert c2[0] == pytest.approx(e3 / e2**2, rel=1e-6)
    assert d2[0] == pytest.approx(e3 / e2**3, rel=1e-6)


def test_d2_separates_two_prong_from_one_prong(jets: ak.Array) -> None:
    _, d2 = energy_correlation_ratios(jets)
    assert d2[1] < d2[0]


def test_softdrop_removes_soft_wide_radiation() -> None:
    hard = _particles(np.array([100.0, 100.0]), np.array([0.0, 0.1]), np.array([0.0, 0.0]))
    soft = _particles(np.array([2.0]), np.array([0.6]), np.array([0.5]))
    jet = ak.Array([hard + soft, hard])
    groomed = softdrop_mass(jet)
    four = [sum(p[k] for p in hard) for k in ("E", "px", "py", "pz")]
    assert groomed[0] == pytest.approx(mass(*four), rel=1e-6)
    assert groomed[1] == pytest.approx(mass(*four), rel=1e-6)
    ungroomed = mass(*[sum(p[k] for p in hard + soft) for k in ("E", "px", "py", "pz")])
    assert ungroomed > groomed[0] + 1.0


def test_substructure_returns_all_features_finite(jets: ak.Array) -> None:
    empty_and_single = ak.Array([[], _particles(np.array([10.0]), np.array([0.0]), np.array([0.0]))])
    for sample in (jets, empty_and_single):
        out = substructure(sample)
        assert tuple(out) == SUBSTRUCTURE_FEATURES
        for values in out.values():
            assert values.shape == (len(sample),) and np.isfinite(values).all()


def test_nsubjettiness_measures_distances_in_rapidity_as_fastjet_does() -> None:
    """A wide two-prong jet at eta ~ 1.2: its one axis is massive, so its rapidity lies below its pseudorapidity."""
    pts, etas, phis = np.array([300.0, 200.0, 5.0]), np.array([1.0, 1.5, 1.2]), np.array([0.0, 0.5, 0.2])
    jet = ak.Array([_particles(pts, etas, phis)])
    px, py = np.sum(pts * np.cos(phis)), np.sum(pts * np.sin(phis))
    pz, energy = np.sum(pts * np.sinh(etas)), np.sum(pts * np.cosh(etas))
    axis_y, axis_phi = 0.5 * np.log((energy + pz) / (energy - pz)), np.arctan2(py, px)
    axis_eta = np.arcsinh(pz / np.hypot(px, py))
    dr_y = np.hypot(etas - axis_y, phis - axis_phi)  # massless constituents: their rapidity is their eta
    dr_eta = np.hypot(etas - axis_eta, phis - axis_phi)
    tau1 = nsubjettiness(jet, n_max=1, r0=0.8)[0, 0]
    assert tau1 == pytest.approx(np.sum(pts * dr_y) / (pts.sum() * 0.8), rel=1e-9)
    assert abs(tau1 / (np.sum(pts * dr_eta) / (pts.sum() * 0.8)) - 1) > 0.01  # the conventions differ here
