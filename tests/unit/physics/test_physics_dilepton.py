"""Dilepton event variables: M_T2, razor, super-razor, MET_rel, axial MET, UCI SUSY features."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.physics.dilepton import (
    UCI_SUSY_FEATURES,
    UCI_SUSY_HIGH_LEVEL,
    UCI_SUSY_LOW_LEVEL,
    FourMomenta,
    axial_met,
    four_momenta,
    met_rel,
    mt2,
    razor,
    super_razor,
    transverse_mass,
    uci_susy_features,
)
from neyman.physics.kinematics import eta, phi

W_MASS = 80.4


def _random_momenta(rng: np.random.Generator, n: int, *, masses: np.ndarray | None = None) -> FourMomenta:
    pt = rng.uniform(5.0, 200.0, n)
    azimuth = rng.uniform(-np.pi, np.pi, n)
    rapidity = rng.normal(0.0, 1.5, n)
    px, py, pz = pt * np.cos(azimuth), pt * np.sin(azimuth), pt * np.sinh(rapidity)
    m = np.zeros(n) if masses is None else masses
    return FourMomenta(np.sqrt(m * m + px * px + py * py + pz * pz), px, py, pz)


def _brute_force_mt2(p1: np.ndarray, p2: np.ndarray, met: tuple[float, float], chi: float) -> float:
    """Minimise max(m_T1^2, m_T2^2) over the splitting by nested 1-D searches (both convex)."""
    optimize = pytest.importorskip("scipy.optimize")

    def mt_sq(p: np.ndarray, qx: float, qy: float) -> float:
        e, px, py, pz = p
        m_sq = max(e * e - px * px - py * py - pz * pz, 0.0)
        et = math.sqrt(m_sq + px * px + py * py)
        return m_sq + chi * chi + 2.0 * (et * math.sqrt(chi * chi + qx * qx + qy * qy) - px * qx - py * qy)

    def worst(x: float, y: float) -> float:
        return max(mt_sq(p1, x, y), mt_sq(p2, met[0] - x, met[1] - y))

    bound = 5.0 * (p1[0] + p2[0] + math.hypot(*met) + chi)
    options = {"xatol": 1e-11 * bound}

    def inner(x: float) -> float:
        return float(
            optimize.minimize_scalar(
                lambda y: worst(x, y), bounds=(-bound, bound), method="bounded", options=options
            ).fun
        )

    best = optimize.minimize_scalar(inner, bounds=(-bound, bound), method="bounded", options=options)
    return math.sqrt(max(float(best.fun), 0.0))


def _w_pairs(rng: np.random.Generator, n: int) -> tuple[FourMomenta, FourMomenta, np.ndarray, np.ndarray]:
    """Two on-shell W -> l nu decays each, boosted in the transverse plane and along z."""
    leptons, nu_x, nu_y = [], np.zeros(n), np.zeros(n)
    for _ in range(2):
        cos_t = rng.uniform(-1.0, 1.0, n)
        sin_t = np.sqrt(1.0 - cos_t * cos_t)
        azimuth = rng.uniform(-np.pi, np.pi, n)
        half = 0.5 * W_MASS
        direction = np.stack([sin_t * np.cos(azimuth), sin_t * np.sin(azimuth), cos_t])
        pt_w = rng.exponential(60.0, n)
        phi_w = rng.uniform(-np.pi, np.pi, n)
        pz_w = rng.normal(0.0, 150.0, n)
        p_w = np.stack([pt_w * np.cos(phi_w), pt_w * np.sin(phi_w), pz_w])
        e_w = np.sqrt(W_MASS**2 + (p_w * p_w).sum(axis=0))
        beta = p_w / e_w
        gamma = e_w / W_MASS
        out = []
        for sign in (1.0, -1.0):  # lepton along +direction, neutrino along -direction in the W frame
            p = sign * half * direction
            bp = (beta * p).sum(axis=0)
            e_lab = gamma * (half + bp)
            p_lab = p + (gamma * gamma / (gamma + 1.0) * bp + gamma * half) * beta
            out.append((e_lab, p_lab))
        (e_l, p_l), (_, p_nu) = out
        leptons.append(FourMomenta(e_l, p_l[0], p_l[1], p_l[2]))
        nu_x += p_nu[0]
        nu_y += p_nu[1]
    return leptons[0], leptons[1], nu_x, nu_y


# --- M_T2 --------------------------------------------------------------------------------


@pytest.mark.parametrize("chi", [0.0, 50.0])
def test_mt2_matches_brute_force_minimisation(chi: float) -> None:
    rng = np.random.default_rng(11)
    n = 50
    p1 = _random_momenta(rng, n, masses=rng.uniform(0.5, 20.0, n))
    p2 = _random_momenta(rng, n, masses=rng.uniform(0.5, 20.0, n))
    mx, my = rng.normal(0.0, 80.0, n), rng.normal(0.0, 80.0, n)
    fast = mt2(p1, p2, mx, my, invisible_mass=chi)
    a, b = np.stack(p1), np.stack(p2)
    slow = np.array([_brute_force_mt2(a[:, i], b[:, i], (mx[i], my[i]), chi) for i in range(n)])
    np.testing.assert_allclose(fast, slow, rtol=1e-3, atol=1e-6)
    # the algebraic bisection is far more precise than the test demands
    assert np.max(np.abs(fast - slow) / slow) < 1e-6


def test_mt2_of_w_pairs_is_bounded_by_the_w_mass_and_reaches_it() -> None:
    rng = np.random.default_rng(2014)
    lep1, lep2, mx, my = _w_pairs(rng, 20_000)
    value = mt2(lep1, lep2, mx, my)
    assert np.isfinite(value).all()
    assert value.min() >= 0.0
    assert value.max() <= W_MASS * (1.0 + 1e-6)
    assert value.max() > 75.0


def test_mt2_massless_without_upstream_momentum_has_closed_form() -> None:
    # p_T^miss = -(p_T1 + p_T2), massless, chi = 0:  M_T2^2 = 2 (p_T1 p_T2 + p_T1 . p_T2)
    rng = np.random.default_rng(5)
    p1, p2 = _random_momenta(rng, 500), _random_momenta(rng, 500)
    value = mt2(p1, p2, -(p1.px + p2.px), -(p1.py + p2.py))
    expected_sq = 2.0 * (np.hypot(p1.px, p1.py) * np.hypot(p2.px, p2.py) + p1.px * p2.px + p1.py * p2.py)
    np.testing.assert_allclose(value, np.sqrt(expected_sq), rtol=1e-6, atol=1e-5)


def test_mt2_bounds_symmetry_and_cone_case() -> None:
    rng = np.random.default_rng(8)
    n = 300
    masses = rng.uniform(0.0, 30.0, n)
    p1, p2 = _random_momenta(rng, n, masses=masses), _random_momenta(rng, n)
    mx, my = rng.normal(0.0, 60.0, n), rng.normal(0.0, 60.0, n)
    value = mt2(p1, p2, mx, my, invisible_mass=10.0)
    np.testing.assert_allclose(value, mt2(p2, p1, mx, my, invisible_mass=10.0), rtol=1e-7)
    assert np.all(value >= masses + 10.0 - 1e-6)
    # any splitting of the missing momentum gives an upper bound
    split = np.maximum(
        transverse_mass(p1, 0.3 * mx, 0.3 * my, invisible_mass=10.0),
        transverse_mass(p2, 0.7 * mx, 0.7 * my, invisible_mass=10.0),
    )
    assert np.all(value <= split * (1.0 + 1e-7))
    # massless, chi = 0, missing momentum inside the cone of the two leptons: M_T2 = 0
    a = FourMomenta(np.array([50.0]), np.array([50.0]), np.array([0.0]), np.array([0.0]))
    b = FourMomenta(np.array([30.0]), np.array([0.0]), np.array([30.0]), np.array([0.0]))
    assert mt2(a, b, 20.0, 45.0)[0] == pytest.approx(0.0, abs=1e-3)


def test_mt2_finite_on_degenerate_inputs() -> None:
    lep = FourMomenta(
        np.array([50.0, 50.0, 0.0, 40.0]),
        np.array([50.0, 50.0, 0.0, 0.0]),
        np.zeros(4),
        np.array([0.0, 0.0, 0.0, 40.0]),
    )
    other = FourMomenta(
        np.array([30.0, 30.0, 0.0, 25.0]),
        np.array([30.0, -30.0, 0.0, 0.0]),
        np.zeros(4),
        np.array([0.0, 0.0, 0.0, -25.0]),
    )
    for met in [(0.0, 0.0), (10.0, 30.0)]:
        value = mt2(lep, other, *met)
        assert np.isfinite(value).all() and np.all(value >= 0.0)
    # zero missing momentum: the invisible particles take nothing, M_T2 = max(m_T(p_i, 0))
    massive = FourMomenta(np.array([60.0]), np.array([30.0]), np.array([0.0]), np.array([0.0]))
    first = FourMomenta(*(component[:1] for component in other))
    assert mt2(massive, first, 0.0, 0.0)[0] == pytest.approx(math.sqrt(60.0**2 - 30.0**2), rel=1e-6)
    # exactly parallel massless leptons (a degenerate conic pencil) stay finite and close
    para = mt2((40.0, 40.0, 0.0, 0.0), (25.0, 25.0, 0.0, 0.0), -40.0, 5.0)
    assert para.shape == () and para == pytest.approx(49.7103, rel=1e-3)


def test_mt2_marks_non_finite_events_and_handles_empty_input() -> None:
    value = mt2(([50.0, np.nan], [50.0, 1.0], [0.0, 0.0], [0.0, 0.0]), (30.0, 0.0, 30.0, 0.0), [np.inf, 10.0], 5.0)
    assert np.isnan(value).all()
    value = mt2(([50.0, 50.0], [50.0, 50.0], [0.0, 0.0], [0.0, 0.0]), (30.0, 0.0, 30.0, 0.0), [np.nan, 10.0], 5.0)
    assert np.isnan(value[0]) and np.isfinite(value[1])
    assert mt2(FourMomenta(*np.zeros((4, 0))), FourMomenta(*np.zeros((4, 0))), np.zeros(0), np.zeros(0)).shape == (0,)


def test_mt2_rejects_negative_invisible_mass() -> None:
    with pytest.raises(DataError, match="invisible_mass"):
        mt2((1.0, 1.0, 0.0, 0.0), (1.0, 0.0, 1.0, 0.0), 1.0, 1.0, invisible_mass=-1.0)


# --- razor ------------------------------------------------------------------------------------


def test_razor_mass_of_back_to_back_leptons_is_their_invariant_mass() -> None:
    e = np.array([40.0, 100.0])
    theta = np.array([0.3, 1.2])
    p1 = FourMomenta(e, e * np.sin(theta), np.zeros(2), e * np.cos(theta))
    p2 = FourMomenta(e, -e * np.sin(theta), np.zeros(2), -e * np.cos(theta))
    result = razor(p1, p2, np.zeros(2), np.zeros(2))
    np.testing.assert_allclose(result.m_r, 2.0 * e)
    np.testing.assert_allclose(result.m_tr, 0.0, atol=1e-12)
    np.testing.assert_allclose(result.r, 0.0, atol=1e-12)


def test_razor_is_longitudinally_invariant_and_bounded_for_w_pairs() -> None:
    rng = np.random.default_rng(3)
    lep1, lep2, mx, my = _w_pairs(rng, 5000)
    result = razor(lep1, lep2, mx, my)
    sum_pt = np.hypot(lep1.px, lep1.py) + np.hypot(lep2.px, lep2.py)
    assert np.all(result.m_r >= sum_pt * (1.0 - 1e-12))
    assert np.all(result.r >= 0.0)
    assert np.all(result.r <= np.sqrt(np.hypot(mx, my) / sum_pt) + 1e-12)
    assert np.median(result.r) < 1.0
    # M_T^R by hand: sqrt((MET (pT1 + pT2) - MET . (pT1 + pT2)) / 2)
    by_hand = np.sqrt(0.5 * (np.hypot(mx, my) * sum_pt - mx * (lep1.px + lep2.px) - my * (lep1.py + lep2.py)))
    np.testing.assert_allclose(result.m_tr, by_hand, rtol=1e-12)
    # a boost along the beam changes nothing
    boosted = razor(_boost_z(lep1, 0.6), _boost_z(lep2, 0.6), mx, my)
    np.testing.assert_allclose(boosted.m_r, result.m_r, rtol=1e-9)
    np.testing.assert_allclose(boosted.r, result.r, rtol=1e-9)


def _boost_z(p: FourMomenta, beta: float) -> FourMomenta:
    gamma = 1.0 / math.sqrt(1.0 - beta * beta)
    return FourMomenta(gamma * (p.energy + beta * p.pz), p.px, p.py, gamma * (p.pz + beta * p.energy))


def _rotate_xy(x: np.ndarray, y: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    c, s = math.cos(angle), math.sin(angle)
    return c * x - s * y, s * x + c * y


def _rotate(p: FourMomenta, angle: float) -> FourMomenta:
    return FourMomenta(p.energy, *_rotate_xy(p.px, p.py, angle), p.pz)


# --- super-razor --------------------------------------------------------------------------------


def test_super_razor_of_parents_at_rest_recovers_the_pair_mass() -> None:
    # two parents of mass 2 p* at rest, each -> massless lepton + massless invisible, decays in the transverse plane:
    # sqrt(s_R) = 4 p*, no transverse boost, and M_Delta^R = |p_T1 + p_T2| by the construction
    p_star = 60.0
    angles = np.array([0.4, 2.0, -1.1])
    p1 = FourMomenta(np.full(3, p_star), p_star * np.cos(angles), p_star * np.sin(angles), np.zeros(3))
    p2 = FourMomenta(np.full(3, p_star), p_star * np.cos(angles + 1.3), p_star * np.sin(angles + 1.3), np.zeros(3))
    mx, my = -(p1.px + p2.px), -(p1.py + p2.py)
    result = super_razor(p1, p2, mx, my)
    np.testing.assert_allclose(result.sqrt_s_r, 4.0 * p_star, rtol=1e-12)
    np.testing.assert_allclose(result.m_delta_r, np.hypot(mx, my), rtol=1e-9)


def test_super_razor_closed_form_invariances_and_ranges() -> None:
    rng = np.random.default_rng(4)
    lep1, lep2, mx, my = _w_pairs(rng, 4000)
    result = super_razor(lep1, lep2, mx, my)
    for column in result:
        assert np.isfinite(column).all()
    # sqrt(s_R) from the closed form of the paper, in the frame with equal and opposite p_z
    beta = (lep1.pz + lep2.pz) / (lep1.energy + lep2.energy)
    gamma = 1.0 / np.sqrt(1.0 - beta * beta)
    e_ll = gamma * ((lep1.energy + lep2.energy) - beta * (lep1.pz + lep2.pz))
    llx, lly = lep1.px + lep2.px, lep1.py + lep2.py
    cmx, cmy = llx + mx, lly + my
    dot = llx * cmx + lly * cmy
    closed = np.sqrt(2.0 * (e_ll**2 - dot + e_ll * np.sqrt(e_ll**2 + cmx**2 + cmy**2 - 2.0 * dot)))
    np.testing.assert_allclose(result.sqrt_s_r, closed, rtol=1e-9)
    np.testing.assert_allclose(e_ll, razor(lep1, lep2, mx, my).m_r, rtol=1e-9)
    assert np.all((result.dphi_r_beta >= 0.0) & (result.dphi_r_beta <= np.pi))
    assert np.all((result.cos_theta_r1 >= 0.0) & (result.cos_theta_r1 <= 1.0))
    assert np.all(result.m_delta_r >= 0.0) and np.all(result.m_delta_r <= result.sqrt_s_r * (1 + 1e-12))
    # invariant under a longitudinal boost, an azimuthal rotation and relabelling the leptons
    for other in (
        super_razor(_boost_z(lep1, -0.7), _boost_z(lep2, -0.7), mx, my),
        super_razor(_rotate(lep1, 1.1), _rotate(lep2, 1.1), *_rotate_xy(mx, my, 1.1)),
        super_razor(lep2, lep1, mx, my),
    ):
        for mine, theirs in zip(result, other, strict=True):
            np.testing.assert_allclose(theirs, mine, rtol=1e-7, atol=1e-7)


def test_super_razor_and_razor_finite_on_degenerate_inputs() -> None:
    zero = np.zeros(5)
    # collinear, back-to-back, along the beam, all-zero and identical leptons; no MET
    lep1 = FourMomenta(
        np.array([50.0, 50.0, 50.0, 0.0, 30.0]),
        np.array([50.0, 50.0, 0.0, 0.0, 30.0]),
        zero,
        np.array([0.0, 0.0, 50.0, 0.0, 0.0]),
    )
    lep2 = FourMomenta(
        np.array([20.0, 50.0, 40.0, 0.0, 30.0]),
        np.array([20.0, -50.0, 0.0, 0.0, 30.0]),
        zero,
        np.array([0.0, 0.0, 40.0, 0.0, 0.0]),
    )
    for met in [(zero, zero), (zero + 25.0, zero - 10.0)]:
        for column in (*super_razor(lep1, lep2, *met), *razor(lep1, lep2, *met)):
            assert np.isfinite(column).all()


# --- MET_rel and axial MET ---------------------------------------------------------------------


def test_met_rel_by_hand() -> None:
    met_x, met_y = np.array([50.0, 50.0, 50.0, -40.0]), np.array([0.0, 0.0, 0.0, 1e-9])
    phis = np.array(
        [
            [np.pi / 6, np.pi],  # closest at 30 degrees: MET sin(30 deg)
            [2.0, -2.0],  # everything beyond pi/2: MET
            [np.nan, np.nan],  # no object: MET
            [-3.1, 1.0],  # MET at phi ~ pi: distance wraps around to 2 pi - 3.1 - pi
        ]
    )
    value = met_rel(met_x, met_y, phis)
    assert value[0] == pytest.approx(25.0)
    assert value[1] == pytest.approx(50.0)
    assert value[2] == pytest.approx(50.0)
    assert value[3] == pytest.approx(40.0 * math.sin(np.pi - 3.1), rel=1e-6)
    # one object per event as a 1-D array, and no object at all
    assert met_rel(met_x[:1], met_y[:1], np.array([np.pi / 2]))[0] == pytest.approx(50.0)
    assert met_rel(met_x, met_y, np.zeros((4, 0)))[0] == pytest.approx(50.0)


def test_axial_met_sign_convention() -> None:
    met_x, met_y = np.zeros(4), np.full(4, 40.0)
    ll_x = np.array([0.0, 0.0, 25.0, 0.0])
    ll_y = np.array([-30.0, 30.0, 0.0, 0.0])
    np.testing.assert_allclose(axial_met(met_x, met_y, ll_x, ll_y), [40.0, -40.0, 0.0, 0.0], atol=1e-12)


# --- inputs and the UCI SUSY feature set ---------------------------------------------------------


def test_four_momenta_accepts_records_mappings_and_sequences() -> None:
    parts = ([10.0], [6.0], [8.0], [0.0])
    for value in (FourMomenta(*map(np.array, parts)), dict(zip(("E", "px", "py", "pz"), parts, strict=True)), parts):
        result = four_momenta(value)  # type: ignore[arg-type]
        assert result.energy.dtype == np.float64 and result.py[0] == 8.0
    with pytest.raises(DataError, match="pz"):
        four_momenta({"energy": [1.0], "px": [0.0], "py": [0.0]})
    with pytest.raises(DataError, match="4 components"):
        four_momenta(([1.0], [0.0]))


def test_uci_susy_features_names_order_shapes_and_values() -> None:
    assert len(UCI_SUSY_LOW_LEVEL) == 8 and len(UCI_SUSY_HIGH_LEVEL) == 10
    assert UCI_SUSY_FEATURES == UCI_SUSY_LOW_LEVEL + UCI_SUSY_HIGH_LEVEL
    rng = np.random.default_rng(9)
    lep1, lep2, mx, my = _w_pairs(rng, 256)
    features = uci_susy_features(lep1, lep2, mx, my)
    assert tuple(features) == UCI_SUSY_FEATURES
    for name, column in features.items():
        assert column.shape == (256,) and column.dtype == np.float64, name
        assert np.isfinite(column).all(), name
    np.testing.assert_allclose(features["lepton_1_pt"], np.hypot(lep1.px, lep1.py))
    np.testing.assert_allclose(features["lepton_2_eta"], eta(lep2.px, lep2.py, lep2.pz))
    np.testing.assert_allclose(features["missing_energy_phi"], phi(mx, my))
    np.testing.assert_allclose(features["mt2"], mt2(lep1, lep2, mx, my))
    np.testing.assert_allclose(features["r"] * features["m_r"], features["m_tr_2"], rtol=1e-12)
    assert np.all(features["met_rel"] <= features["missing_energy_magnitude"] + 1e-12)
    # a jet along the missing momentum makes MET_rel vanish
    with_jet = uci_susy_features(lep1, lep2, mx, my, other_phis=np.stack([phi(mx, my), np.full(256, np.nan)], axis=1))
    np.testing.assert_allclose(with_jet["met_rel"], 0.0, atol=1e-9)


def test_uci_susy_features_finite_on_degenerate_events() -> None:
    lep1 = {
        "energy": np.array([50.0, 50.0, 0.0]),
        "px": np.array([50.0, 50.0, 0.0]),
        "py": np.zeros(3),
        "pz": np.zeros(3),
    }
    lep2 = {
        "energy": np.array([50.0, 20.0, 0.0]),
        "px": np.array([-50.0, 20.0, 0.0]),
        "py": np.zeros(3),
        "pz": np.zeros(3),
    }
    features = uci_susy_features(lep1, lep2, np.zeros(3), np.zeros(3), other_phis=np.full((3, 2), np.nan))
    for name, column in features.items():
        assert np.isfinite(column).all(), name
